"""Review of emergency grants (C3.2, C4.3.1): access given outside the approval process is
looked at afterwards by a head of the customer's department, who records what they found.

The review does not undo the grant (the officer or the head revokes it if it was wrong); it
closes the loop the approval process would have closed beforehand, and it is audited.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from baomi import clock
from baomi.audit.context import RequestContext
from baomi.audit.service import actor_event, append
from baomi.audit.tags import Action
from baomi.customers.facts import customer_facts
from baomi.errors import Conflict, Forbidden, NotFound
from baomi.grants.models import access_grants
from baomi.grants.schemas import GrantOut
from baomi.grants.service import get_grant
from baomi.ids import is_id
from baomi.security.actor import Actor
from baomi.security.policy import heads
from baomi.security.roles import Permission


def _reviewable_by(conn: Connection, actor: Actor, customer_id: str) -> bool:
    facts = customer_facts(conn, customer_id)
    return facts is not None and heads(actor, facts.department_id)


def emergency_grants(
    conn: Connection, *, actor: Actor, unreviewed_only: bool = False
) -> list[GrantOut]:
    """The emergency grants this person oversees: all of them for the security officer, those on
    customers of the departments they head for a head; newest first."""
    g = access_grants.c
    query = select(g.id, g.customer_id).where(g.request_id.is_(None)).order_by(g.created_at.desc())
    if unreviewed_only:
        query = query.where(g.reviewed_at.is_(None))
    rows = conn.execute(query).all()
    if not actor.can(Permission.GRANT_MANAGE):
        rows = [r for r in rows if _reviewable_by(conn, actor, r.customer_id)]
    return [get_grant(conn, r.id) for r in rows]


def review_emergency_grant(
    conn: Connection, *, actor: Actor, ctx: RequestContext, grant_id: str, note: str
) -> GrantOut:
    """Record a head's review of an emergency grant on a customer of their department."""
    row = None
    if is_id(grant_id):
        row = conn.execute(select(access_grants).where(access_grants.c.id == grant_id)).first()
    if row is None:
        raise NotFound("no such grant")
    if not _reviewable_by(conn, actor, row.customer_id):
        refusal = actor_event(
            ctx=ctx,
            actor=actor,
            action=Action.GRANT_REVIEW,
            allowed=False,
            reason="not_allowed_to_review",
            customer_id=row.customer_id,
            object_id=grant_id,
        )
        raise Forbidden(
            "only a head of the customer's department reviews this grant",
            code="not_allowed_to_review",
        ).with_audit(refusal)
    if row.request_id is not None:
        raise Conflict(
            "this grant came from an approved request: there is nothing to review",
            code="not_an_emergency_grant",
        )
    if row.reviewed_at is not None:
        raise Conflict("this grant has already been reviewed", code="grant_already_reviewed")
    now = clock.utcnow()
    conn.execute(
        update(access_grants)
        .where(access_grants.c.id == grant_id)
        .values(reviewed_at=now, reviewed_by=actor.user_id, review_note=note)
    )
    # The note stays with the grant; the audit event carries no free text (it could quote data).
    append(
        conn,
        actor_event(
            ctx=ctx,
            actor=actor,
            action=Action.GRANT_REVIEW,
            reason="emergency_grant_reviewed",
            customer_id=row.customer_id,
            object_id=grant_id,
        ),
    )
    return get_grant(conn, grant_id, now=now)
