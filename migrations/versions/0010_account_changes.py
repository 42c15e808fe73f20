"""account activation codes and the officer's approval of account changes (三员分立, C4.2.1)

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import baomi.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The administrator never knows a working password: a new account, or one whose password
    # was reset, gets a one-time code with which the person sets their own.
    op.create_table(
        "account_activations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("code_hash", sa.LargeBinary(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=True),
        sa.Column("created_at", baomi.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", baomi.db.UTCDateTime(), nullable=False),
        sa.Column("used_at", baomi.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_account_activations_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_account_activations_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_activations")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_account_activations_code_hash")),
    )
    op.create_index(
        op.f("ix_account_activations_user_id"), "account_activations", ["user_id"], unique=False
    )
    # Changes that would let an account reach customer data (a role, a head of department, a
    # move) wait here until the security officer approves them (dual control).
    op.create_table(
        "account_changes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("roles_before", sa.JSON(), nullable=True),
        sa.Column("roles_after", sa.JSON(), nullable=True),
        sa.Column("department_before", sa.String(length=36), nullable=True),
        sa.Column("department_after", sa.String(length=36), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=36), nullable=True),
        sa.Column("requested_at", baomi.db.UTCDateTime(), nullable=False),
        sa.Column("decided_by", sa.String(length=36), nullable=True),
        sa.Column("decided_at", baomi.db.UTCDateTime(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_account_changes_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["users.id"], name=op.f("fk_account_changes_requested_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["users.id"], name=op.f("fk_account_changes_decided_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["department_after"],
            ["departments.id"],
            name=op.f("fk_account_changes_department_after_departments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_changes")),
    )
    op.create_index(op.f("ix_account_changes_status"), "account_changes", ["status"], unique=False)
    op.create_index(
        op.f("ix_account_changes_user_id"), "account_changes", ["user_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_account_changes_user_id"), table_name="account_changes")
    op.drop_index(op.f("ix_account_changes_status"), table_name="account_changes")
    op.drop_table("account_changes")
    op.drop_index(op.f("ix_account_activations_user_id"), table_name="account_activations")
    op.drop_table("account_activations")
