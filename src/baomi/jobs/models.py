"""The scheduler's state: one row per registered job, holding its lease and its last run."""

from __future__ import annotations

from sqlalchemy import Column, String, Table, Text

from baomi.db import UTCDateTime, metadata

# Several app instances (and cron) share this table: a runner runs a job only after taking its
# lease with a compare-and-set UPDATE; a crashed runner's lease simply runs out (lease_until).
job_runs = Table(
    "job_runs",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("next_due_at", UTCDateTime(), nullable=False),
    Column("lease_owner", String(100), nullable=True),
    Column("lease_until", UTCDateTime(), nullable=True),
    Column("last_started_at", UTCDateTime(), nullable=True),
    Column("last_finished_at", UTCDateTime(), nullable=True),
    # ok or failed; NULL until the first run.
    Column("last_status", String(16), nullable=True),
    # The error class and a short message, never parameters or secrets.
    Column("last_error", Text, nullable=True),
)
