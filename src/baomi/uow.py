"""The unit of work: one transaction per request, command or job, and the one way to run one.

Services add and change inside it and never commit. When a service refuses an action it raises a
BaomiError carrying the audit events of the refusal; the work is rolled back and those events are
then written in a transaction of their own, so denied attempts are always on record (C1.3).

A request gets its unit from api/deps.py (ended by `end_unit`); CLI commands, jobs, and the
services that keep their transactions short on purpose (mail delivery, key rotation) open theirs
with `unit_of_work`. Nothing else begins a transaction on an engine; the exceptions are named in
tests/test_one_unit_of_work.py, each with its reason beside it in the code.

Two nestings are sanctioned. The web form's SAVEPOINT (web/forms.py `attempt`): a page that
shows a refused form again runs the service in a savepoint inside the request's unit, rolls
back only that, and writes the refusal's audit events in the unit, which the request commits.
And on SQLite, the API's units committed in groups (db_group.py): each unit in a savepoint of
the group's transaction, rolled back alone, its refusal then written in the group.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from baomi.audit.service import append_all
from baomi.db_idle import Lent, connection
from baomi.errors import BaomiError


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Connection]:
    """Yield a connection in a transaction; commit on success, roll back on any error."""
    try:
        with connection(engine) as conn, conn.begin():
            yield conn
    except BaomiError as exc:
        record_refusal(engine, exc)
        raise


def end_unit(engine: Engine, lent: Lent, error: BaseException | None) -> None:
    """End a request's unit of work (api/deps.py): commit, or roll back and record the refusal.

    The request's transaction began with its first statement (or never, if it made none), so
    the write lock of SQLite is not held while the request waits for a thread to run in.
    """
    conn = lent.conn
    try:
        if conn.in_transaction():
            if error is None:
                conn.commit()
            else:
                conn.rollback()
    finally:
        lent.give_back()
    if isinstance(error, BaomiError):
        record_refusal(engine, error)


def record_refusal(engine: Engine, exc: BaomiError) -> None:
    """Write the audit events and effects a refusal carries, in a transaction of their own."""
    if exc.audit_events or exc.effects:
        with connection(engine) as conn, conn.begin():
            write_refusal(conn, exc)


def write_refusal(conn: Connection, exc: BaomiError) -> None:
    """Write a refusal's audit events and effects in the caller's transaction (after the
    refused work was rolled back: here, or in a group of units, db_group.py)."""
    if exc.audit_events:
        append_all(conn, exc.audit_events)
    for effect in exc.effects:
        effect(conn)
