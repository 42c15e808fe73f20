"""consent and lawful-basis records, and the customers' filing bases carried into them

Issue 12 (C4.1.2, C4.3.4; PIPL art. 13-17): a customer carries the consents it gave (purposes,
kinds of data, method, evidence, given, expiry, withdrawal) and the other lawful bases the
company relies on. Each existing customer gets one record of the basis it was filed on
(`customers.lawful_basis`), covering what that basis covers by itself (consent/records.py:
the business relationship; marketing and provision to others need a consent of their own).

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

import baomi.db

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# As consent/records.py said when this migration was written (migrations never follow code).
_RELATIONSHIP = ["contract", "service"]
_BASIS_PURPOSES = {
    "consent": _RELATIONSHIP,
    "contract": _RELATIONSHIP,
    "legal_obligation": ["contract"],
    "other_law": ["contract"],
    "public_information": ["contract"],
}
_KINDS = ["identity", "transaction", "needs", "sensitive", "communication"]


def upgrade() -> None:
    consents = op.create_table(
        "consents",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("customer_id", sa.String(length=36), nullable=False),
        sa.Column("basis", sa.String(length=32), nullable=False),
        sa.Column("purposes", sa.JSON(), nullable=False),
        sa.Column("scope", sa.JSON(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=True),
        sa.Column("evidence_attachment_id", sa.String(length=36), nullable=True),
        sa.Column("given_at", baomi.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", baomi.db.UTCDateTime(), nullable=True),
        sa.Column("taken_by", sa.String(length=36), nullable=True),
        sa.Column("created_at", baomi.db.UTCDateTime(), nullable=False),
        sa.Column("withdrawn_at", baomi.db.UTCDateTime(), nullable=True),
        sa.Column("withdrawn_channel", sa.String(length=16), nullable=True),
        sa.Column("withdrawn_by", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_consents_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["evidence_attachment_id"],
            ["attachments.id"],
            name=op.f("fk_consents_evidence_attachment_id_attachments"),
        ),
        sa.ForeignKeyConstraint(
            ["taken_by"], ["users.id"], name=op.f("fk_consents_taken_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["withdrawn_by"], ["users.id"], name=op.f("fk_consents_withdrawn_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
    )
    op.create_index(op.f("ix_consents_customer_id"), "consents", ["customer_id"], unique=False)
    customers = sa.table(
        "customers",
        sa.column("id", sa.String()),
        sa.column("lawful_basis", sa.String()),
        sa.column("created_at", baomi.db.UTCDateTime()),
        sa.column("deleted_at", baomi.db.UTCDateTime()),
    )
    filed = op.get_bind().execute(
        sa.select(customers.c.id, customers.c.lawful_basis, customers.c.created_at).where(
            customers.c.deleted_at.is_(None)
        )
    )
    rows = [
        {
            "id": str(uuid.uuid4()),
            "customer_id": row.id,
            "basis": row.lawful_basis,
            "purposes": _BASIS_PURPOSES.get(row.lawful_basis, []),
            "scope": _KINDS,
            "given_at": row.created_at,
            "created_at": row.created_at,
        }
        for row in filed
    ]
    if rows:
        op.bulk_insert(consents, rows)


def downgrade() -> None:
    op.drop_index(op.f("ix_consents_customer_id"), table_name="consents")
    op.drop_table("consents")
