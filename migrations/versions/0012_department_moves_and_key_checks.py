"""department moves wait for the officer; key check values refuse wrong keys by name

Issue 19 (organisation): moving a department under another parent lets that parent's head see
its customers (C1.3), so it waits for the security officer's approval like a move of a person:
an account change may now be about a department (`department_id`) rather than a user.

Issue 17 (wrong keys): a key check value per key (an HMAC of a fixed label under that key) lets
`baomi doctor` and start-up refuse a wrong master or index key by name, instead of every read
later failing as if the data had been tampered with.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import baomi.db

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("account_changes") as batch:
        batch.alter_column("user_id", existing_type=sa.String(length=36), nullable=True)
        batch.add_column(sa.Column("department_id", sa.String(length=36), nullable=True))
        batch.create_foreign_key(
            op.f("fk_account_changes_department_id_departments"),
            "departments",
            ["department_id"],
            ["id"],
        )
    op.create_table(
        "key_check_values",
        # "master:<version>" or "index": which key the value checks.
        sa.Column("key_name", sa.String(length=32), nullable=False),
        sa.Column("check_value", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", baomi.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key_name", name=op.f("pk_key_check_values")),
    )


def downgrade() -> None:
    op.drop_table("key_check_values")
    # Changes about a department cannot be kept in a table whose rows are about users.
    op.execute("DELETE FROM account_changes WHERE user_id IS NULL")
    with op.batch_alter_table("account_changes") as batch:
        batch.drop_constraint(
            op.f("fk_account_changes_department_id_departments"), type_="foreignkey"
        )
        batch.drop_column("department_id")
        batch.alter_column("user_id", existing_type=sa.String(length=36), nullable=False)
