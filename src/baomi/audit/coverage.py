"""Whether a witness covers the log, and the restores the log and its witness accepted (C1.3).

The rollback itself (a log cut back below what the witness co-signed, or a root that does not
extend it) is caught where every kept checkpoint is checked: the start-up check and the full
verification. This adds what only the pairing of the log with its witness shows (issue 17.6):
- a log that was witnessed but has no witness configured now (the witness was taken away);
- a witness that went back (its operator accepted a restore) to where the log never did;
- a restore the log's officer accepted that the witness's operator has not accepted yet;
and says each accepted restore aloud, so a verified log with a gap never reads as one without.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from baomi.audit import store, witness_client
from baomi.audit.checkpoint import Checkpoint, Verifier
from baomi.audit.models import audit_events
from baomi.audit.publish import witnessed_size
from baomi.audit.settings import AuditSettings
from baomi.audit.tags import Action, Decision

NO_WITNESS = (
    "no witness covers this log: an older copy of the database and BAOMI_HOME together (a "
    "rollback) would verify clean; run a witness on another machine or account "
    "(docs/operations.md#the-witness)"
)


@dataclass(frozen=True, slots=True)
class LogRestore:
    """An `audit:restore_accept` event: the log went back from one checkpoint to another."""

    event_id: int
    at: str
    by: str
    restored_to: int
    newest_superseded: int


@dataclass(slots=True)
class Coverage:
    """Which witness covers the log, what it last co-signed, and what the pairing shows."""

    witness: str | None
    latest: Checkpoint | None = None
    problem: str | None = None
    restores: list[str] = field(default_factory=list)


def _details(value: Any) -> dict[str, Any]:
    return dict(json.loads(value) if isinstance(value, str) else value or {})


def log_restores(conn: Connection) -> list[LogRestore]:
    """Return the restores accepted in this log, oldest first."""
    e = audit_events.c
    rows = conn.execute(
        select(e.id, e.occurred_at, e.actor_username, e.details)
        .where(e.action == Action.AUDIT_RESTORE_ACCEPT.value, e.decision == Decision.ALLOW.value)
        .order_by(e.id)
    )
    out = []
    for event_id, at, by, details in rows:
        d = _details(details)
        out.append(
            LogRestore(
                int(event_id),
                at.isoformat() if isinstance(at, datetime) else str(at),
                str(by),
                int(d.get("restored_to", 0)),
                int(d.get("newest_superseded", 0)),
            )
        )
    return out


def _when(seconds: Any) -> str:
    return datetime.fromtimestamp(int(seconds), UTC).isoformat()


def _say(mine: LogRestore, theirs: dict[str, Any] | None, witnessed: bool) -> str:
    lost = mine.newest_superseded - mine.restored_to
    text = (
        f"accepted restore: the log went back from checkpoint {mine.newest_superseded} to "
        f"{mine.restored_to} ({lost} sealed events lost), accepted by {mine.by} at {mine.at} "
        f"(audit event {mine.event_id}); "
    )
    if theirs is not None:
        return text + (
            f"the witness, which had co-signed {theirs['superseded_size']}, went back at its "
            f"operator's word at {_when(theirs['accepted_at'])}"
        )
    return text + ("the witness never co-signed beyond it" if witnessed else "no witness")


def assess(conn: Connection, log_key: Verifier, settings: AuditSettings) -> Coverage:
    """Pair the log with its witness; raises WitnessUnavailable when the witness cannot answer."""
    mine = log_restores(conn)
    target = witness_client.client(settings, log_key)
    if target is None:
        coverage = Coverage(None, restores=[_say(r, None, False) for r in mine])
        if received := witnessed_size(conn):
            coverage.problem = (
                f"a witness co-signed this log up to {received}, but no witness is configured "
                "now: with it gone a rollback goes unseen; configure it again "
                "(BAOMI_AUDIT_WITNESS_URL, or BAOMI_AUDIT_WITNESS_DIR; the demo's is "
                f"{settings.demo_witness_dir})"
            )
        return coverage
    latest = witness_client.latest_checkpoint(target, log_key)
    theirs = {int(r["restored_size"]): r for r in target.restores(log_key.name)}
    accepted = {r.restored_to for r in mine}
    coverage = Coverage(target.where, latest)
    coverage.restores = [_say(r, theirs.get(r.restored_to), True) for r in mine]
    for size, record in sorted(theirs.items()):
        if size not in accepted:
            coverage.problem = (
                f"the witness went back from {record['superseded_size']} to {size} (its "
                f"operator accepted a restore at {_when(record['accepted_at'])}), but this log "
                f"records no accepted restore to {size} (a security officer's `baomi audit "
                "accept-restore`)"
            )
            return coverage
    last = store.last_checkpoint(conn)
    size = last[0] if last else 0
    if latest is not None and latest.size > size and size in accepted and size not in theirs:
        kept = settings.resolved_export_dir / f"checkpoint.{size:020d}"
        where = settings.resolved_witness_dir or "<its directory>"
        coverage.problem = (
            f"the restore to checkpoint {size} was accepted here, but the witness ({target.where}) "
            f"still holds checkpoint {latest.size}: its operator accepts it with `baomi witness "
            f"accept-restore --dir {where} --checkpoint {kept}`, then `baomi audit seal` seals "
            "the acceptance"
        )
    return coverage
