"""row tags over access-deciding columns; the record's revision in every field's AAD; source sealed

Issue 17.5: changing a customer's handler, department or level, or a grant row, directly in the
database turned a refusal into a full read. Both tables gain `row_tag`, a MAC under a key
outside the database over the columns that decide access.
Issue 17.9: customers gain `revision`, which every field's AAD binds, so an older ciphertext of
a field put back fails; `source` (free text) is sealed as `source_ct`.
Existing rows have no tag or revision yet: `baomi init`, which holds the keys this migration
lacks, seals and tags them right after migrating (customers/upgrade.py); until then the door
refuses them as damaged, never reads them unchecked.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


# Plain ADD COLUMNs: SQLite adds them in place, without the table copy that batch mode makes of
# a table other tables point at. `source` stays as it is; sealed records keep it empty.


def upgrade() -> None:
    op.add_column("customers", sa.Column("source_ct", sa.LargeBinary(), nullable=True))
    op.add_column("customers", sa.Column("revision", sa.Integer(), nullable=True))
    op.add_column("customers", sa.Column("row_tag", sa.LargeBinary(), nullable=True))
    op.add_column("access_grants", sa.Column("row_tag", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    # A sealed source cannot be opened without the keys: going back leaves those sources empty.
    op.drop_column("access_grants", "row_tag")
    op.drop_column("customers", "row_tag")
    op.drop_column("customers", "revision")
    op.drop_column("customers", "source_ct")
