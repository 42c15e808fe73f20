"""notification inbox, outgoing mail and job runs

C4.3.1: the approval process must reach people. Users get an optional e-mail address; grants
remember that their grantee was reminded of, and told about, their end. Grants that ended before
this migration count as already notified, so that the first run of the expiry job does not mail
everyone about years of history.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import baomi.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("email", sa.String(length=254), nullable=True))
    with op.batch_alter_table("access_grants") as batch:
        batch.add_column(sa.Column("reminded_at", baomi.db.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("expiry_notified_at", baomi.db.UTCDateTime(), nullable=True))
        batch.create_index("ix_access_grants_ends_at", ["ends_at"])
    grants = sa.table(
        "access_grants",
        sa.column("ends_at", baomi.db.UTCDateTime()),
        sa.column("reminded_at", baomi.db.UTCDateTime()),
        sa.column("expiry_notified_at", baomi.db.UTCDateTime()),
    )
    op.execute(
        grants.update()
        .where(grants.c.ends_at <= datetime.now(UTC))
        .values(reminded_at=grants.c.ends_at, expiry_notified_at=grants.c.ends_at)
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=True),
        sa.Column("created_at", baomi.db.UTCDateTime(), nullable=False),
        sa.Column("read_at", baomi.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notifications_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_index(
        "ix_notifications_user_id_created_at", "notifications", ["user_id", "created_at"]
    )
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("notification_id", sa.String(length=36), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", baomi.db.UTCDateTime(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", baomi.db.UTCDateTime(), nullable=False),
        sa.Column("sent_at", baomi.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications.id"],
            name=op.f("fk_mail_outbox_notification_id_notifications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_outbox")),
    )
    op.create_index(
        "ix_mail_outbox_status_next_attempt_at", "mail_outbox", ["status", "next_attempt_at"]
    )
    op.create_table(
        "job_runs",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("next_due_at", baomi.db.UTCDateTime(), nullable=False),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column("lease_until", baomi.db.UTCDateTime(), nullable=True),
        sa.Column("last_started_at", baomi.db.UTCDateTime(), nullable=True),
        sa.Column("last_finished_at", baomi.db.UTCDateTime(), nullable=True),
        sa.Column("last_status", sa.String(length=16), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_runs")),
    )


def downgrade() -> None:
    op.drop_table("job_runs")
    op.drop_index("ix_mail_outbox_status_next_attempt_at", table_name="mail_outbox")
    op.drop_table("mail_outbox")
    op.drop_index("ix_notifications_user_id_created_at", table_name="notifications")
    op.drop_table("notifications")
    with op.batch_alter_table("access_grants") as batch:
        batch.drop_index("ix_access_grants_ends_at")
        batch.drop_column("expiry_notified_at")
        batch.drop_column("reminded_at")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("email")
