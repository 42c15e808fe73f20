"""Jobs by name: what runs, how often, and with what.

Most jobs are a function `(conn, *, now)` run in one transaction together with their audit
event and the bookkeeping of their run, so their work commits only if the run is recorded as
theirs. A job that waits on the outside world (SMTP) instead receives the engine and keeps each
of its transactions short (`outside_transaction`), so a slow server never holds the database.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Engine
from sqlalchemy.engine import Connection


class JobFunction(Protocol):
    """Do the job's work in the caller's transaction; return counts (or a count) to audit."""

    def __call__(self, conn: Connection, *, now: datetime) -> object: ...


class EngineJobFunction(Protocol):
    """Do the job's work in transactions of its own; return counts to audit."""

    def __call__(self, engine: Engine, *, now: datetime) -> object: ...


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    every: timedelta
    run: JobFunction | None = None
    outside_transaction: EngineJobFunction | None = None

    def __post_init__(self) -> None:
        if (self.run is None) == (self.outside_transaction is None):
            raise ValueError(f"job {self.name}: give exactly one of run, outside_transaction")
        if not 0 < len(self.name) <= 40:
            raise ValueError(f"job name {self.name!r}: 1 to 40 characters")
        if self.every <= timedelta(0):
            raise ValueError(f"job {self.name}: the interval must be positive")


class JobRegistry:
    """The jobs this process knows, in registration order."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}

    def add(self, job: Job) -> Job:
        if job.name in self._jobs:
            raise ValueError(f"job {job.name} is registered twice")
        self._jobs[job.name] = job
        return job

    def every(self, name: str, every: timedelta, run: JobFunction) -> Job:
        """Register a transactional job: `registry.every("x.y", timedelta(hours=1), fn)`."""
        return self.add(Job(name=name, every=every, run=run))

    def get(self, name: str) -> Job | None:
        return self._jobs.get(name)

    def __iter__(self) -> Iterator[Job]:
        return iter(self._jobs.values())

    def __len__(self) -> int:
        return len(self._jobs)

    @property
    def names(self) -> list[str]:
        return list(self._jobs)


def counts_of(result: object) -> dict[str, int]:
    """Turn what a job returned into the counts its audit event records (numbers only)."""
    if isinstance(result, bool):
        return {"done": int(result)}
    if isinstance(result, int):
        return {"count": result}
    if isinstance(result, Mapping):
        return {str(k): int(v) for k, v in result.items() if isinstance(v, int)}
    if isinstance(result, list | tuple | set | frozenset):
        return {"count": len(result)}
    return {}
