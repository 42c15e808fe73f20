"""Leases on jobs in the database: one runner per job run, across processes and machines.

A runner takes a job with one compare-and-set UPDATE (due, and nobody's lease in force), so of
several app instances (or cron beside them) exactly one wins; the others see zero rows and move
on. On PostgreSQL the attempt first takes `pg_try_advisory_xact_lock`, so a losing instance skips
at once instead of queueing behind the winner's row lock. A runner that crashes leaves its lease
behind; it runs out at `lease_until` and the job is taken over. Finishing checks the lease again,
in the job's own transaction, so work done under a lease that was lost is rolled back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, func, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from baomi.jobs.models import job_runs
from baomi.uow import unit_of_work

MAX_ERROR_LENGTH = 500


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for PostgreSQL's advisory locks, one per job name."""
    digest = hashlib.sha256(f"baomi.job:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def ensure_rows(engine: Engine, names: Iterable[str], *, now: datetime) -> None:
    """Give every registered job its row; a new job is due at once."""
    wanted = set(names)
    with engine.connect() as conn:
        known = set(conn.execute(select(job_runs.c.name)).scalars())
    for name in sorted(wanted - known):
        try:
            with unit_of_work(engine) as conn:
                conn.execute(insert(job_runs).values(name=name, next_due_at=now))
        except IntegrityError:
            pass  # another instance registered it first


def take(
    engine: Engine,
    *,
    name: str,
    owner: str,
    now: datetime,
    lease: timedelta,
    force: bool = False,
) -> bool:
    """Take the job's lease if it is due (or `force`) and nobody holds one; return whether."""
    r = job_runs.c
    free = or_(r.lease_until.is_(None), r.lease_until <= now)
    condition = (
        and_(r.name == name, free) if force else and_(r.name == name, free, r.next_due_at <= now)
    )
    with unit_of_work(engine) as conn:
        if (
            conn.dialect.name == "postgresql"
            and not conn.execute(
                select(func.pg_try_advisory_xact_lock(advisory_key(name)))
            ).scalar_one()
        ):
            return False
        result = conn.execute(
            update(job_runs)
            .where(condition)
            .values(lease_owner=owner, lease_until=now + lease, last_started_at=now)
        )
        return result.rowcount == 1


def finish(
    conn: Connection,
    *,
    name: str,
    owner: str,
    now: datetime,
    next_due_at: datetime,
    status: str,
    error: str | None = None,
) -> bool:
    """Record the run and give the lease back; False when the lease is no longer ours."""
    r = job_runs.c
    result = conn.execute(
        update(job_runs)
        .where(r.name == name, r.lease_owner == owner)
        .values(
            lease_owner=None,
            lease_until=None,
            last_finished_at=now,
            last_status=status,
            last_error=error[:MAX_ERROR_LENGTH] if error else None,
            next_due_at=next_due_at,
        )
    )
    return result.rowcount == 1


def states(conn: Connection) -> dict[str, Any]:
    """Every job row by name (for `baomi jobs list`)."""
    return {row.name: row for row in conn.execute(select(job_runs).order_by(job_runs.c.name))}
