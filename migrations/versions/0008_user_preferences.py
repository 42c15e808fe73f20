"""per-user preferences for the web UI (language) and the web UI's screen locks

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import baomi.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("locale", sa.String(length=16), nullable=True))
    # C4.2.4: a browser session whose screen is locked shows no page until the password is
    # given again; kept on the server so that reloading the page does not lift the lock.
    op.create_table(
        "web_screen_locks",
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("locked_at", baomi.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name=op.f("fk_web_screen_locks_session_id_sessions")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_web_screen_locks_user_id_users")
        ),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_web_screen_locks")),
    )


def downgrade() -> None:
    op.drop_table("web_screen_locks")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("locale")
