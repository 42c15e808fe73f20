"""The approval machine (C4.3.1, C2.2): file a request, route it, decide it, once for every kind.

A request of any registered kind (access.kinds, access.catalog) names customers; the approvers
their levels require for that kind (see `routing`) each decide once; the last approval does what
the kind says (the access kind creates time-bound grants, C4.2.1; a level change lowers the
level, C2.2). Nobody approves their own request, and any rejection ends it. Every step is
audited, a refusal too, and the approvers and the requester hear of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from baomi import clock
from baomi.access.approvers import approver_ids
from baomi.access.catalog import ACCESS, kind_of
from baomi.access.events import event, refuse
from baomi.access.kinds import Filed, Filing, RequestKind
from baomi.access.models import access_request_approvals as approvals
from baomi.access.models import access_request_customers as request_customers
from baomi.access.models import access_requests as requests
from baomi.access.queries import load_request, request_out
from baomi.access.routing import OFFICER, Slot, SlotRole, nearest_head, route
from baomi.access.schemas import AccessRequestIn, AccessRequestOut, RequestStatus
from baomi.audit.context import RequestContext
from baomi.audit.service import append
from baomi.audit.tags import Action
from baomi.customers.vault import Vault
from baomi.errors import Conflict, Forbidden
from baomi.ids import new_id
from baomi.notifications import triggers
from baomi.security.actor import Actor
from baomi.security.levels import Levels
from baomi.security.roles import Permission, Role
from baomi.users.service import active_user_ids_with_role, list_departments

__all__ = ["approver_ids", "create_request", "decide_request", "submit"]

In = TypeVar("In")


def _route(
    conn: Connection, kind: RequestKind[Any], actor: Actor, levels: Levels, filing: Filing
) -> list[Slot]:
    """Return the approvals the filed customers' levels need for this kind of request."""
    depts = list_departments(conn)
    parents = {d.id: d.parent_id for d in depts}
    heads = {d.id: d.head_user_id for d in depts}
    return route(
        requester_id=actor.user_id,
        requester_head=nearest_head(actor.department_id, parents, heads),
        customer_heads=[
            (levels.rule_of(t.level), nearest_head(t.department_id, parents, heads))
            for t in filing.targets
        ],
        wanted=kind.approvers,
    )


def _check_officers(conn: Connection, actor: Actor, ctx: RequestContext, slots: list[Slot]) -> None:
    """Refuse a request that needs more distinct security officers than the company has: it
    could never be approved, and would wait unseen (issue 17.8)."""
    needed = slots.count(OFFICER)
    if needed and needed > len(active_user_ids_with_role(conn, Role.SECURITY_OFFICER)):
        refuse(
            Conflict(
                f"this request needs {needed} different security officers to approve it and the "
                "company has fewer: ask the security officer to appoint another",
                code="approvers_unavailable",
            ),
            ctx,
            actor,
            Action.ACCESS_REQUEST_CREATE,
        )


def _label(slot: Slot) -> str:
    return slot.user_id or slot.role.value


def submit(
    conn: Connection,
    *,
    kind: RequestKind[In],
    actor: Actor,
    ctx: RequestContext,
    vault: Vault,
    mail: bool,
    request_in: In,
    now: datetime | None = None,
) -> AccessRequestOut:
    """File a request of `kind`, routed to the approvers its customers' levels need for it.

    `vault` holds the company's level rules (C2.2) and the door's keys; `mail` says whether the
    notices go out by mail too. Both come from the caller's edge, which read its settings.
    """
    if kind_of(kind.code) is not kind:
        raise LookupError(f"the request kind {kind.code!r} is not the one registered")
    now = now or clock.utcnow()
    filing = kind.check(conn, actor=actor, ctx=ctx, vault=vault, request_in=request_in, now=now)
    slots = _route(conn, kind, actor, vault.levels, filing)
    _check_officers(conn, actor, ctx, slots)
    request_id = new_id()
    conn.execute(
        insert(requests).values(
            id=request_id,
            kind=kind.code,
            requester_id=actor.user_id,
            purpose=filing.purpose,
            details=filing.details,
            status=RequestStatus.PENDING.value,
            created_at=now,
        )
    )
    customer_ids = [t.customer_id for t in filing.targets]
    conn.execute(
        insert(request_customers),
        [{"request_id": request_id, "customer_id": c} for c in customer_ids],
    )
    conn.execute(
        insert(approvals),
        [
            {"request_id": request_id, "slot": i, "role": s.role.value, "approver_id": s.user_id}
            for i, s in enumerate(slots)
        ],
    )
    details = {**filing.audit_details, "approvers": [_label(s) for s in slots]}
    for customer_id in customer_ids:
        append(
            conn,
            event(
                ctx,
                actor,
                Action.ACCESS_REQUEST_CREATE,
                customer_id=customer_id,
                object_id=request_id,
                fields=filing.audit_fields,
                details=details,
            ),
        )
    # C4.3.1: every approver who must decide hears of it (for the officer's slot, every officer).
    triggers.request_filed(
        conn,
        request_id=request_id,
        requester=actor,
        approver_ids=[s.user_id for s in slots if s.user_id],
        needs_officer=any(s.role == SlotRole.SECURITY_OFFICER for s in slots),
        customer_count=len(customer_ids),
        hours=kind.hours(filing.details),
        now=now,
        mail=mail,
        request_kind=kind.code,
    )
    return request_out(conn, load_request(conn, request_id), now)


def create_request(
    conn: Connection,
    *,
    actor: Actor,
    ctx: RequestContext,
    vault: Vault,
    mail: bool,
    request_in: AccessRequestIn,
    now: datetime | None = None,
) -> AccessRequestOut:
    """File a request for time-bound access to customers (C4.3.1)."""
    return submit(
        conn,
        kind=ACCESS,
        actor=actor,
        ctx=ctx,
        vault=vault,
        mail=mail,
        request_in=request_in,
        now=now,
    )


def _my_open_slot(
    conn: Connection, *, actor: Actor, ctx: RequestContext, req: Any, action: Action
) -> tuple[Any, Sequence[Any]]:
    """Return the slot `actor` decides in and all the request's slots, or refuse (audited)."""
    rows = conn.execute(
        select(approvals).where(approvals.c.request_id == req.id).order_by(approvals.c.slot)
    ).all()
    officer = actor.can(Permission.GRANT_MANAGE)
    mine = [
        r
        for r in rows
        if r.approver_id == actor.user_id or (officer and r.role == SlotRole.SECURITY_OFFICER)
    ]
    if actor.user_id == req.requester_id or not mine:
        code = "self_approval" if actor.user_id == req.requester_id else "not_an_approver"
        refuse(
            Forbidden("you are not an approver of this request", code=code),
            ctx,
            actor,
            action,
            object_id=req.id,
        )
    if req.status != RequestStatus.PENDING:
        refuse(
            Conflict(f"the request is already {req.status}", code="request_not_pending"),
            ctx,
            actor,
            action,
            object_id=req.id,
        )
    open_slots = [r for r in mine if r.decision is None]
    # Each person decides once: an officer who decided one officer slot takes no other.
    if not open_slots or any(r.decided_by == actor.user_id for r in rows):
        refuse(
            Conflict("you have already decided on this request", code="already_decided"),
            ctx,
            actor,
            action,
            object_id=req.id,
        )
    return open_slots[0], rows


def _filed(conn: Connection, req: Any) -> Filed:
    customer_ids = conn.execute(
        select(request_customers.c.customer_id)
        .where(request_customers.c.request_id == req.id)
        .order_by(request_customers.c.customer_id)
    ).scalars()
    return Filed(
        id=req.id,
        requester_id=req.requester_id,
        purpose=req.purpose,
        customer_ids=list(customer_ids),
        details=req.details,
    )


def decide_request(
    conn: Connection,
    *,
    actor: Actor,
    ctx: RequestContext,
    vault: Vault,
    mail: bool,
    request_id: str,
    approve: bool,
    comment: str | None = None,
    now: datetime | None = None,
) -> AccessRequestOut:
    """Record one approver's decision; the last approval does what the kind says, any
    rejection ends the request."""
    now = now or clock.utcnow()
    action = Action.ACCESS_REQUEST_APPROVE if approve else Action.ACCESS_REQUEST_REJECT
    # Locked so that two approvers deciding at once cannot both miss being the last one.
    req = load_request(conn, request_id, for_update=True)
    kind = kind_of(req.kind)
    slot, rows = _my_open_slot(conn, actor=actor, ctx=ctx, req=req, action=action)
    conn.execute(
        update(approvals)
        .where(approvals.c.request_id == req.id, approvals.c.slot == slot.slot)
        .values(
            decision="approved" if approve else "rejected",
            decided_by=actor.user_id,
            decided_at=now,
            comment=comment,
        )
    )
    remaining = [r for r in rows if r.decision is None and r.slot != slot.slot]
    final = not approve or not remaining
    grant_ids: list[str] = []
    effect_details: dict[str, Any] = {}
    if final:
        status = RequestStatus.APPROVED if approve else RequestStatus.REJECTED
        conn.execute(
            update(requests).where(requests.c.id == req.id).values(status=status, decided_at=now)
        )
        filed = _filed(conn, req)
        if approve:
            effect = kind.approve(conn, actor=actor, ctx=ctx, vault=vault, request=filed, now=now)
            grant_ids, effect_details = effect.grant_ids, effect.audit_details
        else:
            kind.reject(conn, actor=actor, ctx=ctx, request=filed, now=now)
    append(
        conn,
        event(
            ctx,
            actor,
            action,
            object_id=req.id,
            details={"final": final, "slot": slot.role, "grants": grant_ids, **effect_details},
        ),
    )
    out = request_out(conn, load_request(conn, req.id), now)
    if final:  # C4.3.1: the requester hears the outcome
        hours = kind.hours(req.details)
        triggers.request_decided(
            conn,
            request_id=req.id,
            requester_id=req.requester_id,
            decider=actor,
            approved=approve,
            customer_count=len(out.customer_ids),
            hours=hours,
            # A kind that grants no hours of access has no end to tell.
            ends_at=now + timedelta(hours=hours) if approve and hours else None,
            now=now,
            mail=mail,
            request_kind=req.kind,
        )
    return out
