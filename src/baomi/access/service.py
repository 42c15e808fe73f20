"""Access requests (C4.3.1): access only for work need, through the permission-approval process.

A salesperson asks for a customer's record or named fields, stating purpose and duration; the
approvers the customer's level requires (see `routing`) each decide once; the last approval
creates one time-bound grant per customer, which expires by itself (C4.2.1). Nobody approves
their own request, and any rejection ends it. Every step is audited; a refusal is audited too.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, NoReturn

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from baomi.access.approvers import approver_ids
from baomi.access.level_change import complete_level_change
from baomi.access.models import access_request_approvals as approvals
from baomi.access.models import access_request_customers as request_customers
from baomi.access.models import access_requests as requests
from baomi.access.queries import load_request, request_out
from baomi.access.routing import Slot, SlotRole, nearest_head, route
from baomi.access.schemas import AccessRequestIn, AccessRequestOut, RequestKind, RequestStatus
from baomi.audit.context import RequestContext
from baomi.audit.service import actor_event, append
from baomi.audit.tags import Action
from baomi.clock import utcnow
from baomi.customers.facts import customer_facts
from baomi.customers.fields import SENSITIVITY
from baomi.errors import BaomiError, Conflict, Forbidden, NotFound, ValidationFailed
from baomi.grants.service import insert_grant
from baomi.ids import is_id, new_id
from baomi.notifications import triggers
from baomi.security.actor import Actor
from baomi.security.policy import standing
from baomi.security.roles import Permission
from baomi.users.service import list_departments, load_actor

__all__ = ["approver_ids", "create_request", "decide_request"]


def _event(ctx: RequestContext, actor: Actor, action: Action, **kwargs: Any) -> dict[str, Any]:
    return actor_event(ctx=ctx, actor=actor, action=action, **kwargs)


def _refuse(
    error: BaomiError, ctx: RequestContext, actor: Actor, action: Action, **kw: Any
) -> NoReturn:
    """Raise `error` carrying the audit event of the refusal (written after the rollback)."""
    raise error.with_audit(_event(ctx, actor, action, allowed=False, reason=error.code, **kw))


def _customer_heads(
    conn: Connection, *, actor: Actor, ctx: RequestContext, customer_ids: list[str]
) -> tuple[list[tuple[str, str | None]], str | None]:
    """Return each customer's (level, head) and the requester's head; refuse what must be."""
    depts = list_departments(conn)
    parents = {d.id: d.parent_id for d in depts}
    heads = {d.id: d.head_user_id for d in depts}
    out: list[tuple[str, str | None]] = []
    for customer_id in customer_ids:
        facts = customer_facts(conn, customer_id)
        if facts is None:
            # Answered exactly like any customer the requester may not see (no probing).
            _refuse(
                NotFound("no such customer"),
                ctx,
                actor,
                Action.ACCESS_REQUEST_CREATE,
                customer_id=customer_id if is_id(customer_id) else None,
            )
        if standing(actor, facts) is not None:
            _refuse(
                Conflict("you already have access to this customer", code="already_has_access"),
                ctx,
                actor,
                Action.ACCESS_REQUEST_CREATE,
                customer_id=customer_id,
            )
        out.append((facts.level, nearest_head(facts.department_id, parents, heads)))
    return out, nearest_head(actor.department_id, parents, heads)


def create_request(
    conn: Connection,
    *,
    actor: Actor,
    ctx: RequestContext,
    request_in: AccessRequestIn,
    now: datetime | None = None,
) -> AccessRequestOut:
    """File a request for time-bound access, routed to the approvers its customers' levels need."""
    now = now or utcnow()
    if not actor.can(Permission.CUSTOMER_WORK):
        _refuse(
            Forbidden("your role cannot hold customer data", code="role_without_customer_access"),
            ctx,
            actor,
            Action.ACCESS_REQUEST_CREATE,
        )
    fields = request_in.fields
    if fields is not None:
        unknown = sorted(set(fields) - set(SENSITIVITY))
        if unknown or not fields:
            raise ValidationFailed(
                [
                    {
                        "field": "fields",
                        "code": "fields_unknown",
                        "message": f"unknown or empty field list: {unknown}",
                    }
                ]
            )
        fields = sorted(set(fields))
    customer_ids = sorted(set(request_in.customer_ids))
    levels_and_heads, requester_head = _customer_heads(
        conn, actor=actor, ctx=ctx, customer_ids=customer_ids
    )
    slots = route(
        requester_id=actor.user_id,
        requester_head=requester_head,
        customer_heads=levels_and_heads,
    )
    request_id = new_id()
    conn.execute(
        insert(requests).values(
            id=request_id,
            requester_id=actor.user_id,
            fields=fields,
            purpose=request_in.purpose,
            duration_hours=request_in.duration_hours,
            status=RequestStatus.PENDING.value,
            created_at=now,
        )
    )
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
    details = {"hours": request_in.duration_hours, "approvers": [_label(s) for s in slots]}
    for customer_id in customer_ids:
        append(
            conn,
            _event(
                ctx,
                actor,
                Action.ACCESS_REQUEST_CREATE,
                customer_id=customer_id,
                object_id=request_id,
                fields=fields,
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
        hours=request_in.duration_hours,
        now=now,
    )
    return request_out(conn, load_request(conn, request_id), now)


def _label(slot: Slot) -> str:
    return slot.user_id or slot.role.value


def decide_request(
    conn: Connection,
    *,
    actor: Actor,
    ctx: RequestContext,
    request_id: str,
    approve: bool,
    comment: str | None = None,
    now: datetime | None = None,
) -> AccessRequestOut:
    """Record one approver's decision; the last approval grants, any rejection ends it."""
    now = now or utcnow()
    action = Action.ACCESS_REQUEST_APPROVE if approve else Action.ACCESS_REQUEST_REJECT
    # Locked so that two approvers deciding at once cannot both miss being the last one.
    req = load_request(conn, request_id, for_update=True)
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
        _refuse(
            Forbidden("you are not an approver of this request", code=code),
            ctx,
            actor,
            action,
            object_id=req.id,
        )
    if req.status != RequestStatus.PENDING:
        _refuse(
            Conflict(f"the request is already {req.status}", code="request_not_pending"),
            ctx,
            actor,
            action,
            object_id=req.id,
        )
    open_slots = [r for r in mine if r.decision is None]
    # Each person decides once: an officer who decided one officer slot takes no other.
    if not open_slots or any(r.decided_by == actor.user_id for r in rows):
        _refuse(
            Conflict("you have already decided on this request", code="already_decided"),
            ctx,
            actor,
            action,
            object_id=req.id,
        )
    slot = open_slots[0]
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
    if final:
        status = RequestStatus.APPROVED if approve else RequestStatus.REJECTED
        conn.execute(
            update(requests).where(requests.c.id == req.id).values(status=status, decided_at=now)
        )
    if approve and final and req.kind == RequestKind.LEVEL_CHANGE:
        complete_level_change(conn, actor=actor, ctx=ctx, req=req, now=now)  # C2.2
    elif approve and final:
        grant_ids = _grant(conn, actor=actor, ctx=ctx, req=req, now=now)
    append(
        conn,
        _event(
            ctx,
            actor,
            action,
            object_id=req.id,
            details={"final": final, "slot": slot.role, "grants": grant_ids},
        ),
    )
    out = request_out(conn, load_request(conn, req.id), now)
    if final:  # C4.3.1: the requester hears the outcome
        triggers.request_decided(
            conn,
            request_id=req.id,
            requester_id=req.requester_id,
            decider=actor,
            approved=approve,
            customer_count=len(out.customer_ids),
            hours=req.duration_hours,
            # A level change (duration 0) grants nothing, so it has no end to tell.
            ends_at=now + timedelta(hours=req.duration_hours)
            if approve and req.duration_hours
            else None,
            now=now,
            request_kind=req.kind,
        )
    return out


def _grant(
    conn: Connection, *, actor: Actor, ctx: RequestContext, req: Any, now: datetime
) -> list[str]:
    """Create one grant per customer, valid in [now, now + duration), by the last approver."""
    requester = load_actor(conn, req.requester_id)
    if requester is None or not requester.can(Permission.CUSTOMER_WORK):
        raise Conflict("the requester may no longer hold customer data", code="requester_inactive")
    customer_ids = conn.execute(
        select(request_customers.c.customer_id)
        .where(request_customers.c.request_id == req.id)
        .order_by(request_customers.c.customer_id)
    ).scalars()
    ends_at = now + timedelta(hours=req.duration_hours)
    return [
        insert_grant(
            conn,
            actor=actor,
            ctx=ctx,
            user_id=req.requester_id,
            customer_id=customer_id,
            fields=req.fields,
            starts_at=now,
            ends_at=ends_at,
            purpose=req.purpose,
            now=now,
            request_id=req.id,
        )
        for customer_id in customer_ids
    ]
