"""Engine and metadata; units of work are baomi.uow's.

Tables are SQLAlchemy Core `Table`s rather than ORM classes: every customer read goes through the
service door and must stay within a small multiple of bare sqlite3 (see benchmarks/), which the
ORM's identity map and unit of work cannot reach. Services receive a `Connection` inside an open
transaction and never commit; the request, command or job commits once.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import (
    JSON,
    DateTime,
    Engine,
    MetaData,
    TypeDecorator,
    create_engine,
    event,
)
from sqlalchemy.engine import Connection, Dialect, make_url
from sqlalchemy.pool import ConnectionPoolEntry

from baomi.db_idle import keep_idle_connections
from baomi.db_writer import BUSY_TIMEOUT_SECONDS, QueuedConnection, queue_for

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned timezone-aware, on SQLite too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        if value.tzinfo is not UTC:  # utcnow()'s are UTC already: every audit event has one
            value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = JSON().with_variant(JSON(), "sqlite")


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for SQLite or PostgreSQL with the settings the product relies on."""
    if url.startswith("sqlite"):
        connect_args = {"check_same_thread": False, "factory": QueuedConnection}
        # Room for the requests' units of work (api/deps.py lets 8 run at once), the audit
        # sealer and the jobs runner, all on kept connections (db_idle keeps pool_size - 1):
        # a SQLite connection is only a file handle, but opening one runs the pragmas below.
        kwargs.setdefault("pool_size", 10)
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        # This process's writers to the file queue in arrival order (db_writer).
        queue = queue_for(str(engine.url.database or ""))

        @event.listens_for(engine, "connect")
        def _join_queue(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
            dbapi_connection.writer_queue = queue

        # Take the write lock at BEGIN so concurrent writers queue instead of failing mid-way
        # (every unit of work writes at least its audit event). Issued on the driver
        # connection directly: this runs once per request.
        event.listen(engine, "begin", _begin_immediate)
        _disable_pysqlite_autobegin(engine)
        # Units of work reuse connections instead of checking one out each time (db_idle).
        keep_idle_connections(engine)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True, **kwargs)


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite database URL; None for PostgreSQL or an in-memory database."""
    parsed = make_url(url)
    path = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if not path or path == ":memory:" or path.startswith("file::memory:"):
        return None
    return Path(path)


def checkpoint_wal(engine: Engine) -> None:
    """SQLite: move the write-ahead log into the database file and empty it (at a clean stop).

    SQLite copies the log back only once it outgrows 1,000 pages, so a stopped server could
    leave a 4 KB `baomi.db` beside megabytes of `baomi.db-wal`: a copy of the file alone was an
    empty or stale database (issue 18). After this, the file alone holds everything committed.
    """
    path = sqlite_file(engine.url.render_as_string(hide_password=False))
    if path is None:
        return
    if not os.path.exists(path):
        return  # nothing to fold, and connecting would create an empty database file
    # A connection of its own with a short wait: a reader still open elsewhere (the CLI, a
    # second server) makes this a partial checkpoint, never a stop that hangs.
    try:
        with closing(sqlite3.connect(path, timeout=2.0)) as direct:
            direct.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.Error as error:
        # A file gone unreachable or read-only (issue 18) must not turn a stop into a crash;
        # the next start reads the WAL as SQLite always does.
        structlog.get_logger("baomi.db").warning(
            "wal_checkpoint_failed", error=str(error), code=getattr(error, "sqlite_errorname", "")
        )


def _begin_immediate(conn: Connection) -> None:
    conn.connection.driver_connection.begin_immediate()  # type: ignore[union-attr]


def _disable_pysqlite_autobegin(engine: Engine) -> None:
    """Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own BEGIN is deferred)."""

    @event.listens_for(engine, "connect")
    def _no_autobegin(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None
