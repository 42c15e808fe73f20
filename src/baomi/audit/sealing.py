"""The sealer: put waiting events into the Merkle tree and sign a checkpoint (C1.3, C6).

Business transactions only insert into audit_events (service.record). The sealer, like Trillian's
sequencer, later gives the waiting events leaf indexes in id order, stores the new leaves and
complete nodes, and signs a C2SP checkpoint, all in one transaction. Readers never wait for it.

Id order is commit order only once every transaction that could still hold a smaller id has
ended, so the sealer first fixes a horizon: on SQLite the write lock it holds (BEGIN IMMEDIATE);
on PostgreSQL the largest visible id, after waiting for the transactions that were in progress
when it was read. Only one sealer runs at a time (a transaction advisory lock on PostgreSQL).

Before signing it checks that the stored tree still folds to the last checkpoint it signed, and
that the database is not behind a checkpoint already exported or witnessed: it never signs a
checkpoint inconsistent with one it signed before.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from baomi import clock
from baomi.audit import leaf, merkle, store
from baomi.audit.checkpoint import (
    Checkpoint,
    CheckpointError,
    Signer,
    open_checkpoint,
    sign_checkpoint,
)
from baomi.audit.models import audit_checkpoints, audit_leaves, audit_tree_nodes
from baomi.db_direct import DirectStatement

SEALER_LOCK_KEY = 0x6261_6F6D_6941  # "baomiA": pg advisory lock id of the single sealer
# Every event passes through these once, with a node or two: compiled once and run on the
# driver (db_direct), as the event's own insert is (issue 9: the sealer's share of each read).
_INSERT_LEAVES = DirectStatement(
    insert(audit_leaves), insert_keys=("leaf_index", "event_id", "leaf_hash")
)
_INSERT_NODES = DirectStatement(
    insert(audit_tree_nodes), insert_keys=("level", "node_index", "hash")
)


class SealRefused(RuntimeError):
    """The sealer will not sign: the stored tree or database disagrees with a signed checkpoint."""


@dataclass(frozen=True, slots=True)
class Sealed:
    """A checkpoint the sealer has just signed (committed with the caller's transaction)."""

    size: int
    root: bytes
    note: str
    new_leaves: int


def _take_lock(conn: Connection) -> bool:
    if conn.dialect.name != "postgresql":
        return True  # SQLite: BEGIN IMMEDIATE already makes this the only writer
    return bool(
        conn.exec_driver_sql(f"SELECT pg_try_advisory_xact_lock({SEALER_LOCK_KEY})").scalar()
    )


def _horizon(conn: Connection, wait_seconds: float) -> int | None:
    """Return the largest event id below which no transaction can still add events."""
    if conn.dialect.name != "postgresql":
        return int(
            conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM audit_events").scalar() or 0
        )
    # One statement, one snapshot: the max id and the transactions still in flight beside it.
    # Ids come from a sequence, so any smaller id was handed out before this snapshot, to a
    # transaction that is either visible now or in this list: every transaction holds a
    # transaction id before it draws an event id (audit/service.py), so none is in flight
    # unseen (tests/audit/test_audit_sealing_race.py).
    high, xip = conn.exec_driver_sql(
        "SELECT coalesce((SELECT max(id) FROM audit_events), 0),"
        " ARRAY(SELECT x::text FROM pg_snapshot_xip(pg_current_snapshot()) AS x"
        "       WHERE x IS DISTINCT FROM pg_current_xact_id_if_assigned())"
    ).one()
    deadline = time.monotonic() + wait_seconds
    while xip:
        xip = conn.exec_driver_sql(
            "SELECT coalesce(array_agg(x::text), '{}') FROM unnest(%(x)s::xid8[]) AS x"
            " WHERE pg_xact_status(x) = 'in progress'",
            {"x": xip},
        ).scalar()
        if xip and time.monotonic() > deadline:
            return None
        if xip:
            time.sleep(0.005)
    return int(high)


def _check_trusted(reader: store.DbNodes, size: int, root: bytes, trusted: Checkpoint) -> None:
    if trusted.size > size:
        raise SealRefused(
            f"the database holds {size} sealed events but checkpoint {trusted.size} was already "
            "signed and exported: is this a restored older copy of the database?"
        )
    at = root if trusted.size == size else merkle.root(reader, trusted.size)
    if at != trusted.root:
        raise SealRefused(f"the stored tree disagrees with exported checkpoint {trusted.size}")


def seal(
    conn: Connection,
    signer: Signer,
    *,
    trusted: Checkpoint | None = None,
    max_events: int = 200_000,
    wait_seconds: float = 5.0,
) -> Sealed | None:
    """Seal waiting events and sign a checkpoint; None if nothing waits or another sealer runs."""
    if not _take_lock(conn):
        return None
    horizon = _horizon(conn, wait_seconds)
    if horizon is None:
        return None
    reader = store.DbNodes(conn)
    last = store.last_checkpoint(conn)
    size, root = 0, merkle.EMPTY_ROOT
    if last is not None:
        try:
            cp = open_checkpoint(last[2], signer.verifier)
        except CheckpointError as exc:
            raise SealRefused(f"the last stored checkpoint is not ours: {exc}") from exc
        if (cp.size, cp.root) != last[:2]:
            raise SealRefused("the checkpoint row disagrees with its signed note")
        size, root = cp.size, cp.root
    try:
        edge = merkle.CompactRange(size, reader.read_nodes(merkle.range_nodes(0, size)))
    except store.MissingNode as exc:
        raise SealRefused(str(exc)) from exc
    if edge.root() != root:
        raise SealRefused(f"the stored tree no longer folds to signed checkpoint {size}")
    if trusted is not None:
        _check_trusted(reader, size, root, trusted)
    if _leaf_exists(conn, size):
        raise SealRefused(f"leaf {size} exists beyond the last signed checkpoint")

    cur = store.event_rows(conn, store.last_sealed_event_id(conn, size), horizon)
    enc, leaf_hash = leaf.encoder(), merkle.leaf_hash
    leaves: list[dict[str, object]] = []
    nodes: list[dict[str, object]] = []
    for row in cur:
        h = leaf_hash(enc(row))
        leaves.append({"leaf_index": edge.size, "event_id": row[0], "leaf_hash": h})
        for (level, index), digest in edge.append(h):
            nodes.append({"level": level, "node_index": index, "hash": digest})
        if len(leaves) >= max_events:
            break
    cur.close()
    if not leaves:
        return None
    _INSERT_LEAVES.execute_many(conn, leaves)
    if nodes:
        _INSERT_NODES.execute_many(conn, nodes)
    new_root = edge.root()
    note = sign_checkpoint(signer, edge.size, new_root)
    conn.execute(
        insert(audit_checkpoints),
        {"tree_size": edge.size, "root_hash": new_root, "note": note, "signed_at": clock.utcnow()},
    )
    return Sealed(edge.size, new_root, note, len(leaves))


def _leaf_exists(conn: Connection, index: int) -> bool:
    q = select(audit_leaves.c.leaf_index).where(audit_leaves.c.leaf_index == index)
    return conn.scalar(q) is not None
