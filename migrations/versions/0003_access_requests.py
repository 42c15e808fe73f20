"""access requests: requests, their customers and approvals; grants remember their request

C4.3.1: access only through the permission-approval process.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import baomi.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_requests",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("requester_id", sa.String(length=36), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=True),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("duration_hours", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", baomi.db.UTCDateTime(), nullable=False),
        sa.Column("decided_at", baomi.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["requester_id"], ["users.id"], name=op.f("fk_access_requests_requester_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_requests")),
    )
    op.create_index("ix_access_requests_requester_id", "access_requests", ["requester_id"])
    op.create_table(
        "access_request_customers",
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("customer_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_access_request_customers_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["access_requests.id"],
            name=op.f("fk_access_request_customers_request_id_access_requests"),
        ),
        sa.PrimaryKeyConstraint(
            "request_id", "customer_id", name=op.f("pk_access_request_customers")
        ),
    )
    op.create_table(
        "access_request_approvals",
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("slot", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("approver_id", sa.String(length=36), nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("decided_by", sa.String(length=36), nullable=True),
        sa.Column("decided_at", baomi.db.UTCDateTime(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["approver_id"],
            ["users.id"],
            name=op.f("fk_access_request_approvals_approver_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["users.id"],
            name=op.f("fk_access_request_approvals_decided_by_users"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["access_requests.id"],
            name=op.f("fk_access_request_approvals_request_id_access_requests"),
        ),
        sa.PrimaryKeyConstraint("request_id", "slot", name=op.f("pk_access_request_approvals")),
    )
    op.create_index(
        "ix_access_request_approvals_approver_id", "access_request_approvals", ["approver_id"]
    )
    # SQLite cannot add a foreign key in place: batch mode rebuilds the table there.
    with op.batch_alter_table("access_grants") as batch_op:
        batch_op.add_column(sa.Column("request_id", sa.String(length=36), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_access_grants_request_id_access_requests"),
            "access_requests",
            ["request_id"],
            ["id"],
        )
        batch_op.create_index("ix_access_grants_request_id", ["request_id"])


def downgrade() -> None:
    with op.batch_alter_table("access_grants") as batch_op:
        batch_op.drop_index("ix_access_grants_request_id")
        batch_op.drop_constraint(
            op.f("fk_access_grants_request_id_access_requests"), type_="foreignkey"
        )
        batch_op.drop_column("request_id")
    op.drop_index("ix_access_request_approvals_approver_id", table_name="access_request_approvals")
    op.drop_table("access_request_approvals")
    op.drop_table("access_request_customers")
    op.drop_index("ix_access_requests_requester_id", table_name="access_requests")
    op.drop_table("access_requests")
