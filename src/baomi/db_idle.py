"""SQLite connections kept open between units of work, so a request does not pay to open one.

Checking a connection out of SQLAlchemy's pool and back in again costs more than the audited
read's own SQL (see benchmarks/bench_audited_read.py). An engine from `make_engine` on a SQLite
file therefore keeps a few `Connection`s between units of work: `unit_of_work` takes one, runs
its transaction on it (BEGIN IMMEDIATE, like every transaction of the engine) and gives it back.

What makes this safe:
- one unit of work at a time uses a connection: taking and giving back go through a lock, and a
  unit of work holds its connection from BEGIN to COMMIT or ROLLBACK, exactly as before;
- only a clean connection is kept: open, valid, with no transaction left on it (in SQLAlchemy's
  view and in SQLite's own) and with the engine's execution options; any other is closed;
- fewer are kept than the pool holds, and they count against it, so the pool's limit holds as
  before and code that connects without a unit of work (sealing, migrations) finds one;
- `engine.dispose()` closes them with the pool (a kept connection is checked out, so an engine
  that is never disposed keeps them open until the process ends, as SQLAlchemy does with any
  checked-out connection);
- only SQLite: a PostgreSQL connection can die on the server's side, which the pool's pre-ping
  is there to notice at each checkout.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.pool import QueuePool


class IdleConnections:
    """The connections of one engine waiting for their next unit of work."""

    def __init__(self, engine: Engine, limit: int) -> None:
        self._options = engine.get_execution_options()
        self._limit = limit
        self._lock = threading.Lock()
        self._idle: list[Connection] = []
        # Bumped by dispose: a connection handed out before it belongs to the old pool.
        self._epoch = 0

    def take(self) -> tuple[Connection | None, int]:
        """Return a kept connection (None when there is none) and the epoch it is lent in."""
        with self._lock:
            return (self._idle.pop() if self._idle else None), self._epoch

    def give_back(self, conn: Connection, epoch: int) -> bool:
        """Keep `conn` for a later unit of work if it is clean; False: close it instead."""
        if conn.closed or conn.invalidated or conn.in_transaction():
            return False
        if conn.connection.driver_connection.in_transaction:  # type: ignore[union-attr]
            return False
        if conn.get_execution_options() != self._options:
            return False
        with self._lock:
            if epoch != self._epoch or len(self._idle) >= self._limit:
                return False
            self._idle.append(conn)
            return True

    def close_all(self) -> None:
        """Close every kept connection (the engine is being disposed of)."""
        with self._lock:
            idle, self._idle = self._idle, []
            self._epoch += 1
        for conn in idle:
            # Straight to the database: the pool it was checked out of has been replaced.
            conn.detach()
            conn.close()

    def __len__(self) -> int:
        return len(self._idle)


# Found by engine without keeping it alive; the engine owns its IdleConnections through the
# dispose listener below.
_BY_ENGINE: weakref.WeakKeyDictionary[Engine, weakref.ref[IdleConnections]] = (
    weakref.WeakKeyDictionary()
)


def keep_idle_connections(engine: Engine) -> None:
    """Let units of work on this SQLite engine reuse connections (fewer than its pool holds)."""
    pool = engine.pool
    if not isinstance(pool, QueuePool) or pool.size() < 2:
        return  # in-memory databases and custom pools keep their own behaviour
    idle = IdleConnections(engine, limit=pool.size() - 1)
    event.listen(engine, "engine_disposed", lambda _engine: idle.close_all())
    _BY_ENGINE[engine] = weakref.ref(idle)


def idle_connections(engine: Engine) -> IdleConnections | None:
    """Return the kept connections of an engine, or None if it keeps none."""
    ref = _BY_ENGINE.get(engine)
    return None if ref is None else ref()


class Lent:
    """A connection lent to one unit of work, and where it goes back to."""

    __slots__ = ("_epoch", "_idle", "conn")

    def __init__(self, conn: Connection, idle: IdleConnections | None, epoch: int) -> None:
        self.conn, self._idle, self._epoch = conn, idle, epoch

    def keep(self) -> bool:
        """Keep the connection for the next unit of work if it is clean (no I/O at all)."""
        return self._idle is not None and self._idle.give_back(self.conn, self._epoch)

    def give_back(self) -> None:
        """Keep the connection, or else close it (back to the pool: may talk to the database)."""
        if not self.keep():
            self.conn.close()


def lend_kept(engine: Engine) -> Lent | None:
    """A kept connection, or None when there is none; never opens one, so never blocks."""
    idle = idle_connections(engine)
    if idle is None:
        return None
    kept, epoch = idle.take()
    return None if kept is None else Lent(kept, idle, epoch)


def lend(engine: Engine) -> Lent:
    """A kept connection if the engine keeps any, else one from the pool (may block)."""
    idle = idle_connections(engine)
    if idle is None:
        return Lent(engine.connect(), None, 0)
    kept, epoch = idle.take()
    return Lent(kept or engine.connect(), idle, epoch)


@contextmanager
def connection(engine: Engine) -> Iterator[Connection]:
    """Lend a connection for one unit of work: a kept one if the engine keeps any."""
    lent = lend(engine)
    try:
        yield lent.conn
    finally:
        lent.give_back()
