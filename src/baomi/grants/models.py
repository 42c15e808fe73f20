"""Explicit, time-bound access grants (C4.2.1, C4.3.1)."""

from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, Index, LargeBinary, String, Table, Text

from baomi.db import UTCDateTime, metadata

access_grants = Table(
    "access_grants",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id"), nullable=False),
    Column("customer_id", String(36), ForeignKey("customers.id"), nullable=False),
    # Field names the grant covers; NULL means the whole record.
    Column("fields", JSON, nullable=True),
    # Valid in [starts_at, ends_at).
    Column("starts_at", UTCDateTime(), nullable=False),
    Column("ends_at", UTCDateTime(), nullable=False),
    Column("purpose", Text, nullable=False),
    Column("created_by", String(36), ForeignKey("users.id"), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime(), nullable=True),
    Column("revoked_by", String(36), ForeignKey("users.id"), nullable=True),
    # C4.3.1: the approved access request this grant carries out (NULL: given directly).
    Column("request_id", String(36), ForeignKey("access_requests.id"), nullable=True),
    # C4.3.1: the grantee is told once that the grant ends within a day, and once that it ended.
    Column("reminded_at", UTCDateTime(), nullable=True),
    Column("expiry_notified_at", UTCDateTime(), nullable=True),
    # C4.3.1: a grant with no request behind it is an emergency grant, reviewed afterwards by a
    # head of the customer's department.
    Column("reviewed_at", UTCDateTime(), nullable=True),
    Column("reviewed_by", String(36), ForeignKey("users.id"), nullable=True),
    Column("review_note", Text, nullable=True),
    # Issue 17.5: a MAC over grantee, customer, fields and window (grants/tags.py).
    Column("row_tag", LargeBinary, nullable=True),
    Index("ix_access_grants_user_customer", "user_id", "customer_id"),
    Index("ix_access_grants_request_id", "request_id"),
    Index("ix_access_grants_ends_at", "ends_at"),
)
