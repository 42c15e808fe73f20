"""Bearer tokens (stored only as hashes), login throttles and MFA recovery codes."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, String, Table

from baomi.db import UTCDateTime, metadata

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime(), nullable=True),
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
