"""Locks that make a "count, then act" check atomic across transactions and instances.

A check such as "at most N reveals per hour" reads a count and then writes; two transactions
doing so at once on PostgreSQL both see the same count and both pass (issue 18: 25 of 60
simultaneous reveals passed a limit of 20). `hold` takes a transaction-scoped advisory lock on
one key (a person, say), so such checks on the same key run one after the other, across every
instance sharing the database, and the lock ends with the transaction. On SQLite every
transaction already holds the database's write lock from its BEGIN (db.py), so nothing is
needed there.
"""

from __future__ import annotations

from enum import IntEnum

from sqlalchemy.engine import Connection


class LockSpace(IntEnum):
    """The first half of a PostgreSQL advisory lock key: what kind of thing is locked."""

    REVEALS_OF_PERSON = 0x6261_0001
    CHECKS_OF_PERSON = 0x6261_0002


def hold(conn: Connection, space: LockSpace, key: str) -> None:
    """Hold the lock of `key` in `space` until the caller's transaction ends."""
    if conn.dialect.name != "postgresql":
        return
    conn.exec_driver_sql(
        "SELECT pg_advisory_xact_lock(%(space)s, hashtext(%(key)s))",
        {"space": int(space), "key": key},
    )
