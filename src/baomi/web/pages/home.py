"""The home page, per role: my customers, requests waiting for me, my grants ending soon,
recent alerts; for heads and the security officer, the access and reveal volume charts of the
people they oversee (C3.2); for the auditor the sealing status; for the administrator the
organisation's size. Everything comes from the same services as the API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from baomi import clock
from baomi.access import queries
from baomi.access.queries import ListRole
from baomi.access.schemas import RequestStatus
from baomi.api.deps import Conn, Ctx, VaultDep
from baomi.audit import search as audit_search
from baomi.audit.service import actor_event, append
from baomi.audit.tags import Action
from baomi.customers import search as customer_search
from baomi.grants.service import list_own_grants
from baomi.security.roles import Permission
from baomi.users.service import list_departments, list_users
from baomi.web import activity, charts, templating
from baomi.web.i18n import Formats
from baomi.web.nav import mounted
from baomi.web.render import page
from baomi.web.routing import page_router
from baomi.web.viewer import PageViewer, Viewer

router = page_router()

MY_CUSTOMERS = 8
# A grant ending within this window is flagged on the home page.
EXPIRING_SOON = timedelta(hours=72)


@router.get("/")
def get_home(
    request: Request, conn: Conn, ctx: Ctx, vault: VaultDep, viewer: PageViewer
) -> Response:
    actor = viewer.actor
    now = clock.utcnow()
    context: dict[str, Any] = {"now": now, "expiring_soon": now + EXPIRING_SOON}
    names = {u.id: u.display_name for u in list_users(conn)}
    context["names"] = names
    if actor.can(Permission.CUSTOMER_WORK):
        context["my_customers"] = customer_search.list_customers(
            conn,
            actor=actor,
            ctx=ctx,
            vault=vault,
            handler_id=actor.user_id,
            page_size=MY_CUSTOMERS,
        )
        context["my_requests"] = [
            r
            for r in queries.list_requests(conn, actor=actor, role=ListRole.MINE, now=now)
            if r.status == RequestStatus.PENDING
        ]
        context["my_grants"] = list_own_grants(conn, actor=actor)
    if actor.can(Permission.CUSTOMER_WORK) or actor.can(Permission.GRANT_MANAGE):
        context["to_approve"] = queries.list_requests(
            conn, actor=actor, role=ListRole.TO_APPROVE, now=now
        )
    overseen: list[str] = []
    if activity.oversees(actor):
        volume = activity.volume(conn, actor=actor, ctx=ctx, now=now)
        overseen = [p.user_id for p in volume.people]
        context["volume"] = volume
        context["charts"] = _charts(viewer, volume)
    count, denials = activity.recent_denials(conn, user_ids=[actor.user_id, *overseen], now=now)
    context["denial_count"], context["denials"] = count, denials
    context["locked_accounts"] = activity.locked_accounts(conn, actor)
    if actor.can(Permission.AUDIT_READ):
        context["audit_status"] = audit_search.status(conn)
        append(
            conn,
            actor_event(ctx=ctx, actor=actor, action=Action.AUDIT_VERIFY, details={"status": True}),
        )
    if actor.can(Permission.USER_MANAGE):
        users = list_users(conn)
        context["user_count"] = sum(1 for u in users if u.is_active)
        context["department_count"] = len(list_departments(conn))
    context["links"] = {
        path: mounted(request, path)
        for path in ("/customers", "/customers/{customer_id}", "/access", "/audit", "/admin")
    }
    return page(request, viewer, "home.html", **context)


def _charts(viewer: Viewer, volume: activity.Volume) -> list[charts.Chart]:
    """The two charts of the overseen people's volume, each with its text alternative."""
    locale = viewer.locale
    formats = Formats(locale)
    access_label = templating.translate(locale, "Records opened")
    reveal_label = templating.translate(locale, "Fields revealed")
    days = [formats.day(d) for d in volume.days]
    per_day = charts.columns(
        chart_id="chart-per-day",
        title=templating.translate(locale, "Access and reveals per day"),
        description=templating.translate(
            locale,
            "Last %(days)s days, %(people)s people: %(access)s records opened and "
            "%(reveal)s fields revealed in total.",
            days=len(volume.days),
            people=len(volume.people),
            access=volume.totals.access,
            reveal=volume.totals.reveal,
        ),
        categories=days,
        series=[
            charts.Series("access", access_label, [volume.per_day[d].access for d in volume.days]),
            charts.Series("reveal", reveal_label, [volume.per_day[d].reveal for d in volume.days]),
        ],
    )
    people = volume.people
    busiest = max(people, key=lambda p: volume.per_person[p.user_id].total, default=None)
    per_person = charts.rows(
        chart_id="chart-per-person",
        title=templating.translate(locale, "Access and reveals per person"),
        description=templating.translate(
            locale,
            "Last %(days)s days. Most active: %(name)s with %(total)s.",
            days=len(volume.days),
            name=busiest.display_name if busiest else "—",
            total=volume.per_person[busiest.user_id].total if busiest else 0,
        ),
        categories=[p.display_name for p in people],
        series=[
            charts.Series(
                "access", access_label, [volume.per_person[p.user_id].access for p in people]
            ),
            charts.Series(
                "reveal", reveal_label, [volume.per_person[p.user_id].reveal for p in people]
            ),
        ],
    )
    return [per_day, per_person]
