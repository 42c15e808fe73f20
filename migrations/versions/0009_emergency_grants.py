"""emergency grants: a grant given outside the approval process is reviewed afterwards

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import baomi.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # C4.3.1: a grant without an approved request behind it is an emergency grant; the heads of
    # the customer's department review it afterwards, and the review is kept beside it.
    with op.batch_alter_table("access_grants") as batch:
        batch.add_column(sa.Column("reviewed_at", baomi.db.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("reviewed_by", sa.String(length=36), nullable=True))
        batch.add_column(sa.Column("review_note", sa.Text(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_access_grants_reviewed_by_users"), "users", ["reviewed_by"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("access_grants") as batch:
        batch.drop_constraint(op.f("fk_access_grants_reviewed_by_users"), type_="foreignkey")
        batch.drop_column("review_note")
        batch.drop_column("reviewed_by")
        batch.drop_column("reviewed_at")
