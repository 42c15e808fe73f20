"""Load what a decision needs, decide through security.policy, and audit what was decided."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from baomi.audit.context import RequestContext
from baomi.audit.service import actor_event, append
from baomi.audit.tags import Action
from baomi.customers.fields import SENSITIVITY
from baomi.customers.models import customers
from baomi.db_direct import DirectStatement, Record
from baomi.errors import Forbidden, NotFound
from baomi.grants.models import access_grants
from baomi.ids import is_id
from baomi.keystore.models import data_keys
from baomi.security.actor import Actor
from baomi.security.policy import (
    CustomerAction,
    CustomerFacts,
    Decision,
    FieldCatalog,
    GrantFacts,
    Reason,
    decide,
)
from baomi.users.models import departments, users

# One statement fetches everything a read needs: the record, its wrapped key, handler, department.
CUSTOMER_ROW = (
    select(
        customers,
        data_keys.c.master_version,
        data_keys.c.wrapped,
        users.c.username.label("handler_username"),
        users.c.display_name.label("handler_display_name"),
        departments.c.name.label("department_name"),
    )
    .join(data_keys, data_keys.c.id == customers.c.data_key_id)
    .join(users, users.c.id == customers.c.handler_id)
    .join(departments, departments.c.id == customers.c.department_id)
)


@dataclass(frozen=True, slots=True)
class Authorized:
    row: Record
    decision: Decision


# Built once: the per-read cost of constructing and cache-keying a statement is measurable.
_BY_ID = DirectStatement(
    CUSTOMER_ROW.where(customers.c.id == bindparam("customer_id"), customers.c.deleted_at.is_(None))
)
_GRANTS = DirectStatement(
    select(
        access_grants.c.fields,
        access_grants.c.starts_at,
        access_grants.c.ends_at,
        access_grants.c.revoked_at,
    ).where(
        access_grants.c.user_id == bindparam("user_id"),
        access_grants.c.customer_id == bindparam("customer_id"),
    )
)


# The catalog with its derived sets computed once (decide runs on every read).
_CATALOG = FieldCatalog(SENSITIVITY)


def load_row(conn: Connection, customer_id: str) -> Record | None:
    return _BY_ID.first(conn, {"customer_id": customer_id})


def facts_of(row: Record) -> CustomerFacts:
    return CustomerFacts(
        id=row.id, level=row.level, handler_id=row.handler_id, department_id=row.department_id
    )


_FACTS = DirectStatement(
    select(
        customers.c.id, customers.c.level, customers.c.handler_id, customers.c.department_id
    ).where(customers.c.id == bindparam("customer_id"), customers.c.deleted_at.is_(None))
)


def customer_facts(conn: Connection, customer_id: str) -> CustomerFacts | None:
    """Return the few plaintext facts other rooms may know of a customer (no data, no keys)."""
    if not is_id(customer_id):
        return None
    row = _FACTS.first(conn, {"customer_id": customer_id})
    return facts_of(row) if row is not None else None


def grants_for(conn: Connection, user_id: str, customer_id: str) -> list[GrantFacts]:
    rows = _GRANTS.all(conn, {"user_id": user_id, "customer_id": customer_id})
    return [
        GrantFacts(
            fields=None if r.fields is None else frozenset(r.fields),
            starts_at=r.starts_at,
            ends_at=r.ends_at,
            revoked_at=r.revoked_at,
        )
        for r in rows
    ]


def decide_on_row(
    conn: Connection,
    actor: Actor,
    action: CustomerAction,
    row: Record,
    now: datetime,
    requested: Collection[str] | None = None,
) -> Decision:
    """Decide, consulting grants only when being handler or head is not enough."""
    facts = facts_of(row)
    related = facts.handler_id == actor.user_id or facts.department_id in actor.headed_departments
    grants: Iterable[GrantFacts] = () if related else grants_for(conn, actor.user_id, facts.id)
    return decide(
        actor=actor,
        action=action,
        customer=facts,
        fields=_CATALOG,
        requested=requested,
        grants=grants,
        now=now,
    )


def audit(conn: Connection, **kwargs: Any) -> None:
    """Record an allowed action in the caller's transaction."""
    append(conn, actor_event(allowed=True, **kwargs))


def denial(**kwargs: Any) -> dict[str, Any]:
    """Build the audit event of a refusal, to be attached to the error that reports it."""
    return actor_event(allowed=False, **kwargs)


def authorize(
    conn: Connection,
    *,
    actor: Actor,
    ctx: RequestContext,
    action: CustomerAction,
    tag: Action,
    customer_id: str,
    now: datetime,
    requested: Collection[str] | None = None,
) -> Authorized:
    """Load and authorize one customer; a denial is audited and raised.

    A customer the actor may not see at all answers exactly like one that does not exist (404),
    so that probing ids tells nothing; a visible customer with a refused action answers 403.
    """
    # A malformed id cannot name a customer; it is not stored in the audit log either.
    row = load_row(conn, customer_id) if is_id(customer_id) else None
    if row is None:
        refusal = denial(
            ctx=ctx,
            actor=actor,
            action=tag,
            reason="not_found",
            customer_id=customer_id if is_id(customer_id) else None,
            fields=requested,
        )
        raise NotFound("no such customer").with_audit(refusal)
    decision = decide_on_row(conn, actor, action, row, now, requested)
    if not decision.allowed:
        refusal = denial(
            ctx=ctx,
            actor=actor,
            action=tag,
            reason=decision.reason.value,
            customer_id=customer_id,
            fields=requested,
        )
        if decision.reason in (Reason.GRANT_IS_READ_ONLY, Reason.FIELDS_NOT_GRANTED):
            raise Forbidden(
                "your access to this customer does not allow that", code=decision.reason.value
            ).with_audit(refusal)
        raise NotFound("no such customer").with_audit(refusal)
    return Authorized(row=row, decision=decision)
