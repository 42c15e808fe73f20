"""The unit of work: one transaction per request, command or job.

Services add and change inside it and never commit. When a service refuses an action it raises a
BaomiError carrying the audit events of the refusal; the work is rolled back and those events are
then written in a transaction of their own, so denied attempts are always on record (C1.3).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, insert
from sqlalchemy.engine import Connection

from baomi.audit.models import audit_events
from baomi.db_idle import connection
from baomi.errors import BaomiError


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Connection]:
    """Yield a connection in a transaction; commit on success, roll back on any error."""
    try:
        with connection(engine) as conn, conn.begin():
            yield conn
    except BaomiError as exc:
        if exc.audit_events or exc.effects:
            with connection(engine) as conn, conn.begin():
                if exc.audit_events:
                    conn.execute(insert(audit_events), exc.audit_events)
                for effect in exc.effects:
                    effect(conn)
        raise
