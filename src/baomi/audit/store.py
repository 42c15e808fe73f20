"""Reads of the sealed tree from the database: nodes, leaves, checkpoints, events by leaf."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.engine import Connection

from baomi.audit import leaf
from baomi.audit.merkle import NodeId
from baomi.audit.models import audit_checkpoints, audit_events, audit_leaves, audit_tree_nodes

_cursor_ids = itertools.count()
_CHUNK = 400  # keeps IN lists well under SQLite's bound-parameter limit


class MissingNode(LookupError):
    """A tree node the sealer should have stored is absent (a tampered or truncated tree)."""


class DbNodes:
    """merkle.NodeReader over audit_leaves (level 0) and audit_tree_nodes (levels >= 1)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def read_nodes(self, ids: Sequence[NodeId]) -> list[bytes]:
        found: dict[NodeId, bytes] = {}
        leaves = [i for lvl, i in ids if lvl == 0]
        inner = [(lvl, i) for lvl, i in ids if lvl > 0]
        for start in range(0, len(leaves), _CHUNK):
            part = leaves[start : start + _CHUNK]
            q = select(audit_leaves.c.leaf_index, audit_leaves.c.leaf_hash).where(
                audit_leaves.c.leaf_index.in_(part)
            )
            found.update(((0, i), bytes(h)) for i, h in self.conn.execute(q))
        for start in range(0, len(inner), _CHUNK):
            part2 = inner[start : start + _CHUNK]
            t = audit_tree_nodes.c
            q2 = select(t.level, t.node_index, t.hash).where(
                tuple_(t.level, t.node_index).in_(part2)
            )
            for level, index, digest in self.conn.execute(q2):
                found[(level, index)] = bytes(digest)
        try:
            return [found[node] for node in ids]
        except KeyError as exc:
            raise MissingNode(f"tree node {exc.args[0]} is missing") from exc


def tree_size(conn: Connection) -> int:
    """Return the number of sealed leaves."""
    return int(conn.scalar(select(func.count()).select_from(audit_leaves)) or 0)


def last_checkpoint(conn: Connection) -> tuple[int, bytes, str] | None:
    """Return (size, root, note) of the largest stored checkpoint."""
    c = audit_checkpoints.c
    row = conn.execute(
        select(c.tree_size, c.root_hash, c.note).order_by(c.tree_size.desc()).limit(1)
    ).first()
    return (int(row[0]), bytes(row[1]), str(row[2])) if row else None


def checkpoint_at_least(conn: Connection, size: int) -> tuple[int, bytes, str] | None:
    """Return the smallest checkpoint covering `size` leaves."""
    c = audit_checkpoints.c
    q = (
        select(c.tree_size, c.root_hash, c.note)
        .where(c.tree_size >= size)
        .order_by(c.tree_size)
        .limit(1)
    )
    row = conn.execute(q).first()
    return (int(row[0]), bytes(row[1]), str(row[2])) if row else None


def checkpoint_sizes(conn: Connection) -> list[tuple[int, str]]:
    """Return (size, note) of every checkpoint, smallest first."""
    c = audit_checkpoints.c
    return [
        (int(s), str(n)) for s, n in conn.execute(select(c.tree_size, c.note).order_by(c.tree_size))
    ]


def leaf_of_event(conn: Connection, event_id: int) -> int | None:
    """Return the leaf index of an event, or None if it is not sealed yet."""
    q = select(audit_leaves.c.leaf_index).where(audit_leaves.c.event_id == event_id)
    value = conn.scalar(q)
    return None if value is None else int(value)


def last_sealed_event_id(conn: Connection, size: int) -> int:
    """Return the event id of the last leaf of a tree of `size` (0 when empty)."""
    if size == 0:
        return 0
    q = select(audit_leaves.c.event_id).where(audit_leaves.c.leaf_index == size - 1)
    value = conn.scalar(q)
    if value is None:
        raise MissingNode(f"leaf {size - 1} is missing")
    return int(value)


def unsealed(conn: Connection) -> tuple[int, datetime | None]:
    """Return how many events no signed checkpoint covers, and when the oldest of them occurred."""
    size = int(conn.scalar(select(func.max(audit_checkpoints.c.tree_size))) or 0)
    e = audit_events.c
    waiting = select(func.count(), func.min(e.occurred_at)).where(
        e.id > last_sealed_event_id(conn, size)
    )
    count, oldest = conn.execute(waiting).one()
    return int(count or 0), oldest


def raw_cursor(conn: Connection, stream: bool = False) -> Any:
    """Return a driver cursor on the connection's transaction (the fast path for event rows).

    With `stream`, PostgreSQL gets a server-side cursor, so a million events are not held in
    memory at once.
    """
    driver = conn.connection.driver_connection
    if stream and conn.dialect.name == "postgresql":
        cur = driver.cursor(name=f"baomi_audit_{next(_cursor_ids)}")  # type: ignore[union-attr]
        cur.itersize = 20_000
        return cur
    return driver.cursor()  # type: ignore[union-attr]


def event_rows(conn: Connection, after_id: int, through_id: int | None = None) -> Any:
    """Return a cursor over canonical event rows with after_id < id (<= through_id), by id."""
    dialect, p = conn.dialect.name, leaf.param(conn.dialect.name)
    where = f"WHERE id > {p}" + (f" AND id <= {p}" if through_id is not None else "")
    params = (after_id,) if through_id is None else (after_id, through_id)
    cur = raw_cursor(conn, stream=True)
    cur.execute(leaf.select_sql(dialect, where), params)
    return cur


def event_row(conn: Connection, event_id: int) -> tuple[Any, ...] | None:
    """Return the canonical row of one event."""
    dialect, p = conn.dialect.name, leaf.param(conn.dialect.name)
    cur = raw_cursor(conn)
    cur.execute(leaf.select_sql(dialect, f"WHERE id = {p}"), (event_id,))
    row = cur.fetchone()
    return tuple(row) if row else None
