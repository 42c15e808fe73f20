"""level-change requests and confidentiality periods

C2.2: lowering a level is an approved request of a second kind; a level may carry a
confidentiality period after which it lapses.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("access_requests") as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), server_default="access", nullable=False)
        )
        batch_op.add_column(sa.Column("from_level", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("target_level", sa.String(length=16), nullable=True))
    with op.batch_alter_table("customers") as batch_op:
        batch_op.add_column(sa.Column("confidential_until", sa.Date(), nullable=True))
        batch_op.create_index("ix_customers_confidential_until", ["confidential_until"])


def downgrade() -> None:
    with op.batch_alter_table("customers") as batch_op:
        batch_op.drop_index("ix_customers_confidential_until")
        batch_op.drop_column("confidential_until")
    with op.batch_alter_table("access_requests") as batch_op:
        batch_op.drop_column("target_level")
        batch_op.drop_column("from_level")
        batch_op.drop_column("kind")
