"""Reading access requests: who may see which, and their shape with derived status (C4.3.1)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, true
from sqlalchemy.engine import Connection

from baomi import clock
from baomi.access.catalog import kind_of
from baomi.access.models import access_request_approvals as approvals
from baomi.access.models import access_request_customers as request_customers
from baomi.access.models import access_requests as requests
from baomi.access.routing import SlotRole
from baomi.access.schemas import AccessRequestOut, ApprovalOut, RequestStatus
from baomi.customers.facts import customer_facts
from baomi.errors import NotFound
from baomi.grants.schemas import GrantOut
from baomi.grants.service import grants_of_request
from baomi.ids import is_id
from baomi.security.actor import Actor
from baomi.security.roles import Permission


class ListRole(StrEnum):
    MINE = "mine"
    TO_APPROVE = "to_approve"


def load_request(conn: Connection, request_id: str, *, for_update: bool = False) -> Any:
    """Return the request row, or raise 404 (malformed ids included)."""
    row = None
    if is_id(request_id):
        query = select(requests).where(requests.c.id == request_id)
        row = conn.execute(query.with_for_update() if for_update else query).first()
    if row is None:
        raise NotFound("no such access request")
    return row


def _status(stored: str, grants: list[GrantOut], now: datetime) -> RequestStatus:
    if stored != RequestStatus.APPROVED or not grants:
        return RequestStatus(stored)
    if all(g.revoked_at is not None for g in grants):
        return RequestStatus.REVOKED
    if all(g.revoked_at is not None or g.ends_at <= now for g in grants):
        return RequestStatus.EXPIRED
    return RequestStatus.APPROVED


def request_out(conn: Connection, row: Any, now: datetime) -> AccessRequestOut:
    """Return the API shape of one request, its status derived from its grants, whatever its
    kind (C4.2.1: what an approval gave ends by itself)."""
    customer_ids = conn.execute(
        select(request_customers.c.customer_id)
        .where(request_customers.c.request_id == row.id)
        .order_by(request_customers.c.customer_id)
    ).scalars()
    slots = conn.execute(
        select(approvals).where(approvals.c.request_id == row.id).order_by(approvals.c.slot)
    )
    grants = grants_of_request(conn, row.id, now)
    # What a kind does not show, every request still has: no fields, no hours.
    shown = {"fields": None, "duration_hours": 0, **kind_of(row.kind).shown(row.details)}
    return AccessRequestOut(
        id=row.id,
        kind=row.kind,
        status=_status(row.status, grants, now),
        customer_ids=list(customer_ids),
        purpose=row.purpose,
        **shown,
        requester=row.requester_id,
        approvals=[
            ApprovalOut(
                approver=s.decided_by or s.approver_id,
                role=s.role,
                decision=s.decision,
                decided_at=s.decided_at,
                comment=s.comment,
            )
            for s in slots
        ],
        created_at=row.created_at,
        grant_id=grants[0].id if grants else None,
        grant_ids=[g.id for g in grants],
    )


def _visible(actor: Actor) -> ColumnElement[bool]:
    """Requests this actor may see: their own, those they approve, all for the officer."""
    if actor.can(Permission.GRANT_MANAGE):
        return true()
    involved = select(approvals.c.request_id).where(
        or_(approvals.c.approver_id == actor.user_id, approvals.c.decided_by == actor.user_id)
    )
    return or_(requests.c.requester_id == actor.user_id, requests.c.id.in_(involved))


def get_request(
    conn: Connection, *, actor: Actor, request_id: str, now: datetime | None = None
) -> AccessRequestOut:
    """Return one request to its requester, its approvers or the officer; 404 for anyone else."""
    row = None
    if is_id(request_id):
        row = conn.execute(
            select(requests).where(requests.c.id == request_id, _visible(actor))
        ).first()
    if row is None:
        raise NotFound("no such access request")
    return request_out(conn, row, now or clock.utcnow())


def list_requests(
    conn: Connection, *, actor: Actor, role: ListRole, now: datetime | None = None
) -> list[AccessRequestOut]:
    """List my requests, or those still waiting for my decision, newest first."""
    if role is ListRole.MINE:
        where: ColumnElement[bool] = requests.c.requester_id == actor.user_id
    else:
        mine = approvals.c.approver_id == actor.user_id
        if actor.can(Permission.GRANT_MANAGE):
            mine = or_(mine, approvals.c.role == SlotRole.SECURITY_OFFICER.value)
        waiting = select(approvals.c.request_id).where(mine, approvals.c.decision.is_(None))
        where = and_(
            requests.c.status == RequestStatus.PENDING.value,
            requests.c.id.in_(waiting),
            requests.c.requester_id != actor.user_id,
        )
    rows = conn.execute(
        select(requests).where(where).order_by(requests.c.created_at.desc(), requests.c.id.desc())
    ).all()
    now = now or clock.utcnow()
    return [request_out(conn, r, now) for r in rows]


def customer_levels(conn: Connection, customer_ids: list[str]) -> dict[str, str]:
    """Return the level of each customer a request names (withdrawn ones left out).

    What an approver weighs besides the purpose (C4.3.1, C2.2): the classification only, never
    any of the customer's data, so the web UI can show it to approvers who may not see the record.
    """
    levels: dict[str, str] = {}
    for customer_id in customer_ids:
        facts = customer_facts(conn, customer_id)
        if facts is not None:
            levels[customer_id] = facts.level
    return levels
