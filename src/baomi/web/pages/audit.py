"""The auditor's pages (C1.3, C6): search the audit log, see and run its verification, and
download an event's inclusion proof as a file that `baomi.audit.proofcheck` checks offline.

Only the auditor's role opens them (三员分立). Every read of the log is itself an audit event,
as through the API and the CLI. Events carry ids, tags and field names: no customer data.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import BackgroundTasks, Request
from fastapi.responses import Response

from baomi.api.deps import Conn, Ctx, EngineDep
from baomi.audit import api as audit_api
from baomi.audit import runner, search
from baomi.audit.service import actor_event, append
from baomi.audit.settings import AuditSettings
from baomi.audit.tags import Action
from baomi.users.service import list_users
from baomi.web import audit_view
from baomi.web.audit_view import Filters, Verification
from baomi.web.permits import AuditorViewer
from baomi.web.render import page
from baomi.web.routing import page_router
from baomi.web.viewer import Viewer

router = page_router()


def _settings(request: Request) -> AuditSettings:
    return audit_api.audit_settings(request)


def _audit_page(
    request: Request,
    conn: Conn,
    ctx: Ctx,
    engine: EngineDep,
    viewer: Viewer,
    *,
    verification: Verification | None = None,
) -> Response:
    params = request.query_params
    filters = Filters.from_query(params)
    query = filters.query()
    people = {u.id: u for u in list_users(conn)}
    # A username finds the person's events by id too: refused sign-ins carry the id only.
    ids = {u.username: u.id for u in people.values()}
    if query["actor"] in ids:
        query["actor"] = ids[query["actor"]]
    found: dict[str, Any] = {"items": [], "next_before_id": None}
    if not filters.errors:
        found = search.search(conn, **query)
    status = search.status(conn)
    status["startupCheck"] = runner.startup_check(engine, _settings(request)) or "ok"
    # The log audits its own readers (C1.3): the search, and the look at its sealing status.
    append(
        conn,
        actor_event(
            ctx=ctx,
            actor=viewer.actor,
            action=Action.AUDIT_SEARCH,
            reason="auditor",
            customer_id=query["customer_id"],
            details={"page": "web", "filters": sorted(filters.link())},
        ),
    )
    append(
        conn,
        actor_event(
            ctx=ctx,
            actor=viewer.actor,
            action=Action.AUDIT_VERIFY,
            reason="auditor",
            details={"status": True},
        ),
    )
    return page(
        request,
        viewer,
        "audit.html",
        status=422 if filters.errors else 200,
        filters=filters,
        events=[audit_view.for_display(item) for item in found["items"]],
        next_before_id=found["next_before_id"],
        paged=bool(filters.before),
        audit_status=status,
        verification=verification,
        actions=audit_view.ACTIONS,
        decisions=audit_view.DECISIONS,
        action_label=audit_view.action_label,
        people=people,
    )


@router.get("/audit")
def get_audit(
    request: Request, conn: Conn, ctx: Ctx, engine: EngineDep, viewer: AuditorViewer
) -> Response:
    return _audit_page(request, conn, ctx, engine, viewer)


@router.post("/audit/verify")
def post_verify(
    request: Request, conn: Conn, ctx: Ctx, engine: EngineDep, viewer: AuditorViewer
) -> Response:
    """Run the full verification now, as `baomi audit verify` does, and show its result."""
    verification = audit_view.run_verification(engine, _settings(request))
    report = verification.report
    details: dict[str, Any] = {"ok": verification.ok}
    if report is not None:
        details.update(events=report.events, checkpoints=report.checkpoints)
        if report.problem is not None:
            details["problem"] = report.problem.kind
    append(
        conn,
        actor_event(
            ctx=ctx,
            actor=viewer.actor,
            action=Action.AUDIT_VERIFY,
            reason="full_verification",
            details=details,
        ),
    )
    return _audit_page(request, conn, ctx, engine, viewer, verification=verification)


@router.get("/audit/events/{event_id}/proof")
def get_proof(
    request: Request,
    conn: Conn,
    ctx: Ctx,
    engine: EngineDep,
    tasks: BackgroundTasks,
    viewer: AuditorViewer,
    event_id: int,
) -> Response:
    """The event's inclusion proof as a JSON file (sealed first if it is not yet), the same
    document as GET /api/v1/audit/events/{id}/proof."""
    doc = audit_api.get_proof(event_id, conn, ctx, viewer.actor, engine, _settings(request), tasks)
    body = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    filename = f"baomi-audit-event-{event_id}-proof.json"
    return Response(
        content=body.encode("utf-8"),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
