"""account security: lockout, TOTP MFA columns, login throttles, recovery codes

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import baomi.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_USER_COLUMNS = ("locked_at", "totp_secret_ct", "totp_enabled_at", "totp_last_step")


def _user_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("locked_at", baomi.db.UTCDateTime(), nullable=True),
        sa.Column("totp_secret_ct", sa.LargeBinary(), nullable=True),
        sa.Column("totp_enabled_at", baomi.db.UTCDateTime(), nullable=True),
        sa.Column("totp_last_step", sa.BigInteger(), nullable=True),
    ]


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        for column in _user_columns():
            batch.add_column(column)
    op.create_table(
        "login_throttles",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", baomi.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttles")),
    )
    op.create_table(
        "mfa_recovery_codes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", baomi.db.UTCDateTime(), nullable=False),
        sa.Column("used_at", baomi.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_mfa_recovery_codes_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mfa_recovery_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_mfa_recovery_codes_code_hash")),
    )
    op.create_index(
        "ix_mfa_recovery_codes_user_id", "mfa_recovery_codes", ["user_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_mfa_recovery_codes_user_id", table_name="mfa_recovery_codes")
    op.drop_table("mfa_recovery_codes")
    op.drop_table("login_throttles")
    with op.batch_alter_table("users") as batch:
        for name in reversed(_USER_COLUMNS):
            batch.drop_column(name)
