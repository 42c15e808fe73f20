"""Append audit events in the caller's transaction, and read them back for auditors."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Connection

from baomi import clock
from baomi.audit.context import RequestContext
from baomi.audit.models import audit_events
from baomi.audit.tags import Action, Decision
from baomi.db_direct import DirectStatement
from baomi.security.actor import AnyActor

_EVENT_KEYS = tuple(c.name for c in audit_events.columns if c.name != "id")
# Every audited action inserts one of these: the hottest write of the product. Most events name
# one of a few field lists (all fields of a record, say), so each list is serialised once.
_INSERT = DirectStatement(insert(audit_events), insert_keys=_EVENT_KEYS, memoize=("fields",))


def event(
    *,
    ctx: RequestContext,
    actor_id: str | None,
    actor_username: str | None,
    action: Action,
    decision: Decision,
    reason: str,
    customer_id: str | None = None,
    object_id: str | None = None,
    fields: Iterable[str] | None = None,
    details: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the row of one audit event (no plaintext customer values, ever)."""
    return {
        "occurred_at": clock.utcnow(),
        "actor_id": actor_id,
        "actor_username": actor_username,
        "action": action.value,
        "customer_id": customer_id,
        "object_id": object_id,
        "fields": sorted(fields) if fields is not None else None,
        "decision": decision.value,
        "reason": reason,
        "request_id": ctx.request_id,
        "client_addr": ctx.client_addr,
        "details": dict(details) if details else None,
    }


def actor_event(
    *,
    ctx: RequestContext,
    actor: AnyActor,
    action: Action,
    allowed: bool = True,
    reason: str = "ok",
    **kwargs: Any,
) -> dict[str, Any]:
    """Return the event of something a person, or the system, did or was refused.

    The system has no user id: its event names it in actor_username ("os:<account>",
    "system:seed") with a NULL actor_id, as scheduled jobs' events do; the leaf encoding of the
    log (audit/leaf.py) stays as it is.
    """
    return event(
        ctx=ctx,
        actor_id=actor.user_id,
        actor_username=actor.username,
        action=action,
        decision=Decision.ALLOW if allowed else Decision.DENY,
        reason=reason,
        **kwargs,
    )


def _hold_a_transaction_id(conn: Connection) -> None:
    """PostgreSQL: make the transaction visible to the sealer before it draws an event id.

    The sealer (audit/sealing.py) seals up to the largest committed id once every transaction
    in flight beside it has ended, and it sees a transaction in flight only once it holds a
    transaction id. An audited read's first write is its event, whose id is drawn before the
    row (and so the transaction id) exists: in that gap the sealer skipped the event and
    verify then read it as tampering for good. Assigning the transaction id first closes it.
    """
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SELECT pg_current_xact_id()")


def append(conn: Connection, row: dict[str, Any]) -> None:
    """Insert one event row; it commits or rolls back with the action it describes."""
    _hold_a_transaction_id(conn)
    _INSERT.execute(conn, row)


def append_all(conn: Connection, rows: Iterable[dict[str, Any]]) -> None:
    """Insert several event rows at once: the refusals a rolled-back unit of work carries, or
    one event per customer of a batch read (customers/batch.py), in one executemany."""
    _hold_a_transaction_id(conn)
    _INSERT.execute_many(conn, list(rows))


def record(conn: Connection, **kwargs: Any) -> None:
    """Build and append one event in the caller's transaction."""
    append(conn, event(**kwargs))
