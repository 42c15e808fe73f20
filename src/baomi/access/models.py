"""Access requests and their approvals (C4.3.1; level changes, C2.2): tables only."""

from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, Table, Text, text

from baomi.db import UTCDateTime, metadata

access_requests = Table(
    "access_requests",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("requester_id", String(36), ForeignKey("users.id"), nullable=False),
    # The work need (C4.3.1, C4.3.4), or a level change's reason: every kind states one.
    Column("purpose", Text, nullable=False),
    # pending, approved or rejected; revoked and expired are derived from the grants.
    Column("status", String(20), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("decided_at", UTCDateTime(), nullable=True),
    # The code of a registered kind (access.catalog): "access" (C4.3.1), "level_change" (C2.2).
    Column("kind", String(16), nullable=False, server_default="access"),
    # What only the kind knows, as the kind checked it (access.kinds): for access the fields
    # and hours asked for, for a level change the level then and the level asked for. One
    # column rather than columns per kind, so that a new kind needs no migration.
    Column("details", JSON, nullable=False, server_default=text("'{}'")),
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
