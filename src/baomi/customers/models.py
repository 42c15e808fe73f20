"""Customer tables. Sensitive values are stored only as AES-256-GCM ciphertext (`*_ct`).

The plaintext columns hold what access control and routing need (level, handler, department,
lawful basis), under a row tag, and nothing that identifies the customer. Exact lookups use the
keyed, truncated blind indexes in `customer_index`, never a decryption of the table.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
)

from baomi.db import UTCDateTime, metadata

# The encrypted fields of a customer record; their meaning lives in customers/fields.py.
ENCRYPTED_COLUMNS = (
    "name",
    "contacts",
    "phones",
    "emails",
    "address",
    "id_number",
    "purchases",
    "contract_terms",
    "prices",
    "payment_methods",
    "requirements",
    "purchase_intent",
    "competitor_products",
    "notes",
)

customers = Table(
    "customers",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("level", String(16), nullable=False, index=True),
    # "ric" (resident ID), "uscc" (unified social credit code) or "" when none is on file.
    Column("id_type", String(8), nullable=False, default=""),
    Column("handler_id", String(36), ForeignKey("users.id"), nullable=False, index=True),
    Column("department_id", String(36), ForeignKey("departments.id"), nullable=False, index=True),
    # C4.1.1: where the data came from and on what lawful basis it is held. The source is free
    # text and sealed (`source_ct`, issue 17.9); `source` holds the plaintext of records from
    # before that only until `baomi init` seals it on upgrade (customers/upgrade.py): "" since.
    Column("source", String(200), nullable=False, default=""),
    Column("source_ct", LargeBinary, nullable=True),
    Column("lawful_basis", String(32), nullable=False),
    # C4.1.1 / C4.1.3: the import (imports/) that filed it, NULL for one filed by itself. Bulk
    # filing's 查重 passes over the customers of its own import, which that import has
    # de-duplicated within its file already (customers/bulk_check.py).
    Column("import_id", String(36), nullable=True, index=True),
    # C2.2: the last day (UTC) on which the level holds; the next day it lapses (customers/periods).
    Column("confidential_until", Date, nullable=True, index=True),
    Column("data_key_id", String(36), ForeignKey("data_keys.id"), nullable=False),
    Column("created_by", String(36), ForeignKey("users.id"), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("deleted_at", UTCDateTime(), nullable=True),
    # Issue 17.9: every field's AAD binds the record's revision, which each change of the
    # fields advances; NULL only on records from before it, until `baomi init` upgrades them.
    Column("revision", Integer, nullable=True),
    # Issue 17.5: a MAC over the columns that decide access (customers/row_tag.py).
    Column("row_tag", LargeBinary, nullable=True),
    *(Column(f"{name}_ct", LargeBinary, nullable=True) for name in ENCRYPTED_COLUMNS),
)

customer_index = Table(
    "customer_index",
    metadata,
    Column("customer_id", String(36), ForeignKey("customers.id"), primary_key=True),
    Column("field", String(16), primary_key=True),
    Column("value", Integer, primary_key=True, autoincrement=False),
    Index("ix_customer_index_field_value", "field", "value"),
)

communications = Table(
    "communications",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("customer_id", String(36), ForeignKey("customers.id"), nullable=False, index=True),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("author_id", String(36), ForeignKey("users.id"), nullable=False),
    Column("body_ct", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

attachments = Table(
    "attachments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("customer_id", String(36), ForeignKey("customers.id"), nullable=False, index=True),
    Column("communication_id", String(36), ForeignKey("communications.id"), nullable=False),
    Column("filename_ct", LargeBinary, nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size_bytes", Integer, nullable=False),
    Column("chunk_count", Integer, nullable=False),
    Column("created_by", String(36), ForeignKey("users.id"), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

attachment_chunks = Table(
    "attachment_chunks",
    metadata,
    Column("attachment_id", String(36), ForeignKey("attachments.id"), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("ct", LargeBinary, nullable=False),
)
