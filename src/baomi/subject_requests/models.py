"""Data-subject requests: who asked for what, when, how they were identified, who answers by when.

A row holds no customer data: the customer is named by id, the identity check by its method
(a code) and a short note the handler writes about the check (never the document's number).
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, String, Table, Text

from baomi.db import UTCDateTime, metadata

subject_requests = Table(
    "subject_requests",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("customer_id", String(36), ForeignKey("customers.id"), nullable=False, index=True),
    # access, correction, deletion, withdrawal (schemas.RequestKind).
    Column("kind", String(16), nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
    # phone, visit, email, letter, wechat, other.
    Column("channel", String(16), nullable=False),
    # How the requester was identified (id_document, known_contact, signed_letter, …).
    Column("identity_method", String(24), nullable=False),
    Column("identity_note", String(500), nullable=False, default=""),
    Column("due_at", UTCDateTime(), nullable=False, index=True),
    Column("handler_id", String(36), ForeignKey("users.id"), nullable=False, index=True),
    # The customer's department when the request came in: its heads see and answer it (C3.2).
    Column("department_id", String(36), ForeignKey("departments.id"), nullable=False, index=True),
    Column("officer_id", String(36), ForeignKey("users.id"), nullable=False, index=True),
    # A withdrawal of consent names the consent record it withdrew (consent/).
    Column("consent_id", String(36), ForeignKey("consents.id"), nullable=True),
    # open, completed, rejected.
    Column("status", String(16), nullable=False, index=True),
    Column("outcome", Text, nullable=True),
    Column("created_by", String(36), ForeignKey("users.id"), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("closed_at", UTCDateTime(), nullable=True),
    Column("closed_by", String(36), ForeignKey("users.id"), nullable=True),
    # When the last overdue reminder went out (the job reminds once a day at most).
    Column("reminded_at", UTCDateTime(), nullable=True),
)
