"""Recording and answering data-subject requests (issue 12 item 4; PIPL art. 44-47).

Who does what (C1.3, C4.2.1):
- the customer's handler, or a head of its department, records a request the customer made
  (the door authorizes it as an edit of that customer, opening none of its data), states the
  channel and the identity check, and answers it;
- a security officer is assigned to every request: they see every request (ids, dates, kinds,
  never customer data), are reminded with the handler when one is overdue, and may close one;
- the access copy is read through the batch door (customers.service.read_many, purpose
  SUBJECT_ACCESS) by whoever asks for it, so an officer, who holds no customer data by role,
  is refused there like anywhere else.
Every step is audited. The request's own notes are plaintext: an identifier typed into them
is refused (the detector of detect/), since this table is outside the encrypted store (C4.2.2).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Select, insert, or_, select, update
from sqlalchemy.engine import Connection

from baomi import clock
from baomi.audit.context import RequestContext
from baomi.audit.service import actor_event, append
from baomi.audit.tags import Action
from baomi.consent import service as consent
from baomi.consent.schemas import Channel, WithdrawIn
from baomi.customers import service as customers
from baomi.customers.vault import Vault
from baomi.detect import find_sensitive
from baomi.errors import Conflict, Forbidden, NotFound, ValidationFailed
from baomi.ids import is_id, new_id
from baomi.security.actor import Actor
from baomi.security.policy import CustomerAction
from baomi.security.roles import Role
from baomi.subject_requests.models import subject_requests
from baomi.subject_requests.schemas import (
    CloseIn,
    RequestKind,
    Status,
    SubjectRequestIn,
    SubjectRequestOut,
)
from baomi.users.queries import people
from baomi.users.service import active_user_ids_with_role

_HANDLER, _OFFICER = people().alias("handler"), people().alias("officer")
_LISTED = (
    select(
        subject_requests,
        _HANDLER.c.username.label("handler_username"),
        _OFFICER.c.username.label("officer_username"),
    )
    .join(_HANDLER, _HANDLER.c.id == subject_requests.c.handler_id)
    .join(_OFFICER, _OFFICER.c.id == subject_requests.c.officer_id)
)


def is_officer(actor: Actor) -> bool:
    return Role.SECURITY_OFFICER in actor.roles


def _out(row: Any) -> SubjectRequestOut:
    return SubjectRequestOut(
        id=row.id,
        customer_id=row.customer_id,
        kind=RequestKind(row.kind),
        channel=row.channel,
        received_at=row.received_at,
        identity_method=row.identity_method,
        identity_note=row.identity_note,
        due_at=row.due_at,
        overdue=row.status == Status.OPEN and row.due_at < clock.utcnow(),
        handler=row.handler_username,
        officer=row.officer_username,
        status=Status(row.status),
        outcome=row.outcome,
        consent_id=row.consent_id,
        created_at=row.created_at,
        closed_at=row.closed_at,
    )


def _no_identifiers(field: str, text: str) -> None:
    """C4.2.2: these notes are stored in the clear, outside the vault; no identifier in them."""
    if find_sensitive(text):
        raise ValidationFailed(
            [
                {
                    "field": field,
                    "code": "identifier_in_note",
                    "message": "holds a phone, ID, credit code, card or e-mail: describe the "
                    "check or the answer without the customer's identifiers",
                }
            ]
        )


def create(
    conn: Connection,
    *,
    actor: Actor,
    ctx: RequestContext,
    vault: Vault,
    request_in: SubjectRequestIn,
) -> SubjectRequestOut:
    """Record a customer's request, assign it to the handler and a security officer, audit it."""
    facts = customers.authorize_work(
        conn,
        actor=actor,
        ctx=ctx,
        vault=vault,
        customer_id=request_in.customer_id,
        action=CustomerAction.UPDATE,
        tag=Action.SUBJECT_REQUEST_CREATE,
    )
    now = clock.utcnow()
    received = request_in.received_at or now
    if received > now:
        raise ValidationFailed(
            [{"field": "received_at", "code": "received_in_future", "message": "not after now"}]
        )
    _no_identifiers("identity_note", request_in.identity_note)
    officers = active_user_ids_with_role(conn, Role.SECURITY_OFFICER)
    if not officers:
        raise Conflict(
            "no active security officer to assign the request to", code="no_security_officer"
        )
    request_id = new_id()
    conn.execute(
        insert(subject_requests).values(
            id=request_id,
            customer_id=facts.id,
            kind=request_in.kind.value,
            received_at=received,
            channel=request_in.channel.value,
            identity_method=request_in.identity_method.value,
            identity_note=request_in.identity_note,
            due_at=received + timedelta(days=request_in.due_days),
            handler_id=facts.handler_id,
            department_id=facts.department_id,
            # One officer answers for it; the first by id, so the choice is stable.
            officer_id=officers[0],
            status=Status.OPEN.value,
            created_by=actor.user_id,
            created_at=now,
        )
    )
    _audit(
        conn,
        ctx,
        actor,
        Action.SUBJECT_REQUEST_CREATE,
        request_id,
        facts.id,
        {
            "kind": request_in.kind.value,
            "channel": request_in.channel.value,
            "identity_method": request_in.identity_method.value,
            "due_days": request_in.due_days,
        },
    )
    return get(conn, actor=actor, request_id=request_id)


def _audit(
    conn: Connection,
    ctx: RequestContext,
    actor: Actor,
    action: Action,
    request_id: str,
    customer_id: str,
    details: dict[str, Any],
) -> None:
    append(
        conn,
        actor_event(
            ctx=ctx,
            actor=actor,
            action=action,
            customer_id=customer_id,
            object_id=request_id,
            details=details,
        ),
    )


def _visible(actor: Actor) -> Select[Any]:
    """The requests this person may see: all for an officer; else theirs and their subtree's."""
    if is_officer(actor):
        return _LISTED
    return _LISTED.where(
        or_(
            subject_requests.c.handler_id == actor.user_id,
            subject_requests.c.created_by == actor.user_id,
            subject_requests.c.department_id.in_(sorted(actor.headed_departments)),
        )
    )


def list_requests(
    conn: Connection, *, actor: Actor, status: Status | None = None
) -> list[SubjectRequestOut]:
    """The requests the person may see, soonest due first (C3.2: overdue ones stand out)."""
    query = _visible(actor).order_by(subject_requests.c.due_at, subject_requests.c.id)
    if status is not None:
        query = query.where(subject_requests.c.status == status.value)
    return [_out(row) for row in conn.execute(query)]


def get(conn: Connection, *, actor: Actor, request_id: str) -> SubjectRequestOut:
    """One request the person may see; any other answers 404, as if it did not exist."""
    row = None
    if is_id(request_id):
        row = conn.execute(_visible(actor).where(subject_requests.c.id == request_id)).first()
    if row is None:
        raise NotFound("no such subject request")
    return _out(row)


def close(
    conn: Connection,
    *,
    actor: Actor,
    ctx: RequestContext,
    vault: Vault,
    request_id: str,
    close_in: CloseIn,
) -> SubjectRequestOut:
    """Complete or reject an open request with its outcome; a completed withdrawal withdraws
    the named consent record (consent.service.withdraw) as of the day it was asked."""
    request = get(conn, actor=actor, request_id=request_id)
    if request.status is not Status.OPEN:
        raise Conflict("the request was closed before", code="subject_request_closed")
    if close_in.status is Status.OPEN:
        raise ValidationFailed(
            [{"field": "status", "code": "status_invalid", "message": "completed or rejected"}]
        )
    _no_identifiers("outcome", close_in.outcome)
    consent_id = None
    withdrawing = request.kind is RequestKind.WITHDRAWAL and close_in.status is Status.COMPLETED
    if withdrawing and is_officer(actor):
        raise Forbidden("a withdrawal is recorded by the customer's handler or head")
    if withdrawing:
        if close_in.consent_id is None:
            raise ValidationFailed(
                [
                    {
                        "field": "consent_id",
                        "code": "consent_required",
                        "message": "name the consent record the customer withdrew",
                    }
                ]
            )
        consent_id = consent.withdraw(
            conn,
            actor=actor,
            ctx=ctx,
            vault=vault,
            customer_id=request.customer_id,
            consent_id=close_in.consent_id,
            withdrawal=WithdrawIn(
                channel=Channel(request.channel), withdrawn_at=request.received_at
            ),
        ).id
    elif not is_officer(actor):
        # Answering is work on the customer (its handler or a head), as recording it was.
        customers.authorize_work(
            conn,
            actor=actor,
            ctx=ctx,
            vault=vault,
            customer_id=request.customer_id,
            action=CustomerAction.UPDATE,
            tag=Action.SUBJECT_REQUEST_CLOSE,
        )
    now = clock.utcnow()
    conn.execute(
        update(subject_requests)
        .where(subject_requests.c.id == request.id)
        .values(
            status=close_in.status.value,
            outcome=close_in.outcome,
            consent_id=consent_id,
            closed_at=now,
            closed_by=actor.user_id,
        )
    )
    _audit(
        conn,
        ctx,
        actor,
        Action.SUBJECT_REQUEST_CLOSE,
        request.id,
        request.customer_id,
        {
            "kind": request.kind.value,
            "status": close_in.status.value,
            "overdue": request.overdue,
            "consent_id": consent_id,
        },
    )
    return get(conn, actor=actor, request_id=request.id)
