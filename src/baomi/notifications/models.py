"""The in-app inbox and the outbox of e-mail still to send: tables only.

Neither holds customer data: a notification is not behind the customer door, so its params carry
ids, counts, colleagues' names and times only (see `kinds.ALLOWED_PARAMS`).
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, Table, Text

from baomi.db import UTCDateTime, metadata

notifications = Table(
    "notifications",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id"), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("params", JSON, nullable=False),
    # A path inside the app (e.g. /access-requests/<id>); the mail prefixes BAOMI_PUBLIC_URL.
    Column("link", String(500), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("read_at", UTCDateTime(), nullable=True),
    Index("ix_notifications_user_id_created_at", "user_id", "created_at"),
)

# Written in the transaction that writes the notification, so mail goes out only for work that
# committed; the mail.send job delivers it, retrying with back-off, and gives up after N attempts.
mail_outbox = Table(
    "mail_outbox",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("notification_id", String(36), ForeignKey("notifications.id"), nullable=False),
    Column("recipient", String(254), nullable=False),
    # pending, sent, or failed (given up).
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("last_error", Text, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("sent_at", UTCDateTime(), nullable=True),
    Index("ix_mail_outbox_status_next_attempt_at", "status", "next_attempt_at"),
)
