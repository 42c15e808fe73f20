"""Sessions (secrets stored only as hashes), login throttles, MFA recovery codes, screen locks."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, ForeignKey, Integer, String, Table

from baomi.db import UTCDateTime, metadata

SESSION_KINDS = ("api", "browser")

# Server-side sessions of the API (bearer) and the browser (cookie), ASVS V7. The public `id`
# names a session in lists, audit events and `DELETE /sessions/{id}`; the secret the client
# holds is 256 random bits and only its SHA-256 is kept, so a leaked table opens no session.
sessions = Table(
    "sessions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("last_seen_at", UTCDateTime(), nullable=False),
    # The absolute end, however active the session is (ASVS V7.3.2).
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("ended_at", UTCDateTime(), nullable=True),
    # logout, ended_by_user, password_changed, mfa_changed, user_disabled, idle, expired, …
    Column("end_reason", String(32), nullable=True),
    # When this session last passed a second factor (login with MFA, or a step-up).
    Column("mfa_verified_at", UTCDateTime(), nullable=True),
    Column("client_addr", String(64), nullable=True),
    Column("user_agent", String(200), nullable=True),
    CheckConstraint("kind IN ('api', 'browser')", name="kind"),
)

# Failed-login counters per account name ("account:<username>", known or not, so that unknown
# names behave alike) and per client address ("addr:<ip>"); in the database so that every app
# instance sees them (ASVS V6.3.1).
login_throttles = Table(
    "login_throttles",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("failures", Integer(), nullable=False),
    Column("last_failure_at", UTCDateTime(), nullable=False),
)

# Single-use MFA recovery codes: 80 random bits each, stored only as SHA-256.
mfa_recovery_codes = Table(
    "mfa_recovery_codes",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id"), nullable=False, index=True),
    Column("code_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("used_at", UTCDateTime(), nullable=True),
)

# C4.2.4: one row per browser session whose screen is locked; deleted when the password is given
# again. The lock lives on the server so that reloading or opening another tab shows no data
# either. (The table keeps the name it was created with, when the web UI held it: migration 0008.)
web_screen_locks = Table(
    "web_screen_locks",
    metadata,
    Column("session_id", String(36), ForeignKey("sessions.id"), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id"), nullable=False),
    Column("locked_at", UTCDateTime(), nullable=False),
)
