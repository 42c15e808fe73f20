"""request kinds keep their own facts in one details column

Issue 11: access requests (C4.3.1) and level changes (C2.2) are kinds of one approval machine;
what only a kind knows (fields and hours asked for; the level then and the level asked for)
moves from columns on access_requests into a JSON object, so that a new kind needs no migration.

The columns are dropped in place (ALTER TABLE … DROP COLUMN, SQLite 3.35 and later) rather than
by rebuilding the table in batch mode: grants, approvals and customers of requests refer to
access_requests, and with foreign keys enforced SQLite refuses to drop a table others refer to.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_requests = sa.table(
    "access_requests",
    sa.column("id", sa.String()),
    sa.column("kind", sa.String()),
    sa.column("fields", sa.JSON()),
    sa.column("duration_hours", sa.Integer()),
    sa.column("from_level", sa.String()),
    sa.column("target_level", sa.String()),
    sa.column("details", sa.JSON()),
)
_KIND_COLUMNS = ("fields", "duration_hours", "from_level", "target_level")


def _details(row: Any) -> dict[str, Any]:
    if row.kind == "level_change":
        return {"from_level": row.from_level, "target_level": row.target_level}
    return {"fields": row.fields, "hours": row.duration_hours}


def _rewrite(values: list[dict[str, Any]], *columns: str) -> None:
    """Set `columns` of each request named by `_id` in `values`, in one executemany."""
    if not values:
        return
    statement = (
        sa.update(_requests)
        .where(_requests.c.id == sa.bindparam("_id"))
        .values({c: sa.bindparam(c) for c in columns})
    )
    op.get_bind().execute(statement, values)


def upgrade() -> None:
    # Every row gets an object; a kind with nothing of its own keeps {}.
    op.add_column(
        "access_requests",
        sa.Column("details", sa.JSON(), server_default=sa.text("'{}'"), nullable=False),
    )
    rows = op.get_bind().execute(
        sa.select(
            _requests.c.id,
            _requests.c.kind,
            *(_requests.c[c] for c in _KIND_COLUMNS),
        )
    )
    _rewrite([{"_id": r.id, "details": _details(r)} for r in rows], "details")
    for column in _KIND_COLUMNS:
        op.drop_column("access_requests", column)


def downgrade() -> None:
    op.add_column("access_requests", sa.Column("fields", sa.JSON(), nullable=True))
    # NOT NULL needs a default to be added in place; 0 is what a level change stored.
    op.add_column(
        "access_requests",
        sa.Column("duration_hours", sa.Integer(), server_default="0", nullable=False),
    )
    op.add_column("access_requests", sa.Column("from_level", sa.String(16), nullable=True))
    op.add_column("access_requests", sa.Column("target_level", sa.String(16), nullable=True))
    rows = op.get_bind().execute(sa.select(_requests.c.id, _requests.c.details))
    values = [
        {
            "_id": r.id,
            "fields": (r.details or {}).get("fields"),
            "duration_hours": (r.details or {}).get("hours", 0),
            "from_level": (r.details or {}).get("from_level"),
            "target_level": (r.details or {}).get("target_level"),
        }
        for r in rows
    ]
    _rewrite(values, *_KIND_COLUMNS)
    op.drop_column("access_requests", "details")
