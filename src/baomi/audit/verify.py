"""Full verification of the audit log from the database (C1.3, C6).

Every event is re-encoded and re-hashed, the tree is rebuilt, and its root at each checkpoint size
must equal the signed root there. Two checkpoints that are both roots of the one rebuilt tree are
consistent with each other, so this also checks consistency between consecutive checkpoints.
Checkpoints held outside the database (the export directory, the witness) are checked the same
way, which is what detects a database restored to an older copy.

The fast pass reads only audit_events. Only when a root disagrees does a second pass compare
events with the stored leaves to name the first bad event.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from baomi.audit import leaf, merkle, store
from baomi.audit.checkpoint import Checkpoint, CheckpointError, Verifier, open_checkpoint
from baomi.audit.models import audit_leaves

# Clocks of app instances may differ; an unsealed event older than the last sealed one by more
# than this cannot come from a transaction the sealer waited for: it was inserted behind its back.
CLOCK_SKEW = timedelta(minutes=5)
_CHUNK = 50_000


@dataclass(frozen=True, slots=True)
class Problem:
    """The first thing found wrong, naming the event or checkpoint."""

    kind: str
    message: str
    event_id: int | None = None
    leaf_index: int | None = None
    checkpoint: int | None = None


@dataclass(slots=True)
class Report:
    """What `verify` checked and the first problem, if any."""

    events: int = 0
    sealed: int = 0
    checkpoints: int = 0
    external: list[str] = field(default_factory=list)
    problem: Problem | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def pending(self) -> int:
        return max(self.events - self.sealed, 0)


@dataclass(frozen=True, slots=True)
class _Target:
    size: int
    root: bytes
    label: str


def _targets(
    conn: Connection, log: Verifier, external: Iterable[tuple[str, Checkpoint]], report: Report
) -> list[_Target]:
    out: list[_Target] = []
    for size, note in store.checkpoint_sizes(conn):
        try:
            cp = open_checkpoint(note, log)
        except CheckpointError as exc:
            report.problem = Problem("checkpoint", f"checkpoint {size}: {exc}", checkpoint=size)
            return []
        if cp.size != size:
            report.problem = Problem("checkpoint", f"checkpoint row {size} signs size {cp.size}")
            return []
        out.append(_Target(size, cp.root, f"checkpoint {size}"))
    report.checkpoints = len(out)
    report.sealed = out[-1].size if out else 0
    for source, cp in external:
        out.append(_Target(cp.size, cp.root, f"{source} checkpoint {cp.size}"))
        report.external.append(f"{source}:{cp.size}")
    out.sort(key=lambda t: t.size)
    return out


def verify(
    conn: Connection,
    log: Verifier,
    *,
    external: Iterable[tuple[str, Checkpoint]] = (),
    progress: Callable[[int], None] | None = None,
) -> Report:
    """Re-hash every event, rebuild the tree and check it against every signed checkpoint."""
    started = time.perf_counter()
    report = Report()
    targets = _targets(conn, log, external, report)
    if report.problem is None:
        _check(conn, targets, report, progress)
    report.seconds = time.perf_counter() - started
    return report


def _check(
    conn: Connection,
    targets: list[_Target],
    report: Report,
    progress: Callable[[int], None] | None,
) -> None:
    enc, leaf_hash = leaf.encoder(), merkle.leaf_hash
    edge = merkle.CompactRange()
    cur = store.event_rows(conn, 0)
    rows: Iterator[Any] = iter(cur)
    last_row: Any = None
    sealed_at: datetime | None = None
    previous = 0
    for target in [*targets, None]:
        stop = target.size if target else None
        while stop is None or edge.size < stop:
            n = _CHUNK if stop is None else min(_CHUNK, stop - edge.size)
            chunk = list(itertools.islice(rows, n))
            if chunk:
                edge.extend(leaf_hash(enc(r)) for r in chunk)
                last_row = chunk[-1]
                if progress:
                    progress(len(chunk))
            if len(chunk) < n:
                break
        if target is None:
            break
        if edge.size < target.size:
            report.events = edge.size
            report.problem = _diagnose(conn, previous, target) or _truncated(edge.size, target)
            cur.close()
            return
        if edge.root() != target.root:
            report.problem = _diagnose(conn, previous, target) or Problem(
                "tree",
                f"events in leaves {previous}..{target.size - 1} do not hash to {target.label}; "
                "the stored leaf hashes were rewritten as well",
                leaf_index=previous,
                checkpoint=target.size,
            )
            cur.close()
            return
        previous = target.size
        if edge.size == report.sealed and last_row is not None:
            sealed_at = _parse_time(last_row[1])
    report.events = edge.size
    cur.close()
    if sealed_at is not None and report.events > report.sealed:
        report.problem = _backdated(conn, report.sealed, sealed_at)


def _truncated(count: int, target: _Target) -> Problem:
    return Problem(
        "rollback",
        f"the database holds {count} events but {target.label} covers {target.size}: events were "
        "deleted, or this is a restored older copy of the database",
        leaf_index=count,
        checkpoint=target.size,
    )


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _backdated(conn: Connection, sealed: int, sealed_at: datetime) -> Problem | None:
    """Name an unsealed event dated well before the last sealed one (inserted behind the log)."""
    limit = leaf.format_time(sealed_at - CLOCK_SKEW)
    cur = store.event_rows(conn, store.last_sealed_event_id(conn, sealed))
    try:
        for row in cur:
            if row[1] < limit:
                return Problem(
                    "event",
                    f"event {row[0]} is dated {row[1]}, before events already sealed: it was "
                    "inserted behind the log's back",
                    event_id=int(row[0]),
                )
    finally:
        cur.close()
    return None


def _diagnose(conn: Connection, begin: int, target: _Target) -> Problem | None:
    """Walk stored leaves [begin, target) beside the events to name the first that differs."""
    enc = leaf.encoder()
    after = store.last_sealed_event_id(conn, begin) if begin else 0
    c = audit_leaves.c
    leaves = conn.execute(
        select(c.leaf_index, c.event_id, c.leaf_hash)
        .where(c.leaf_index >= begin, c.leaf_index < target.size)
        .order_by(c.leaf_index)
    ).all()
    cur = store.event_rows(conn, after)
    try:
        rows = iter(cur)
        row = next(rows, None)
        for expected, (index, event_id, stored) in enumerate(leaves, start=begin):
            if index != expected:
                return Problem("leaf", f"leaf {expected} is missing", leaf_index=expected)
            if row is None or row[0] > event_id:
                return Problem(
                    "event",
                    f"event {event_id} (leaf {index}) is missing: deleted after sealing",
                    event_id=event_id,
                    leaf_index=index,
                )
            if row[0] < event_id:
                return Problem(
                    "event",
                    f"event {row[0]} was inserted into the sealed log (no leaf of its own)",
                    event_id=int(row[0]),
                    leaf_index=index,
                )
            if merkle.leaf_hash(enc(row)) != bytes(stored):
                return Problem(
                    "event",
                    f"event {event_id} (leaf {index}) was changed after sealing",
                    event_id=event_id,
                    leaf_index=index,
                )
            row = next(rows, None)
    finally:
        cur.close()
    return None
