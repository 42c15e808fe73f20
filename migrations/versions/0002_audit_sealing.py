"""audit sealing: Merkle leaves, tree nodes, signed checkpoints, witness receipts, guards

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import baomi.db
from baomi.audit import guards

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "audit_leaves",
        sa.Column("leaf_index", _BigId, autoincrement=False, nullable=False),
        sa.Column("event_id", _BigId, nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("leaf_index", name=op.f("pk_audit_leaves")),
        sa.UniqueConstraint("event_id", name=op.f("uq_audit_leaves_event_id")),
    )
    op.create_table(
        "audit_tree_nodes",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("node_index", _BigId, autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("level", "node_index", name=op.f("pk_audit_tree_nodes")),
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("tree_size", _BigId, autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("signed_at", baomi.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("tree_size", name=op.f("pk_audit_checkpoints")),
    )
    op.create_table(
        "audit_witness_receipts",
        sa.Column("id", _BigId, autoincrement=True, nullable=False),
        sa.Column("tree_size", _BigId, nullable=False),
        sa.Column("witness", sa.String(length=200), nullable=False),
        sa.Column("cosignature", sa.Text(), nullable=False),
        sa.Column("received_at", baomi.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_witness_receipts")),
    )
    op.create_index("ix_audit_witness_receipts_tree_size", "audit_witness_receipts", ["tree_size"])
    # C1.3: the audit tables refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL).
    guards.install_triggers(op.get_bind())


def downgrade() -> None:
    for stmt in guards.drop_ddl(op.get_bind().dialect.name):
        op.execute(stmt)
    op.drop_index("ix_audit_witness_receipts_tree_size", table_name="audit_witness_receipts")
    op.drop_table("audit_witness_receipts")
    op.drop_table("audit_checkpoints")
    op.drop_table("audit_tree_nodes")
    op.drop_table("audit_leaves")
