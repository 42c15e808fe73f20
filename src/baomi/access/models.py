"""Access requests and their approvals (C4.3.1; level changes, C2.2): tables only."""

from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, Table, Text

from baomi.db import UTCDateTime, metadata

access_requests = Table(
    "access_requests",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("requester_id", String(36), ForeignKey("users.id"), nullable=False),
    # Field names asked for; NULL means the whole record.
    Column("fields", JSON, nullable=True),
    Column("purpose", Text, nullable=False),
    Column("duration_hours", Integer, nullable=False),
    # pending, approved or rejected; revoked and expired are derived from the grants.
    Column("status", String(20), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("decided_at", UTCDateTime(), nullable=True),
    # "access" (C4.3.1) or "level_change" (C2.2: lowering a level, access/level_change.py).
    Column("kind", String(16), nullable=False, server_default="access"),
    # A level change: the level when it was asked for (its rule routed the approvals) and the
    # level asked for.
    Column("from_level", String(16), nullable=True),
    Column("target_level", String(16), nullable=True),
    Index("ix_access_requests_requester_id", "requester_id"),
)

access_request_customers = Table(
    "access_request_customers",
    metadata,
    Column("request_id", String(36), ForeignKey("access_requests.id"), primary_key=True),
    Column("customer_id", String(36), ForeignKey("customers.id"), primary_key=True),
)

# One row per required approval. A department head's slot names the person; the security
# officer's slot names the role, and whichever officer decides is recorded in decided_by.
access_request_approvals = Table(
    "access_request_approvals",
    metadata,
    Column("request_id", String(36), ForeignKey("access_requests.id"), primary_key=True),
    Column("slot", Integer, primary_key=True, autoincrement=False),
    Column("role", String(32), nullable=False),
    Column("approver_id", String(36), ForeignKey("users.id"), nullable=True),
    Column("decision", String(16), nullable=True),
    Column("decided_by", String(36), ForeignKey("users.id"), nullable=True),
    Column("decided_at", UTCDateTime(), nullable=True),
    Column("comment", Text, nullable=True),
    Index("ix_access_request_approvals_approver_id", "approver_id"),
)
