"""The web UI's own table: screen locks of browser sessions (C4.2.4)."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, String, Table

from baomi.db import UTCDateTime, metadata

# One row per browser session whose screen is locked; deleted when the password is given again.
# The lock lives on the server so that reloading or opening another tab shows no data either.
web_screen_locks = Table(
    "web_screen_locks",
    metadata,
    Column("session_id", String(36), ForeignKey("sessions.id"), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id"), nullable=False),
    Column("locked_at", UTCDateTime(), nullable=False),
)
