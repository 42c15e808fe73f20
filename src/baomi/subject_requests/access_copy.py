"""Make the access copy of an access request (PIPL art. 45): read through the batch door for
the purpose SUBJECT_ACCESS (customers.service.read_many: decided as the single door decides,
masked fields left masked, audited per customer), laid out by pdf.py, and the copy audited."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from baomi import clock
from baomi.audit.context import RequestContext
from baomi.audit.service import actor_event, append
from baomi.audit.tags import Action
from baomi.consent import service as consent
from baomi.customers import service as customers
from baomi.customers.vault import Vault
from baomi.errors import Conflict, Forbidden, NotFound
from baomi.security.actor import Actor
from baomi.security.purposes import Purpose
from baomi.subject_requests import pdf
from baomi.subject_requests.schemas import RequestKind, Status
from baomi.subject_requests.service import get

# How a consent record's state reads in the copy.
_STATES = {
    "in_force": "有效",
    "not_yet": "尚未生效",
    "expired": "已过期",
    "withdrawn": "已撤回",
    "superseded": "已被替代",
}


def access_copy(
    conn: Connection, *, actor: Actor, ctx: RequestContext, vault: Vault, request_id: str
) -> tuple[str, bytes]:
    """Return (file name, PDF bytes) of the copy for an open or completed access request."""
    request = get(conn, actor=actor, request_id=request_id)
    if request.kind is not RequestKind.ACCESS or request.status is Status.REJECTED:
        raise Conflict(
            "only an access request that was not rejected has a copy", code="not_an_access_request"
        )
    result = customers.read_many(
        conn,
        actor=actor,
        ctx=ctx,
        vault=vault,
        customer_ids=[request.customer_id],
        purpose=Purpose.SUBJECT_ACCESS,
    )
    if not result.records:
        reason = result.refused[0].reason.value if result.refused else "not_found"
        if reason == "not_found":
            # C4.2.1: the officer and others who may not read the customer learn nothing more.
            raise Forbidden("you may not read this customer's data", code="not_found")
        raise NotFound(f"the customer's data cannot be read ({reason})")
    record = result.records[0]
    records = consent.list_consents(
        conn, actor=actor, ctx=ctx, vault=vault, customer_id=request.customer_id
    )
    now = clock.utcnow()
    body = pdf.access_copy(
        company="本公司",
        request_id=request.id,
        received_at=request.received_at,
        generated_at=now,
        data=record.data,
        masked=record.masked,
        consents=[
            (c.basis, "、".join(c.purposes), _STATES.get(c.status.value, c.status.value))
            for c in records
        ],
    )
    append(
        conn,
        actor_event(
            ctx=ctx,
            actor=actor,
            action=Action.SUBJECT_REQUEST_ACCESS_COPY,
            customer_id=request.customer_id,
            object_id=request.id,
            fields=sorted(record.data),
            details={"batch_id": result.batch_id, "bytes": len(body), "masked": record.masked},
        ),
    )
    return f"access-copy-{request.id}.pdf", body
