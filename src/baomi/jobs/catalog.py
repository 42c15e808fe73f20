"""The product's scheduled jobs, one registration each.

A new job is one line: `registry.every("name", timedelta(...), function)` where the function
takes `(conn, *, now)` and returns counts for the audit log.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.engine import Connection

from baomi.auth import lockout
from baomi.config import Settings
from baomi.customers import periods
from baomi.grants import expiry
from baomi.jobs.registry import Job, JobRegistry
from baomi.notifications import outbox


def default_registry(settings: Settings) -> JobRegistry:
    """Return the registry of every job the server and `baomi jobs` run."""
    registry = JobRegistry()
    registry.every(expiry.REMIND_JOB, timedelta(minutes=10), expiry.remind_expiring)
    registry.every(expiry.EXPIRE_JOB, timedelta(minutes=5), expiry.notify_expired)
    registry.add(
        Job(
            name="mail.send",
            every=timedelta(minutes=1),
            outside_transaction=partial(outbox.send_due, settings=settings),
        )
    )
    # C2.2: a confidentiality period that has ended lowers the level as its rule says.
    registry.every("levels.lapse", timedelta(hours=1), periods.lapse_confidentiality_periods)
    registry.every("auth.purge_throttles", timedelta(hours=1), partial(_purge, settings=settings))
    return registry


def _purge(conn: Connection, *, now: datetime, settings: Settings) -> dict[str, int]:
    policy = lockout.Policy.from_settings(settings)
    return {"deleted": lockout.purge_forgotten_addresses(conn, policy=policy, now=now)}
