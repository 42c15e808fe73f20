"""Faults beneath a request, each with a problem code of its own (issue 18, "clearer faults").

A database that cannot be reached, a database that refuses writes, a master key the server can no
longer load: none is the caller's mistake, none is a bug of ours, and none is tampering. Each
answers 503 with a stable code and a Retry-After, so that clients, the web UI's error page and
the operator's log tell them apart from `internal_error` (a bug) and from `integrity_failure`
(stored data that failed authentication, which is the security officer's business).

- `database_unavailable`: the database cannot be reached (PostgreSQL down or refusing
  connections, a SQLite file that cannot be opened);
- `database_read_only`: the database refuses writes (a read-only or immutable SQLite file or
  file system; PostgreSQL with `default_transaction_read_only`, or a standby);
- `key_unavailable`: a master key cannot be loaded (the key file deleted, moved or made unsafe
  after start, or a version the provider lacks).

`translate` is pure; the handlers (api/problem.py, web/errors.py) log the fault once.
"""

from __future__ import annotations

import sqlite3

import psycopg
from sqlalchemy.exc import DBAPIError

from baomi.crypto.errors import KeyFileError, KeyUnavailable
from baomi.errors import BaomiError

# What a client waits before trying again: an operator restarts a database or restores a file in
# about this long; a shorter wait would only add load to a service that cannot answer.
RETRY_AFTER_SECONDS = 30

# SQLite's primary result codes (the low byte of the extended code, https://sqlite.org/rescode.html).
_SQLITE_READONLY = 8
_SQLITE_CANTOPEN = 14
# PostgreSQL SQLSTATEs: class 08 is "connection exception"; 25006 "read_only_sql_transaction".
_PG_UNAVAILABLE = {"57P01", "57P02", "57P03", "53300"}  # shutting down, crashed, starting, no slot
_PG_READ_ONLY = "25006"


class Unavailable(BaomiError):
    """The service cannot do this now, through no fault of the request: 503 with Retry-After."""

    status = 503
    code = "unavailable"
    title = "Service unavailable"

    def __init__(self, detail: str | None = None, *, reason: str = "") -> None:
        super().__init__(detail)
        self.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        # For the operator's log only, never the response: the driver's or the key file's words.
        self.reason = reason


class DatabaseUnavailable(Unavailable):
    code = "database_unavailable"
    title = "Database unavailable"

    def __init__(self, *, reason: str = "") -> None:
        super().__init__(
            "the database cannot be reached; nothing was changed: try again later", reason=reason
        )


class DatabaseReadOnly(Unavailable):
    code = "database_read_only"
    title = "Database read-only"

    def __init__(self, *, reason: str = "") -> None:
        super().__init__(
            "the database refuses writes (read-only file, file system or server); nothing was "
            "changed: the system administrator is told",
            reason=reason,
        )


class MasterKeyUnavailable(Unavailable):
    code = "key_unavailable"
    title = "Master key unavailable"

    def __init__(self, *, reason: str = "") -> None:
        super().__init__(
            "a master key this request needs cannot be loaded; nothing was changed: the system "
            "administrator is told",
            reason=reason,
        )


# The exception types `translate` may turn into a fault: the handlers are registered for these.
TRANSLATED: tuple[type[Exception], ...] = (DBAPIError, sqlite3.Error, KeyFileError, KeyUnavailable)


def _first_line(error: BaseException) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0]


def database_fault(error: BaseException) -> Unavailable | None:
    """The fault a database driver's error stands for, or None when it is not one of ours.

    Decided by result codes, never by message text. Only the driver's own error is quoted in the
    reason: SQLAlchemy's wrapper quotes the statement and its parameters, which may be customer
    data; the driver's words for these codes quote neither.
    """
    cause: BaseException = error
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return DatabaseUnavailable(reason=_first_line(error.orig or error))
        cause = error.orig or error
    if isinstance(cause, sqlite3.Error):
        primary = (getattr(cause, "sqlite_errorcode", None) or 0) & 0xFF
        if primary == _SQLITE_CANTOPEN:
            return DatabaseUnavailable(reason=_first_line(cause))
        if primary == _SQLITE_READONLY:
            return DatabaseReadOnly(reason=_first_line(cause))
        return None
    sqlstate = getattr(cause, "sqlstate", "") or ""
    if sqlstate == _PG_READ_ONLY:
        return DatabaseReadOnly(reason=_first_line(cause))
    # psycopg gives no SQLSTATE when the connection itself failed (refused, reset, timed out).
    if (
        (isinstance(cause, psycopg.OperationalError) and not sqlstate)
        or sqlstate[:2] == "08"
        or sqlstate in _PG_UNAVAILABLE
    ):
        return DatabaseUnavailable(reason=_first_line(cause))
    return None


def translate(error: BaseException) -> Unavailable | None:
    """The fault `error` stands for, or None: then it is a bug (500 `internal_error`)."""
    if isinstance(error, (KeyFileError, KeyUnavailable)):
        # Their messages name paths and versions, never key material (crypto/errors.py).
        return MasterKeyUnavailable(reason=str(error))
    if isinstance(error, (DBAPIError, sqlite3.Error)):
        return database_fault(error)
    return None
