"""Consent and lawful-basis records of customers (C4.1.2; PIPL art. 13-17).

One row per statement: "this customer consented to these purposes for these kinds of data, in
this way, on this day" or "the company holds this kind of data for these purposes on this other
lawful basis". A withdrawal is written on the row (when, through which channel, recorded by
whom) and never deletes it: the history is the evidence.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, String, Table

from baomi.db import UTCDateTime, metadata

consents = Table(
    "consents",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("customer_id", String(36), ForeignKey("customers.id"), nullable=False, index=True),
    # "consent", or another PIPL art. 13 basis (the codes of customers.schemas.LawfulBasis).
    Column("basis", String(32), nullable=False),
    Column("purposes", JSON, nullable=False),
    # Kinds of data covered (C2.1: identity, transaction, needs, sensitive, communication).
    Column("scope", JSON, nullable=False),
    # How a consent was given: written, electronic, recorded_call (NULL for other bases).
    Column("method", String(16), nullable=True),
    Column("evidence_attachment_id", String(36), ForeignKey("attachments.id"), nullable=True),
    Column("given_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=True),
    # Who recorded it (NULL: carried over from the customer's filing by migration 0015).
    Column("taken_by", String(36), ForeignKey("users.id"), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("withdrawn_at", UTCDateTime(), nullable=True),
    # phone, visit, email, wechat, letter, other; "superseded" when a new basis replaced it.
    Column("withdrawn_channel", String(16), nullable=True),
    Column("withdrawn_by", String(36), ForeignKey("users.id"), nullable=True),
)
