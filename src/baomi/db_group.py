"""SQLite: the API's units of work committed in groups, each answered only once committed.

On SQLite every unit of work holds the file's write lock from its BEGIN IMMEDIATE to its COMMIT
(db_writer), so the API's units run one at a time, in one thread (api/unit.py). Each paid for a
BEGIN and a COMMIT of its own, and the COMMIT of an audited read wrote the event's page and
those of its four indexes to the WAL: ~110 µs, where the insert itself takes ~20 µs, of a unit
of ~250 µs (benchmarks/bench_http.py). Here the thread runs the units waiting for it in one
transaction and commits them together:

- the transaction begins, as a lone unit's would, with the first statement of a unit (a unit
  refused before any statement takes no lock); each later unit runs in a SAVEPOINT;
- a unit that fails is undone alone (to its savepoint, or by a rollback when its work is all
  the transaction holds), and the audit events (and effects) its refusal carries are then
  written in the group, as `uow.end_unit` writes them after a rollback (C1.3);
- no unit is answered before the COMMIT holding its work and its audit event has returned: a
  read is never acknowledged with its event uncommitted. If the group's transaction fails,
  every unit in it gets that error and none of their work stays;
- units in a group see each other's writes, as they would have one after the other;
- no unit joins a group that holds MAX_UNITS units or began MAX_SECONDS ago, so the other
  writers (the sealer, the jobs, the pages) queue behind a few units at a time, as before; a
  slow unit delays the answers of the units before it in its group by its own time. A unit
  that takes the engine (to run transactions of its own, or to stream after its commit) runs
  alone, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from queue import Empty, SimpleQueue
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from baomi.db_idle import Lent, lend
from baomi.errors import BaomiError
from baomi.uow import end_unit, write_refusal

MAX_UNITS = 32
MAX_SECONDS = 0.01
Work = Callable[[Connection], Any]
# Ends a unit whose work is only a check (api/unit.py `authorize`): rolled back, as it changes
# nothing, and its refusal, if it raised one, recorded.
_UNDONE = RuntimeError("the unit's work is undone")


class GroupLost(RuntimeError):
    """The group's transaction ended under a unit (SQLite rolled it back, or the unit ended it)."""


@dataclass(slots=True, eq=False)
class _Job:
    engine: Engine
    work: Work
    keep: bool  # False: roll the work back even when it succeeds
    alone: bool
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]
    context: contextvars.Context = field(default_factory=contextvars.copy_context)
    result: Any = None
    error: BaseException | None = None


def run_alone(engine: Engine, work: Work, *, keep: bool = True) -> Any:
    """Run one unit of work in this thread on a connection of its own, as a request's unit.

    Commit if `work` returns (and `keep`), else roll back and record the refusal its error
    carries (`uow.end_unit`). The transaction begins with the work's first statement.
    """
    lent = lend(engine)
    try:
        result = work(lent.conn)
    except BaseException as error:
        end_unit(engine, lent, error)
        raise
    if not keep:
        end_unit(engine, lent, _UNDONE)
    elif lent.conn.in_transaction() or not lent.keep():
        end_unit(engine, lent, None)
    return result


class GroupCommit:
    """The thread that runs SQLite units of work, committing those that wait in groups."""

    def __init__(self, *, max_units: int = MAX_UNITS, max_seconds: float = MAX_SECONDS) -> None:
        self.max_units, self.max_seconds = max_units, max_seconds
        self._queue: SimpleQueue[_Job] = SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    async def run(
        self, engine: Engine, work: Work, *, keep: bool = True, alone: bool = False
    ) -> Any:
        """Run `work(conn)` as a unit of work in the writer thread; return once it is committed.

        The caller's context variables (its log bindings) go along, as with `run_in_executor`.
        """
        loop = asyncio.get_running_loop()
        job = _Job(engine, work, keep, alone, loop, loop.create_future())
        if self._thread is None:
            self._start()
        self._queue.put(job)
        return await job.future

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._serve, name="baomi-unit-sqlite", daemon=True
                )
                self._thread.start()

    def _serve(self) -> None:
        carried: _Job | None = None
        while True:
            job = carried or self._queue.get()
            carried = None
            if job.future.cancelled():
                continue  # the request is gone before its unit began: nothing to run
            if job.alone:
                try:
                    job.result = job.context.run(run_alone, job.engine, job.work, keep=job.keep)
                except BaseException as error:
                    job.error = error
                _answer([job])
                continue
            done, carried = self._group(job)
            _answer(done)

    def _joining(self, first: _Job) -> tuple[_Job | None, _Job | None]:
        """The next unit waiting, if it may join `first`'s group; else (None, that unit)."""
        try:
            job = self._queue.get_nowait()
        except Empty:
            return None, None
        if job.engine is not first.engine or job.alone:
            return None, job
        return job, None

    def _group(self, first: _Job) -> tuple[list[_Job], _Job | None]:
        """Run `first` and the units that wait behind it in one transaction; commit it."""
        done: list[_Job] = []
        carried: _Job | None = None
        try:
            lent = lend(first.engine)
        except BaseException as error:
            first.error = error
            return [first], None
        conn = lent.conn
        job: _Job | None = first
        try:
            deadline = time.monotonic() + self.max_seconds
            while job is not None:
                if not job.future.cancelled():
                    _run_in_group(conn, job)
                    done.append(job)
                job = None
                if len(done) < self.max_units and time.monotonic() < deadline:
                    job, carried = self._joining(first)
            if conn.in_transaction():
                conn.commit()
        except BaseException as error:
            # Nothing of the group stays: every unit in it hears why, none is acknowledged.
            lost = [*done, job] if job is not None else done
            _roll_back(lent)
            for each in lost:
                each.result, each.error = None, error
            return lost, carried
        finally:
            lent.give_back()
        return done, carried


def _driver(conn: Connection) -> Any:
    return conn.connection.driver_connection


def _run_in_group(conn: Connection, job: _Job) -> None:
    """Run one unit in the group, in a savepoint of its own once the group holds work to keep.

    The group's transaction begins, as any unit's, with the first statement (BEGIN IMMEDIATE);
    a unit that begins it has nothing of the others to protect, and is undone by a rollback.
    """
    protected = _protect(conn)
    try:
        job.result = job.context.run(job.work, conn)
    except BaseException as error:
        _undo(conn, protected)
        job.error = _record(conn, error)
        return
    if not job.keep:
        _undo(conn, protected)
    elif conn.in_transaction():
        _still_open(conn)
        if protected:
            _driver(conn).execute("RELEASE baomi_unit")


def _record(conn: Connection, error: BaseException) -> BaseException:
    """Write a refusal's audit events and effects in the group; the error the unit answers."""
    if not isinstance(error, BaomiError) or not (error.audit_events or error.effects):
        return error
    protected = _protect(conn)
    try:
        write_refusal(conn, error)
    except BaseException as failed:
        _undo(conn, protected)
        return failed  # as `uow.end_unit`: a refusal that cannot be recorded is not answered
    if protected:
        _driver(conn).execute("RELEASE baomi_unit")
    return error


def _protect(conn: Connection) -> bool:
    """Open a savepoint if the group's transaction has begun; say whether it did."""
    if not conn.in_transaction():
        return False
    _still_open(conn)
    _driver(conn).execute("SAVEPOINT baomi_unit")
    return True


def _still_open(conn: Connection) -> None:
    """The group's transaction is still there, with no savepoint of a unit's left open."""
    if (
        conn.invalidated
        or not conn.in_transaction()
        or conn.in_nested_transaction()
        or not _driver(conn).in_transaction
    ):
        raise GroupLost("a unit of work ended the transaction of its group")


def _undo(conn: Connection, protected: bool) -> None:
    """Take back what the unit did: to its savepoint, or the transaction it began."""
    if not protected:
        conn.rollback()
        return
    _still_open(conn)
    driver = _driver(conn)
    driver.execute("ROLLBACK TO baomi_unit")
    driver.execute("RELEASE baomi_unit")


def _roll_back(lent: Lent) -> None:
    conn = lent.conn
    try:
        # Also after a failed COMMIT, which leaves SQLAlchemy's transaction inactive but set.
        conn.rollback()
        if not conn.closed and _driver(conn).in_transaction:
            _driver(conn).rollback()  # SQLAlchemy's transaction had ended before SQLite's
    except Exception:  # the group has failed already: its error is the answer, not this one
        conn.invalidate()


def _answer(jobs: list[_Job]) -> None:
    """Hand each unit's result to its request, in one call per event loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Job]] = {}
    for job in jobs:
        by_loop.setdefault(job.loop, []).append(job)
    for loop, answered in by_loop.items():
        # A loop that has closed raises RuntimeError: nobody waits for these answers.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_settle, answered)


def _settle(jobs: list[_Job]) -> None:
    for job in jobs:
        if job.future.done():
            continue  # cancelled meanwhile
        if job.error is not None:
            job.future.set_exception(job.error)
        else:
            job.future.set_result(job.result)


# One writer thread for the process, as one SQLite file takes one writer at a time.
WRITER = GroupCommit()
