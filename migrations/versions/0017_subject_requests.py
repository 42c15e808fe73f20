"""data-subject requests

Issue 12 item 4 (PIPL art. 44-47, GB/T 35273): a customer's request for a copy, a correction,
a deletion or the withdrawal of a consent, with its channel, identity check, due date, handler
and security officer, and its outcome.

Revision ID: 0017
Revises: 0016 (written before 0016 was on disk; relinked after it when 0016, imports, came)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import baomi.db

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None
_INDEXED = ("customer_id", "due_at", "handler_id", "department_id", "officer_id", "status")


def upgrade() -> None:
    op.create_table(
        "subject_requests",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("customer_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("received_at", baomi.db.UTCDateTime(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("identity_method", sa.String(length=24), nullable=False),
        sa.Column("identity_note", sa.String(length=500), nullable=False),
        sa.Column("due_at", baomi.db.UTCDateTime(), nullable=False),
        sa.Column("handler_id", sa.String(length=36), nullable=False),
        sa.Column("department_id", sa.String(length=36), nullable=False),
        sa.Column("officer_id", sa.String(length=36), nullable=False),
        sa.Column("consent_id", sa.String(length=36), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=36), nullable=False),
        sa.Column("created_at", baomi.db.UTCDateTime(), nullable=False),
        sa.Column("closed_at", baomi.db.UTCDateTime(), nullable=True),
        sa.Column("closed_by", sa.String(length=36), nullable=True),
        sa.Column("reminded_at", baomi.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_subject_requests_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["handler_id"], ["users.id"], name=op.f("fk_subject_requests_handler_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_subject_requests_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["users.id"], name=op.f("fk_subject_requests_officer_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["consent_id"], ["consents.id"], name=op.f("fk_subject_requests_consent_id_consents")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_subject_requests_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["closed_by"], ["users.id"], name=op.f("fk_subject_requests_closed_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_requests")),
    )
    for column in _INDEXED:
        op.create_index(
            op.f(f"ix_subject_requests_{column}"), "subject_requests", [column], unique=False
        )


def downgrade() -> None:
    for column in _INDEXED:
        op.drop_index(op.f(f"ix_subject_requests_{column}"), table_name="subject_requests")
    op.drop_table("subject_requests")
