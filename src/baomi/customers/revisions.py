"""Writing a change of a customer record: fields at the next revision, the row tag anew.

Every field's AAD binds the record's revision (issue 17.9). A change of any field advances the
revision and seals every field again under it, the unchanged ones included, so that no older
ciphertext of any field can be put back unnoticed: it would open only under a revision the
record no longer has. A change of the plain columns alone (level, handler, period) keeps the
revision. Either way the row tag is computed anew over the columns after the change (issue
17.5). The old tag is the write's guard: it changes with every column it covers, so the write
holds only if the record is still as it was read, and two edits racing on one record do not
both pass (409 `customer_changed`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Connection

from baomi.crypto.envelope import FieldCipher
from baomi.customers import row_tag
from baomi.customers.decrypt import SOURCE, open_fields
from baomi.customers.fields import FIELDS
from baomi.customers.models import customers
from baomi.customers.vault import Vault, seal
from baomi.errors import Conflict

FIRST_REVISION = 1
# Everything sealed under the record's revision: the catalog's fields and the source.
SEALED = (*FIELDS, SOURCE)


def sealed_at(
    cipher: FieldCipher, record_id: str, values: Mapping[str, Any], revision: int
) -> dict[str, bytes | None]:
    """The `*_ct` columns of `values` sealed for `revision`."""
    return {
        f"{name}_ct": seal(cipher, record_id=record_id, field=name, value=value, revision=revision)
        for name, value in values.items()
    }


def write_change(
    conn: Connection,
    *,
    vault: Vault,
    row: Mapping[str, Any],
    columns: Mapping[str, Any],
    fields: Mapping[str, Any] | None = None,
    cipher: FieldCipher | None = None,
) -> None:
    """Apply `columns` (plain) and `fields` (values, sealed here with `cipher`) to `row`.

    `row` is the full customers row as read by the door; its tag has been checked there.
    """
    changes = dict(columns)
    if fields:
        if cipher is None:
            raise ValueError("changing fields needs the record's cipher")
        revision = (row["revision"] or 0) + 1
        kept = [name for name in SEALED if name not in fields and row[f"{name}_ct"] is not None]
        values = {**open_fields(cipher, row, row["id"], kept), **fields}
        changes.update(sealed_at(cipher, row["id"], values, revision), revision=revision)
    changes["row_tag"] = row_tag.retagged(vault.tags, row, changes)
    written = conn.execute(
        update(customers)
        .where(customers.c.id == row["id"], customers.c.row_tag == row["row_tag"])
        .values(**changes)
    ).rowcount
    if written != 1:
        raise Conflict(
            "the customer was changed by someone else meanwhile: reload it and try again",
            code="customer_changed",
        )
