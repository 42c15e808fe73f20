"""One SQLite writer at a time per database file in this process, served in arrival order.

Every transaction on a SQLite engine from `make_engine` takes the write lock at its BEGIN
(BEGIN IMMEDIATE), so transactions run one at a time whatever we do. Left to SQLite, the threads
that find the lock taken poll it: the busy handler sleeps 1, 2, 5, … up to 100 ms between tries,
and a newcomer takes a lock just released ahead of a thread that has waited a second. Under 16
concurrent requests that made the p99 reach seconds (benchmarks/bench_http.py). Here the threads
of this process queue for the file in order instead, and each is woken the moment the previous
transaction has committed or rolled back; SQLite's own lock still stands behind the queue, for
other processes (the CLI, a second server) and for a thread that gave up waiting.

The queue is held from BEGIN IMMEDIATE until the driver's COMMIT, ROLLBACK or close returns, on
whichever thread that happens (FastAPI may end a request's transaction on another thread than the
one that began it). A thread that waits longer than SQLite's busy timeout stops queueing and
goes to SQLite's lock with its own busy timeout, as every thread did before the queue: a stuck
transaction ends in "database is locked", never in a hang, and a turn that was somehow never
given back cannot stop the process's writers for good.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections import deque
from typing import Any

# Matches PRAGMA busy_timeout in baomi.db: how long a writer waits before giving up.
BUSY_TIMEOUT_SECONDS = 10.0


class WriterQueue:
    """A lock handed from one holder to the next waiter in arrival order (FIFO)."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        self._waiters: deque[threading.Lock] = deque()

    def acquire(self, timeout: float) -> bool:
        """Wait for our turn; False if it did not come within `timeout` seconds."""
        with self._mutex:
            if not self._held:
                self._held = True
                return True
            turn = threading.Lock()
            turn.acquire()
            self._waiters.append(turn)
        if turn.acquire(timeout=timeout):
            return True  # release() handed the lock over to us
        with self._mutex:
            if turn in self._waiters:
                self._waiters.remove(turn)
                return False
        return True  # handed over just as we gave up: ours all the same

    def release(self) -> None:
        """Hand the lock to the longest waiter, or free it."""
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().release()
            else:
                self._held = False


_QUEUES: dict[str, WriterQueue] = {}
_QUEUES_LOCK = threading.Lock()


def queue_for(path: str) -> WriterQueue | None:
    """The queue of a database file (None for an in-memory database: nobody shares it)."""
    if not path or path == ":memory:" or path.startswith("file::memory:"):
        return None
    with _QUEUES_LOCK:
        return _QUEUES.setdefault(os.path.abspath(path), WriterQueue())


class QueuedConnection(sqlite3.Connection):
    """A sqlite3 connection whose BEGIN IMMEDIATE waits its turn in the file's WriterQueue."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.writer_queue: WriterQueue | None = None
        self._holds = False

    def begin_immediate(self) -> None:
        """Start a write transaction: our turn in the queue first, then SQLite's lock."""
        queue = self.writer_queue
        self._holds = queue is not None and queue.acquire(BUSY_TIMEOUT_SECONDS)
        try:
            self.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._release()
            raise

    def _release(self) -> None:
        """Give our turn back once the transaction is over (a failed COMMIT may leave it open)."""
        if not self._holds:
            return
        try:
            if self.in_transaction:
                return
        except sqlite3.ProgrammingError:  # closed: no transaction can be left on it
            pass
        self._holds = False
        assert self.writer_queue is not None
        self.writer_queue.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._release()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._release()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._release()
