"""The append-only audit event table (C1.3). Rows are inserted, never updated or deleted.

Events carry ids, field names, decisions and reason codes, never plaintext customer data, so that
crypto-shredding a customer leaves the log intact and meaningful.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Table,
    Text,
)

from baomi.db import UTCDateTime, metadata

audit_events = Table(
    "audit_events",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("actor_id", String(36), nullable=True),
    Column("actor_username", String(64), nullable=True),
    Column("action", String(48), nullable=False),
    Column("customer_id", String(36), nullable=True),
    Column("object_id", String(36), nullable=True),
    Column("fields", JSON, nullable=True),
    Column("decision", String(8), nullable=False),
    Column("reason", String(48), nullable=False),
    Column("request_id", String(64), nullable=True),
    Column("client_addr", String(64), nullable=True),
    # Non-identifying context only: counts, reason text codes, key versions. Never values.
    Column("details", JSON, nullable=True),
    Index("ix_audit_events_actor_id", "actor_id", "id"),
    Index("ix_audit_events_customer_id", "customer_id", "id"),
    Index("ix_audit_events_action", "action", "id"),
    # Per-person limits count one person's recent events of one action (reveals, 查重): a range
    # of this index, however many events the person has (migration 0013).
    Index("ix_audit_events_actor_action_time", "actor_id", "action", "occurred_at"),
)

# --- Sealing: the Merkle tree over audit_events and its signed checkpoints (C1.3, C6) ---------
# Insert-only like audit_events (guards.py refuses UPDATE and DELETE). Leaf i is the i-th event by
# id: the sealer takes events in id order under a lock that waits for in-flight inserts.

_BigId = BigInteger().with_variant(Integer, "sqlite")

audit_leaves = Table(
    "audit_leaves",
    metadata,
    Column("leaf_index", _BigId, primary_key=True, autoincrement=False),
    Column("event_id", _BigId, nullable=False, unique=True),
    Column("leaf_hash", LargeBinary(32), nullable=False),
)

# Complete subtrees above the leaves, (level, node_index) as in merkle.NodeId: proofs read these
# instead of rehashing the log.
audit_tree_nodes = Table(
    "audit_tree_nodes",
    metadata,
    Column("level", SmallInteger, primary_key=True, autoincrement=False),
    Column("node_index", _BigId, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
)

audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("tree_size", _BigId, primary_key=True, autoincrement=False),
    Column("root_hash", LargeBinary(32), nullable=False),
    # The C2SP tlog-checkpoint signed note, exactly as signed.
    Column("note", Text, nullable=False),
    Column("signed_at", UTCDateTime(), nullable=False),
)

# Cosignatures a witness returned for a checkpoint (C2SP tlog-witness).
audit_witness_receipts = Table(
    "audit_witness_receipts",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("tree_size", _BigId, nullable=False),
    Column("witness", String(200), nullable=False),
    Column("cosignature", Text, nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
    Index("ix_audit_witness_receipts_tree_size", "tree_size"),
)
