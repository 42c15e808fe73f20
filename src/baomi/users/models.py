"""Organisation tables: departments (a tree), users and their roles."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    LargeBinary,
    String,
    Table,
    Text,
)

from baomi.db import UTCDateTime, metadata

departments = Table(
    "departments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("parent_id", String(36), ForeignKey("departments.id"), nullable=True),
    # C1.3: each department has one supervising head, who sees its whole subtree.
    Column("head_user_id", String(36), ForeignKey("users.id", use_alter=True), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(100), nullable=False),
    Column("password_hash", String(255), nullable=False),
    # C1.2: full-time, part-time and sales-support staff are all covered.
    Column("employment_type", String(20), nullable=False),
    Column("department_id", String(36), ForeignKey("departments.id"), nullable=True),
    Column("is_active", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("disabled_at", UTCDateTime(), nullable=True),
    # ASVS V6.3: locked after repeated failed logins until the security officer unlocks it.
    Column("locked_at", UTCDateTime(), nullable=True),
    # C4.2.4 MFA: the TOTP secret, AES-GCM sealed (see auth/totp.py); enabled once confirmed.
    Column("totp_secret_ct", LargeBinary(), nullable=True),
    Column("totp_enabled_at", UTCDateTime(), nullable=True),
    # The last accepted TOTP time step: a code is accepted once (ASVS V6.5.1).
    Column("totp_last_step", BigInteger(), nullable=True),
    # The web UI's language ("zh_CN", "en"); None follows the browser (migration 0008).
    Column("locale", String(16), nullable=True),
    # Where notifications are mailed (C4.3.1, migration 0006); NULL: the in-app inbox only.
    Column("email", String(254), nullable=True),
)

user_roles = Table(
    "user_roles",
    metadata,
    Column("user_id", String(36), ForeignKey("users.id"), primary_key=True),
    Column("role", String(32), primary_key=True),
)

# One-time codes with which a person sets their own password: on a new account ("activate")
# or after the administrator reset it ("reset"). Only a SHA-256 of the code is kept.
account_activations = Table(
    "account_activations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id"), nullable=False, index=True),
    Column("code_hash", LargeBinary(), nullable=False, unique=True),
    Column("purpose", String(16), nullable=False),
    Column("created_by", String(36), ForeignKey("users.id"), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("used_at", UTCDateTime(), nullable=True),
)

# 三员分立 / C4.2.1: a change that would let an account reach customer data (a role, a head of
# department, a move) waits for the security officer's approval (dual control).
account_changes = Table(
    "account_changes",
    metadata,
    Column("id", String(36), primary_key=True),
    # The person the change is about; NULL for a change about a department (`department_id`).
    Column("user_id", String(36), ForeignKey("users.id"), nullable=True, index=True),
    Column("department_id", String(36), ForeignKey("departments.id"), nullable=True),
    # "roles" (roles_before → roles_after), "head" (to head department_after), "department"
    # (a move from department_before to department_after) or "parent" (department_id moves
    # from under department_before to under department_after; migration 0012).
    Column("kind", String(16), nullable=False),
    Column("roles_before", JSON, nullable=True),
    Column("roles_after", JSON, nullable=True),
    Column("department_before", String(36), nullable=True),
    Column("department_after", String(36), ForeignKey("departments.id"), nullable=True),
    # pending, approved, rejected, or withdrawn (superseded before a decision).
    Column("status", String(16), nullable=False, index=True),
    Column("requested_by", String(36), ForeignKey("users.id"), nullable=True),
    Column("requested_at", UTCDateTime(), nullable=False),
    Column("decided_by", String(36), ForeignKey("users.id"), nullable=True),
    Column("decided_at", UTCDateTime(), nullable=True),
    Column("comment", Text, nullable=True),
)
