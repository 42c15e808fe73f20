"""imports of ledgers: runs (resumable), rows met on file, saved column mappings; customers'
import id

Issue 12 item 2 (C4.1.1, C4.1.3): `baomi import` and the web import file a spreadsheet's
customers in batches. A run records where it stopped, so that an interrupted import resumes
there; a customer filed by an import carries the import's id, which the import's own duplicate
check passes over (customers/bulk_check.py).

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import baomi.db

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: SQLite adds it in place, without copying a table others point at.
    op.add_column("customers", sa.Column("import_id", sa.String(length=36), nullable=True))
    op.create_index(op.f("ix_customers_import_id"), "customers", ["import_id"], unique=False)
    op.create_table(
        "imports",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("actor_id", sa.String(length=36), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("lawful_basis", sa.String(length=32), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("started_at", baomi.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", baomi.db.UTCDateTime(), nullable=False),
        sa.Column("finished_at", baomi.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_imports_actor_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imports")),
    )
    op.create_index(op.f("ix_imports_actor_id"), "imports", ["actor_id"], unique=False)
    op.create_index(op.f("ix_imports_status"), "imports", ["status"], unique=False)
    op.create_table(
        "import_duplicates",
        sa.Column("import_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("sheet", sa.String(length=100), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=36), nullable=True),
        sa.Column("handler_username", sa.String(length=64), nullable=True),
        sa.Column("department", sa.String(length=100), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"], ["imports.id"], name=op.f("fk_import_duplicates_import_id_imports")
        ),
        sa.PrimaryKeyConstraint("import_id", "seq", name=op.f("pk_import_duplicates")),
    )
    op.create_table(
        "import_mappings",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("signature", sa.String(length=64), nullable=False),
        sa.Column("mapping", sa.JSON(), nullable=False),
        sa.Column("updated_at", baomi.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_import_mappings_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", "signature", name=op.f("pk_import_mappings")),
    )


def downgrade() -> None:
    op.drop_table("import_mappings")
    op.drop_table("import_duplicates")
    op.drop_index(op.f("ix_imports_status"), table_name="imports")
    op.drop_index(op.f("ix_imports_actor_id"), table_name="imports")
    op.drop_table("imports")
    op.drop_index(op.f("ix_customers_import_id"), table_name="customers")
    op.drop_column("customers", "import_id")
