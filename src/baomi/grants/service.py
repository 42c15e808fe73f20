"""Explicit, time-bound grants (C4.2.1, C4.3.1).

Access is given by the process the customer's level names: an access request approved by its
approvers (access/service.py) creates the grant. A grant the security officer gives outside
that process is an emergency grant: it states a reason, lasts at most a day (configurable), the
customer's handler and heads are told at once, and a head reviews it afterwards (grants/review.py).
A grant is valid in [start, end) and expires by itself because the policy compares it with the
clock on every decision.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from baomi import clock
from baomi.access.approvers import approver_ids
from baomi.audit.context import RequestContext
from baomi.audit.service import actor_event, append
from baomi.audit.tags import Action
from baomi.crypto.row_tags import RowTagger
from baomi.customers.facts import customer_facts
from baomi.customers.fields import SENSITIVITY
from baomi.customers.service import exists as customer_exists
from baomi.errors import Conflict, Forbidden, NotFound, ValidationFailed
from baomi.grants.models import access_grants
from baomi.grants.schemas import GrantIn, GrantOut
from baomi.grants.tags import holds, tag_of
from baomi.grants.windows import emergency_window
from baomi.ids import is_id, new_id
from baomi.notifications import triggers
from baomi.security.actor import Actor, AnyActor
from baomi.security.levels import Levels
from baomi.security.policy import heads
from baomi.security.roles import Permission, Role
from baomi.users.actors import load_actor
from baomi.users.guard import require
from baomi.users.service import heads_of


def _require_officer(
    actor: AnyActor, ctx: RequestContext, action: Action, permission: Permission
) -> None:
    """Refuse, on record with the permission lacked (C1.3), anyone but the security officer."""
    message = "only the security officer manages grants"
    require(actor, ctx, permission, action, message, code="not_security_officer")


def _out(row: Any, now: datetime) -> GrantOut:
    return GrantOut(
        id=row.id,
        user_id=row.user_id,
        customer_id=row.customer_id,
        fields=row.fields,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        purpose=row.purpose,
        created_by=row.created_by,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        active=row.revoked_at is None and row.starts_at <= now < row.ends_at,
        request_id=row.request_id,
        emergency=row.request_id is None,
        reviewed_at=row.reviewed_at,
        reviewed_by=row.reviewed_by,
        review_note=row.review_note,
    )


def create_emergency_grant(
    conn: Connection,
    *,
    actor: Actor,
    ctx: RequestContext,
    grant_in: GrantIn,
    levels: Levels,
    tags: RowTagger,
    max_hours: int,
    mail: bool,
) -> GrantOut:
    """Give one user access to one customer outside the approval process (C4.3.1).

    The security officer states the reason (`purpose`); the grant lasts at most `max_hours`; the
    customer's handler and heads are told at once (by mail too when `mail`), and it waits for a
    head's review. It may not outlast what the customer's level allows any grant (`levels`).
    """
    _require_officer(actor, ctx, Action.GRANT_CREATE, Permission.GRANT_MANAGE)
    now = clock.utcnow()
    starts_at, ends_at = emergency_window(grant_in, now, max_hours)
    if grant_in.fields is not None:
        unknown = sorted(set(grant_in.fields) - set(SENSITIVITY))
        if unknown or not grant_in.fields:
            raise ValidationFailed(
                [
                    {
                        "field": "fields",
                        "code": "fields_unknown",
                        "message": f"unknown or empty field list: {unknown}",
                    }
                ]
            )
    grantee = load_actor(conn, grant_in.user_id)
    if grantee is None:
        raise ValidationFailed(
            [{"field": "user_id", "code": "user_unknown", "message": "no active user with that id"}]
        )
    if not grantee.can(Permission.CUSTOMER_WORK) or grantee.roles & {
        Role.ADMINISTRATOR,
        Role.AUDITOR,
    }:
        raise ValidationFailed(
            [
                {
                    "field": "user_id",
                    "code": "role_without_customer_access",
                    "message": "this user's role may not hold customer data",
                }
            ]
        )
    customer_exists(conn, grant_in.customer_id)
    facts = customer_facts(conn, grant_in.customer_id)
    assert facts is not None  # customer_exists has just answered 404 otherwise
    longest = levels.rule_of(facts.level).max_grant_hours
    if ends_at - starts_at > timedelta(hours=longest):
        raise ValidationFailed(
            [
                {
                    "field": "duration_hours" if grant_in.duration_hours else "ends_at",
                    "code": "grant_too_long",
                    "message": f"access to this customer lasts at most {longest} hours",
                }
            ]
        )
    grant_id = insert_grant(
        conn,
        actor=actor,
        ctx=ctx,
        user_id=grant_in.user_id,
        customer_id=grant_in.customer_id,
        fields=grant_in.fields,
        starts_at=starts_at,
        ends_at=ends_at,
        purpose=grant_in.purpose,
        now=now,
        tags=tags,
    )
    # C3.2: the people responsible for the customer hear of it at once, not at the next review.
    triggers.emergency_grant(
        conn,
        grant_id=grant_id,
        customer_id=grant_in.customer_id,
        recipients={facts.handler_id, *heads_of(conn, facts.department_id)},
        grantee=grantee,
        officer=actor,
        hours=round((ends_at - starts_at) / timedelta(hours=1)),
        now=now,
        mail=mail,
    )
    return get_grant(conn, grant_id)


def insert_grant(
    conn: Connection,
    *,
    actor: Actor,
    ctx: RequestContext,
    user_id: str,
    customer_id: str,
    fields: list[str] | None,
    starts_at: datetime,
    ends_at: datetime,
    purpose: str,
    now: datetime,
    tags: RowTagger,
    request_id: str | None = None,
) -> str:
    """Insert and audit one grant, under its row tag (issue 17.5); the caller has already
    decided that it may be given."""
    grant_id = new_id()
    values = {
        "id": grant_id,
        "user_id": user_id,
        "customer_id": customer_id,
        "fields": sorted(fields) if fields is not None else None,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "purpose": purpose,
        "created_by": actor.user_id,
        "created_at": now,
        # C4.3.1: the approved access request this grant carries out, if any.
        "request_id": request_id,
        "revoked_at": None,
    }
    conn.execute(insert(access_grants).values(**values, row_tag=tag_of(tags, values)))
    details: dict[str, Any] = {
        "grantee": user_id,
        "hours": (ends_at - starts_at) / timedelta(hours=1),
    }
    if request_id is not None:
        details["access_request"] = request_id
    else:
        details["emergency"] = True
    append(
        conn,
        actor_event(
            ctx=ctx,
            actor=actor,
            action=Action.GRANT_CREATE,
            reason="ok" if request_id is not None else "emergency",
            customer_id=customer_id,
            object_id=grant_id,
            fields=values["fields"],
            details=details,
        ),
    )
    return grant_id


def _may_revoke(conn: Connection, actor: Actor, row: Any) -> bool:
    """The officer; or, early, the grantee and the approvers of the request behind it (for an
    emergency grant, the heads of the customer's department)."""
    if actor.can(Permission.GRANT_MANAGE) or row.user_id == actor.user_id:
        return True
    if row.request_id is None:
        # An emergency grant: the heads who review it may end it too (C3.2).
        facts = customer_facts(conn, row.customer_id)
        return facts is not None and heads(actor, facts.department_id)
    return actor.user_id in approver_ids(conn, row.request_id)


def revoke_grant(
    conn: Connection,
    *,
    actor: Actor,
    ctx: RequestContext,
    grant_id: str,
    mail: bool,
    tags: RowTagger,
    now: datetime | None = None,
) -> GrantOut:
    """End a grant now; the next decision no longer sees it. A person only: the system
    gives and ends no access (C4.3.1). The grantee is told (by mail too when `mail`)."""
    row = None
    if is_id(grant_id):
        row = conn.execute(select(access_grants).where(access_grants.c.id == grant_id)).first()
    if row is None:
        _require_officer(actor, ctx, Action.GRANT_REVOKE, Permission.GRANT_MANAGE)
        raise NotFound("no such grant")
    if not _may_revoke(conn, actor, row):
        refusal = actor_event(
            ctx=ctx,
            actor=actor,
            action=Action.GRANT_REVOKE,
            allowed=False,
            reason="not_allowed_to_revoke",
            customer_id=row.customer_id,
            object_id=grant_id,
        )
        raise Forbidden(
            "only the security officer, the grantee or the approvers may revoke this grant",
            code="not_allowed_to_revoke",
        ).with_audit(refusal)
    if row.revoked_at is not None:
        raise Conflict("the grant is already revoked", code="grant_already_revoked")
    revoked_at = now or clock.utcnow()
    # A grant whose tag fails keeps failing: a revocation never launders an edited row.
    stored = dict(row._mapping)
    tag = tag_of(tags, {**stored, "revoked_at": revoked_at}) if holds(tags, stored) else row.row_tag
    conn.execute(
        update(access_grants)
        .where(access_grants.c.id == grant_id)
        .values(revoked_at=revoked_at, revoked_by=actor.user_id, row_tag=tag)
    )
    append(
        conn,
        actor_event(
            ctx=ctx,
            actor=actor,
            action=Action.GRANT_REVOKE,
            customer_id=row.customer_id,
            object_id=grant_id,
        ),
    )
    # C4.3.1: the grantee learns at once that their access ended early.
    triggers.grant_revoked(
        conn,
        grant_id=grant_id,
        grantee_id=row.user_id,
        customer_id=row.customer_id,
        request_id=row.request_id,
        revoker=actor,
        ends_at=row.ends_at,
        now=now or clock.utcnow(),
        mail=mail,
    )
    return get_grant(conn, grant_id, now=now)


def get_grant(conn: Connection, grant_id: str, now: datetime | None = None) -> GrantOut:
    row = conn.execute(select(access_grants).where(access_grants.c.id == grant_id)).first()
    if row is None:
        raise NotFound("no such grant")
    return _out(row, now or clock.utcnow())


def list_grants(
    conn: Connection,
    *,
    actor: AnyActor,
    ctx: RequestContext,
    user_id: str | None = None,
    active_only: bool = False,
) -> list[GrantOut]:
    """List grants (the security officer's view, or the console's); ids and windows, no
    customer data."""
    _require_officer(actor, ctx, Action.GRANT_LIST, Permission.GRANT_READ)
    now = clock.utcnow()
    query = select(access_grants).order_by(access_grants.c.created_at.desc())
    if user_id:
        query = query.where(access_grants.c.user_id == user_id)
    if active_only:
        query = query.where(
            access_grants.c.revoked_at.is_(None),
            access_grants.c.starts_at <= now,
            access_grants.c.ends_at > now,
        )
    return [_out(r, now) for r in conn.execute(query)]


def grants_of_request(
    conn: Connection, request_id: str, now: datetime | None = None
) -> list[GrantOut]:
    """Return the grants an approved access request created, oldest first (C4.3.1)."""
    query = (
        select(access_grants)
        .where(access_grants.c.request_id == request_id)
        .order_by(access_grants.c.created_at, access_grants.c.id)
    )
    return [_out(r, now or clock.utcnow()) for r in conn.execute(query)]


def list_own_grants(conn: Connection, *, actor: Actor, active_only: bool = True) -> list[GrantOut]:
    """The actor's own grants, ending soonest first (the web home's "my grants expiring")."""
    now = clock.utcnow()
    query = (
        select(access_grants)
        .where(access_grants.c.user_id == actor.user_id)
        .order_by(access_grants.c.ends_at, access_grants.c.id)
    )
    if active_only:
        query = query.where(
            access_grants.c.revoked_at.is_(None),
            access_grants.c.starts_at <= now,
            access_grants.c.ends_at > now,
        )
    return [_out(r, now) for r in conn.execute(query)]
