"""running instances announce the master-key versions they hold; per-person limits use an index

Issue 19 (keys): a rotation to a master-key version that a running instance does not hold makes
that instance answer 500 on every customer it wraps a key for. Each `baomi serve` now records
itself here and refreshes the row while it runs; `baomi keys rotate` refuses a target version
that a live instance lacks, naming it.

Issue 17.4: the per-person limits (reveals per hour, 查重 per hour and day) count one person's
recent events of one action. Without an index on (actor, action, time) each count read every
event the person ever had, slower with every event they add.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import baomi.db

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "app_instances",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("key_versions", sa.JSON(), nullable=False),
        sa.Column("started_at", baomi.db.UTCDateTime(), nullable=False),
        sa.Column("seen_at", baomi.db.UTCDateTime(), nullable=False),
        sa.Column("stopped_at", baomi.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_instances")),
    )
    op.create_index(
        "ix_audit_events_actor_action_time",
        "audit_events",
        ["actor_id", "action", "occurred_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_audit_events_actor_action_time", table_name="audit_events")
    op.drop_table("app_instances")
