"""Level-change requests (C2.2): lowering a customer's level is an approved, recorded action.

A request of the second kind (`kind = level_change`) in the access-request machinery: whoever may
edit the customer asks for a lower level with a reason; the approvers the rule of the customer's
current level names (`lowering_approvers`: its head, and at 机密 and above also a security
officer) each decide once through the same approve / reject endpoints; nobody approves their own
request and any rejection ends it. The last approval lowers the level through the customer side
(customers.level_changes), audited `customer:level_change` with from and to.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from baomi.access.models import access_request_approvals as approvals
from baomi.access.models import access_request_customers as request_customers
from baomi.access.models import access_requests as requests
from baomi.access.queries import load_request, request_out
from baomi.access.routing import SlotRole, nearest_head, route
from baomi.access.schemas import AccessRequestOut, LevelChangeIn, RequestKind, RequestStatus
from baomi.audit.context import RequestContext
from baomi.audit.service import actor_event, append
from baomi.audit.tags import Action
from baomi.clock import utcnow
from baomi.customers.level_changes import apply_lowering, check_lowering
from baomi.errors import Conflict
from baomi.ids import new_id
from baomi.notifications import triggers
from baomi.security.actor import Actor
from baomi.users.service import list_departments


def _pending_for(conn: Connection, customer_id: str) -> str | None:
    """Return the id of a level-change request still open for this customer, if any."""
    return conn.execute(
        select(requests.c.id)
        .join(request_customers, request_customers.c.request_id == requests.c.id)
        .where(
            request_customers.c.customer_id == customer_id,
            requests.c.kind == RequestKind.LEVEL_CHANGE.value,
            requests.c.status == RequestStatus.PENDING.value,
        )
    ).scalar()


def request_level_change(
    conn: Connection,
    *,
    actor: Actor,
    ctx: RequestContext,
    customer_id: str,
    change_in: LevelChangeIn,
    now: datetime | None = None,
) -> AccessRequestOut:
    """File a request to lower a customer's level, routed by the rule of its current level."""
    now = now or utcnow()
    lowering = check_lowering(
        conn,
        actor=actor,
        ctx=ctx,
        tag=Action.ACCESS_REQUEST_CREATE,
        customer_id=customer_id,
        level=change_in.level,
        now=now,
    )
    if (open_id := _pending_for(conn, lowering.customer_id)) is not None:
        raise Conflict(
            f"a level-change request for this customer is already open ({open_id})",
            code="level_change_pending",
            request_id=open_id,
        ).with_audit(
            actor_event(
                ctx=ctx,
                actor=actor,
                action=Action.ACCESS_REQUEST_CREATE,
                allowed=False,
                reason="level_change_pending",
                customer_id=lowering.customer_id,
                object_id=open_id,
            )
        )
    depts = list_departments(conn)
    parents = {d.id: d.parent_id for d in depts}
    heads = {d.id: d.head_user_id for d in depts}
    slots = route(
        requester_id=actor.user_id,
        requester_head=nearest_head(actor.department_id, parents, heads),
        customer_heads=[
            (lowering.current.code, nearest_head(lowering.department_id, parents, heads))
        ],
        lowering=True,
    )
    request_id = new_id()
    conn.execute(
        insert(requests).values(
            id=request_id,
            kind=RequestKind.LEVEL_CHANGE.value,
            requester_id=actor.user_id,
            fields=None,
            purpose=change_in.reason,
            # No access is granted by a level change, so it lasts no hours.
            duration_hours=0,
            status=RequestStatus.PENDING.value,
            from_level=lowering.current.code,
            target_level=lowering.target.code,
            created_at=now,
        )
    )
    conn.execute(
        insert(request_customers).values(request_id=request_id, customer_id=lowering.customer_id)
    )
    conn.execute(
        insert(approvals),
        [
            {"request_id": request_id, "slot": i, "role": s.role.value, "approver_id": s.user_id}
            for i, s in enumerate(slots)
        ],
    )
    append(
        conn,
        actor_event(
            ctx=ctx,
            actor=actor,
            action=Action.ACCESS_REQUEST_CREATE,
            customer_id=lowering.customer_id,
            object_id=request_id,
            details={
                "kind": RequestKind.LEVEL_CHANGE.value,
                "from": lowering.current.code,
                "to": lowering.target.code,
                "approvers": [s.user_id or s.role.value for s in slots],
            },
        ),
    )
    # C4.3.1: the approvers hear of it like any other request.
    triggers.request_filed(
        conn,
        request_id=request_id,
        requester=actor,
        approver_ids=[s.user_id for s in slots if s.user_id],
        needs_officer=any(s.role == SlotRole.SECURITY_OFFICER for s in slots),
        customer_count=1,
        hours=0,
        now=now,
        request_kind=RequestKind.LEVEL_CHANGE.value,
    )
    return request_out(conn, load_request(conn, request_id), now)


def complete_level_change(
    conn: Connection, *, actor: Actor, ctx: RequestContext, req: Any, now: datetime
) -> None:
    """On the last approval of a level-change request, lower the customer's level (C2.2)."""
    customer_id = conn.execute(
        select(request_customers.c.customer_id).where(request_customers.c.request_id == req.id)
    ).scalar_one()
    apply_lowering(
        conn,
        actor=actor,
        ctx=ctx,
        customer_id=customer_id,
        from_level=req.from_level,
        to_level=req.target_level,
        request_id=req.id,
        now=now,
    )
