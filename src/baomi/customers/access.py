"""The door: load what a decision needs, decide through security.policy, audit the decision.

Only the customers room imports this module (import contracts in pyproject.toml). Other rooms
learn a customer's level, handler and department from customers.facts, never the row.
"""

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
from baomi.consent.records import coverage
from baomi.customers import integrity, row_tag
from baomi.customers.decrypt import ACCESS_GRANT, DamagedRecord
from baomi.customers.facts import facts_of
from baomi.customers.fields import SENSITIVITY, fields_of_kinds
from baomi.customers.models import customers
from baomi.customers.vault import Vault
from baomi.db_direct import DirectStatement, Record
from baomi.errors import Forbidden, NotFound
from baomi.grants.queries import grant_facts
from baomi.grants.tags import TamperedGrant
from baomi.ids import is_id
from baomi.keystore.service import wrapped_keys
from baomi.security.actor import Actor
from baomi.security.policy import (
    CustomerAction,
    Decision,
    FieldCatalog,
    GrantFacts,
    Reason,
    decide,
    standing,
)
from baomi.users.queries import department_names, people

# The other rooms' narrow views a read joins: the wrapped key, the handler, the department.
WRAPPED_KEY = wrapped_keys()
HANDLER = people()
DEPARTMENT = department_names()

# One statement fetches everything a read needs: the record, its wrapped key, handler, department.
CUSTOMER_ROW = (
    select(
        customers,
        WRAPPED_KEY.c.master_version,
        WRAPPED_KEY.c.wrapped,
        HANDLER.c.username.label("handler_username"),
        HANDLER.c.display_name.label("handler_display_name"),
        DEPARTMENT.c.name.label("department_name"),
    )
    .join(WRAPPED_KEY, WRAPPED_KEY.c.id == customers.c.data_key_id)
    .join(HANDLER, HANDLER.c.id == customers.c.handler_id)
    .join(DEPARTMENT, DEPARTMENT.c.id == customers.c.department_id)
)


@dataclass(frozen=True, slots=True)
class Authorized:
    row: Record
    decision: Decision


# Built once: the per-read cost of constructing and cache-keying a statement is measurable.
_BY_ID = DirectStatement(
    CUSTOMER_ROW.where(customers.c.id == bindparam("customer_id"), customers.c.deleted_at.is_(None))
)


# The catalog with its derived sets computed once (decide runs on every read).
_CATALOG = FieldCatalog(SENSITIVITY)


def load_row(conn: Connection, customer_id: str) -> Record | None:
    """The whole row of a live customer with its wrapped key: for the door's own use only."""
    return _BY_ID.first(conn, {"customer_id": customer_id})


def decide_on_row(
    conn: Connection,
    actor: Actor,
    action: CustomerAction,
    row: Record,
    now: datetime,
    requested: Collection[str] | None = None,
    *,
    vault: Vault,
    may_have_grants: bool = True,
    purpose: str | None = None,
) -> Decision:
    """Decide, consulting grants only when being handler or head is not enough.

    The row's access-deciding columns, and any grant weighed, are believed only once their row
    tags hold (issue 17.5): otherwise DamagedRecord, which every caller refuses and reports.
    A caller that already knows the actor holds no active grant on this customer (the batch
    door asks once per chunk) says so with `may_have_grants=False`, and no grant is looked up.
    An action for a stated `purpose` weighs the customer's consents and bases in force (C4.3.4).
    """
    row_tag.check(vault.tags, row)
    facts = facts_of(row)
    related = standing(actor, facts) is not None
    grants: Iterable[GrantFacts] = ()
    if not related and may_have_grants:
        try:
            grants = grant_facts(conn, actor.user_id, facts.id, vault.tags)
        except TamperedGrant:
            raise DamagedRecord(facts.id, ACCESS_GRANT) from None
    consented: frozenset[str] = frozenset()
    if purpose is not None:
        consented = fields_of_kinds(coverage(conn, facts.id, now).get(purpose, frozenset()))
    return decide(
        actor=actor,
        action=action,
        customer=facts,
        purpose=purpose,
        consented=consented,
        rule=vault.levels.rule_of(facts.level),
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
    vault: Vault,
    action: CustomerAction,
    tag: Action,
    customer_id: str,
    now: datetime,
    requested: Collection[str] | None = None,
    purpose: str | None = None,
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
    try:
        decision = decide_on_row(
            conn, actor, action, row, now, requested, vault=vault, purpose=purpose
        )
    except DamagedRecord as damage:
        raise integrity.refusal(
            ctx=ctx, actor=actor, vault=vault, damages=[damage], during=tag
        ) from None
    if not decision.allowed:
        refusal = denial(
            ctx=ctx,
            actor=actor,
            action=tag,
            reason=decision.reason.value,
            customer_id=customer_id,
            fields=requested,
            details={"purpose": purpose} if purpose is not None else None,
        )
        if decision.reason in (Reason.GRANT_IS_READ_ONLY, Reason.FIELDS_NOT_GRANTED):
            raise Forbidden(
                "your access to this customer does not allow that", code=decision.reason.value
            ).with_audit(refusal)
        if decision.reason is Reason.PURPOSE_NOT_CONSENTED:
            raise Forbidden(
                f"the customer's consents and lawful bases in force do not cover the purpose "
                f"{purpose!r} for these fields (C4.3.4): record a consent first",
                code=decision.reason.value,
            ).with_audit(refusal)
        raise NotFound("no such customer").with_audit(refusal)
    return Authorized(row=row, decision=decision)
