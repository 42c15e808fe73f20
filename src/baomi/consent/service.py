"""Recording, listing and withdrawing consents and lawful bases of a customer (C4.1.2).

Whoever may edit a customer records what it agreed to (its handler, the heads of its
department); whoever may read it sees the records. Every step is authorized by the customer
door (customers.service.authorize_work, which opens no customer data) and audited; a
withdrawal is written on the record, never deleting it, and counts from the next request on
(the door weighs the records in force at each decision, C4.3.4).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from baomi import clock
from baomi.audit.context import RequestContext
from baomi.audit.service import actor_event, append
from baomi.audit.tags import Action
from baomi.consent.models import consents
from baomi.consent.records import SUPERSEDED, insert_record
from baomi.consent.schemas import Basis, ConsentIn, ConsentOut, Status, WithdrawIn
from baomi.customers import service as customers
from baomi.customers.vault import Vault
from baomi.errors import Conflict, FieldError, NotFound, ValidationFailed
from baomi.ids import is_id
from baomi.security.actor import Actor
from baomi.security.policy import CustomerAction
from baomi.users.queries import people

_PEOPLE = people()


def status_of(row: Any, now: datetime) -> Status:
    if row.withdrawn_at is not None and row.withdrawn_at <= now:
        return Status.SUPERSEDED if row.withdrawn_channel == SUPERSEDED else Status.WITHDRAWN
    if row.given_at > now:
        return Status.NOT_YET
    if row.expires_at is not None and row.expires_at <= now:
        return Status.EXPIRED
    return Status.IN_FORCE


def _out(row: Any, now: datetime) -> ConsentOut:
    return ConsentOut(
        id=row.id,
        customer_id=row.customer_id,
        basis=row.basis,
        purposes=list(row.purposes),
        scope=list(row.scope),
        method=row.method,
        evidence_attachment_id=row.evidence_attachment_id,
        given_at=row.given_at,
        expires_at=row.expires_at,
        taken_by=row.taken_by_username,
        created_at=row.created_at,
        withdrawn_at=row.withdrawn_at,
        withdrawn_channel=row.withdrawn_channel,
        status=status_of(row, now),
    )


_LISTED = select(consents, _PEOPLE.c.username.label("taken_by_username")).outerjoin(
    _PEOPLE, _PEOPLE.c.id == consents.c.taken_by
)


def list_consents(
    conn: Connection, *, actor: Actor, ctx: RequestContext, vault: Vault, customer_id: str
) -> list[ConsentOut]:
    """Every record of the customer, newest first, withdrawn ones included (the history)."""
    customers.authorize_work(
        conn,
        actor=actor,
        ctx=ctx,
        vault=vault,
        customer_id=customer_id,
        action=CustomerAction.READ,
        tag=Action.CONSENT_LIST,
    )
    rows = conn.execute(
        _LISTED.where(consents.c.customer_id == customer_id).order_by(
            consents.c.given_at.desc(), consents.c.id.desc()
        )
    ).all()
    now = clock.utcnow()
    append(
        conn, actor_event(ctx=ctx, actor=actor, action=Action.CONSENT_LIST, customer_id=customer_id)
    )
    return [_out(row, now) for row in rows]


def _checked(consent: ConsentIn, vault: Vault, now: datetime) -> tuple[list[str], datetime]:
    errors: list[FieldError] = []
    purposes = vault.purposes.check(consent.purposes)
    given_at = consent.given_at or now
    if given_at > now:
        errors.append(
            {"field": "given_at", "code": "given_in_future", "message": "not in the future"}
        )
    if consent.expires_at is not None and consent.expires_at <= given_at:
        errors.append(
            {"field": "expires_at", "code": "expires_before_given", "message": "after given_at"}
        )
    if consent.basis is Basis.CONSENT and consent.method is None:
        errors.append(
            {"field": "method", "code": "method_required", "message": "how was consent given?"}
        )
    if consent.basis is not Basis.CONSENT and consent.method is not None:
        errors.append(
            {"field": "method", "code": "method_only_for_consent", "message": "consent only"}
        )
    if errors:
        raise ValidationFailed(errors)
    return purposes, given_at


def record_consent(
    conn: Connection,
    *,
    actor: Actor,
    ctx: RequestContext,
    vault: Vault,
    customer_id: str,
    consent: ConsentIn,
) -> ConsentOut:
    """Record a consent (or another basis) of the customer; audited, with no customer data."""
    customers.authorize_work(
        conn,
        actor=actor,
        ctx=ctx,
        vault=vault,
        customer_id=customer_id,
        action=CustomerAction.UPDATE,
        tag=Action.CONSENT_RECORD,
    )
    now = clock.utcnow()
    purposes, given_at = _checked(consent, vault, now)
    evidence = consent.evidence_attachment_id
    if evidence is not None and not customers.has_attachment(conn, customer_id, evidence):
        raise ValidationFailed(
            [
                {
                    "field": "evidence_attachment_id",
                    "code": "evidence_not_of_customer",
                    "message": "not an attachment of this customer",
                }
            ]
        )
    scope = [kind.value for kind in consent.scope]
    record_id = insert_record(
        conn,
        customer_id=customer_id,
        basis=consent.basis.value,
        purposes=purposes,
        scope=sorted(set(scope), key=scope.index),
        given_at=given_at,
        now=now,
        taken_by=actor.user_id,
        method=consent.method.value if consent.method else None,
        evidence_attachment_id=evidence,
        expires_at=consent.expires_at,
    )
    append(
        conn,
        actor_event(
            ctx=ctx,
            actor=actor,
            action=Action.CONSENT_RECORD,
            customer_id=customer_id,
            object_id=record_id,
            details={"basis": consent.basis.value, "purposes": purposes, "scope": scope},
        ),
    )
    return _one(conn, record_id, now)


def _one(conn: Connection, record_id: str, now: datetime) -> ConsentOut:
    return _out(conn.execute(_LISTED.where(consents.c.id == record_id)).one(), now)


def withdraw(
    conn: Connection,
    *,
    actor: Actor,
    ctx: RequestContext,
    vault: Vault,
    customer_id: str,
    consent_id: str,
    withdrawal: WithdrawIn,
) -> ConsentOut:
    """Write the customer's withdrawal on the record (C4.1.2, PIPL art. 15); audited."""
    customers.authorize_work(
        conn,
        actor=actor,
        ctx=ctx,
        vault=vault,
        customer_id=customer_id,
        action=CustomerAction.UPDATE,
        tag=Action.CONSENT_WITHDRAW,
    )
    row = None
    if is_id(consent_id):
        row = conn.execute(
            select(consents).where(
                consents.c.id == consent_id, consents.c.customer_id == customer_id
            )
        ).first()
    if row is None:
        raise NotFound("no such consent record of this customer")
    now = clock.utcnow()
    when = withdrawal.withdrawn_at or now
    if row.withdrawn_at is not None:
        raise Conflict("this record was already withdrawn", code="consent_already_withdrawn")
    if when > now or when < row.given_at:
        raise ValidationFailed(
            [
                {
                    "field": "withdrawn_at",
                    "code": "withdrawn_at_out_of_range",
                    "message": "between the day it was given and now",
                }
            ]
        )
    conn.execute(
        update(consents)
        .where(consents.c.id == row.id, consents.c.withdrawn_at.is_(None))
        .values(
            withdrawn_at=when,
            withdrawn_channel=withdrawal.channel.value,
            withdrawn_by=actor.user_id,
        )
    )
    append(
        conn,
        actor_event(
            ctx=ctx,
            actor=actor,
            action=Action.CONSENT_WITHDRAW,
            customer_id=customer_id,
            object_id=row.id,
            details={"channel": withdrawal.channel.value, "purposes": list(row.purposes)},
        ),
    )
    return _one(conn, row.id, now)
