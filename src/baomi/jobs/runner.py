"""Running due jobs: under a lease, audited as the system, in the server or from cron.

Each run of a transactional job is one transaction holding the job's work, its `job:run` audit
event (name and counts, no data) and the bookkeeping of the run; a failure rolls the work back
and records the failure (class and short message) in a transaction of its own.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

import structlog
from sqlalchemy import Engine
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from baomi import clock
from baomi.audit.context import job_context
from baomi.audit.service import record
from baomi.audit.tags import Action, Decision
from baomi.errors import BaomiError
from baomi.jobs import lease
from baomi.jobs.registry import Job, JobRegistry, counts_of
from baomi.uow import unit_of_work

log = structlog.get_logger(__name__)

Status = Literal["ok", "failed", "skipped"]


@dataclass(frozen=True, slots=True)
class RunOutcome:
    name: str
    status: Status
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None


class UnknownJob(BaomiError):
    status = 404
    code = "unknown_job"
    title = "No such job"


class _LeaseLost(Exception):
    """Another runner took the job over (our lease ran out): our work must not commit."""


def runner_identity() -> str:
    """Name this runner in leases: host, process and a random part (two runners per process)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


def describe_error(error: BaseException) -> str:
    """The error's class and a short message; never a statement's parameters."""
    if isinstance(error, BaomiError):
        return f"{type(error).__name__}: {error.code}"
    if isinstance(error, SQLAlchemyError):
        cause = getattr(error, "orig", None)
        return type(error).__name__ + (f" ({type(cause).__name__})" if cause else "")
    first_line = (str(error).splitlines() or [""])[0][:200]
    return f"{type(error).__name__}: {first_line}" if first_line else type(error).__name__


def _audit(conn: Connection, job: Job, outcome: RunOutcome, owner: str) -> None:
    ctx = job_context(job.name)
    details: dict[str, object] = {"job": job.name, "runner": owner, **outcome.counts}
    if outcome.error:
        details["error"] = outcome.error
    record(
        conn,
        ctx=ctx,
        actor_id=None,
        actor_username=ctx.operator,
        action=Action.JOB_RUN,
        decision=Decision.ALLOW,
        reason=outcome.status,
        details=details,
    )


class JobRunner:
    """Run the registry's jobs against one database, as one named runner."""

    def __init__(
        self,
        engine: Engine,
        registry: JobRegistry,
        *,
        lease_seconds: int = 300,
        owner: str | None = None,
    ) -> None:
        self.engine = engine
        self.registry = registry
        self.lease = timedelta(seconds=lease_seconds)
        self.owner = owner or runner_identity()
        self._rows_ready = False

    def _ensure_rows(self, now: datetime) -> None:
        if not self._rows_ready:
            lease.ensure_rows(self.engine, self.registry.names, now=now)
            self._rows_ready = True

    def run_due(self, now: datetime | None = None) -> list[RunOutcome]:
        """Run every job that is due and not leased elsewhere; return what happened to each."""
        now = now or clock.utcnow()
        self._ensure_rows(now)
        # A plain read first: a job that is not due costs no write transaction.
        with self.engine.connect() as conn:
            rows = lease.states(conn)
        due = [
            job
            for job in self.registry
            if job.name in rows
            and rows[job.name].next_due_at <= now
            and (rows[job.name].lease_until is None or rows[job.name].lease_until <= now)
        ]
        return [self._run(job, now, force=False) for job in due]

    def run_one(self, name: str, now: datetime | None = None) -> RunOutcome:
        """Run one job now, due or not (`baomi jobs run --job NAME`), unless it is leased."""
        job = self.registry.get(name)
        if job is None:
            known = ", ".join(self.registry.names)
            raise UnknownJob(f"no job named {name!r} (known: {known})")
        now = now or clock.utcnow()
        self._ensure_rows(now)
        return self._run(job, now, force=True)

    def _run(self, job: Job, now: datetime, *, force: bool) -> RunOutcome:
        if not lease.take(
            self.engine, name=job.name, owner=self.owner, now=now, lease=self.lease, force=force
        ):
            return RunOutcome(job.name, "skipped")
        try:
            if job.run is not None:
                return self._run_in_transaction(job, now)
            return self._run_outside(job, now)
        except _LeaseLost:
            log.warning("job.lease_lost", job=job.name)
            return RunOutcome(job.name, "skipped")
        except Exception as error:  # a failed job must not stop the others; it is recorded
            log.exception("job.failed", job=job.name)
            outcome = RunOutcome(job.name, "failed", error=describe_error(error))
            with unit_of_work(self.engine) as conn:
                lease.finish(
                    conn,
                    name=job.name,
                    owner=self.owner,
                    now=max(clock.utcnow(), now),
                    next_due_at=now + job.every,
                    status="failed",
                    error=outcome.error,
                )
                _audit(conn, job, outcome, self.owner)
            return outcome

    def _run_in_transaction(self, job: Job, now: datetime) -> RunOutcome:
        assert job.run is not None
        with unit_of_work(self.engine) as conn:
            outcome = RunOutcome(job.name, "ok", counts_of(job.run(conn, now=now)))
            self._finish_ok(conn, job, outcome, now)
        return outcome

    def _run_outside(self, job: Job, now: datetime) -> RunOutcome:
        assert job.outside_transaction is not None
        outcome = RunOutcome(
            job.name, "ok", counts_of(job.outside_transaction(self.engine, now=now))
        )
        with unit_of_work(self.engine) as conn:
            self._finish_ok(conn, job, outcome, now)
        return outcome

    def _finish_ok(self, conn: Connection, job: Job, outcome: RunOutcome, now: datetime) -> None:
        if not lease.finish(
            conn,
            name=job.name,
            owner=self.owner,
            now=max(clock.utcnow(), now),
            next_due_at=now + job.every,
            status="ok",
        ):
            raise _LeaseLost
        # A run that changed nothing leaves no audit event (job_runs still records it): a
        # one-minute mail job would otherwise add ~1,400 empty events a day to the evidence.
        if any(outcome.counts.values()):
            _audit(conn, job, outcome, self.owner)


class BackgroundJobs(threading.Thread):
    """Run due jobs every few seconds in the server process; stop() ends it after the run."""

    def __init__(self, runner: JobRunner, poll_seconds: float = 30.0) -> None:
        super().__init__(name="baomi-jobs", daemon=True)
        self.runner = runner
        self.poll_seconds = poll_seconds
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.poll_seconds):
            try:
                self.runner.run_due()
            except Exception:  # the database may be briefly away: try again at the next poll
                log.exception("jobs.run_failed")

    def stop(self) -> None:
        self._stop_event.set()
