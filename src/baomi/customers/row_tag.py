"""The row tag of a customer: its access-deciding columns under a MAC (issue 17.5, C4.2.1).

Level, handler and department decide who sees a customer; the confidentiality period decides
when the level lapses; `deleted_at` hides it; the data key id and the revision say which key
and which revision of the fields belong to it (the fields' AAD binds both). All of them are
under the tag, so an edit of any one in the database is caught before a decision believes it.
Every writer of these columns computes the tag anew (`tag_of`); the door checks it on every
decision (customers.access.decide_on_row), and a mismatch is refused, audited and reported like
a ciphertext that fails authentication (customers/integrity.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from baomi.crypto.row_tags import RowTagger
from baomi.customers.decrypt import ACCESS_COLUMNS, DamagedRecord

TABLE = "customers"
# In the order the tag binds them.
TAGGED = (
    "id",
    "level",
    "handler_id",
    "department_id",
    "confidential_until",
    "deleted_at",
    "data_key_id",
    "revision",
)


def tag_of(tags: RowTagger, values: Mapping[str, Any]) -> bytes:
    """The tag of a customer row holding `values` (every column of TAGGED)."""
    return tags.tag(TABLE, *(values[name] for name in TAGGED))


def check(tags: RowTagger, row: Mapping[str, Any]) -> None:
    """Raise DamagedRecord (ACCESS_COLUMNS) unless the row's tag holds for its columns."""
    if not tags.holds(row["row_tag"], TABLE, *(row[name] for name in TAGGED)):
        raise DamagedRecord(row["id"], ACCESS_COLUMNS)


def retagged(tags: RowTagger, row: Mapping[str, Any], changes: Mapping[str, Any]) -> bytes:
    """The tag of `row` once `changes` are applied: for writers changing a tagged column."""
    return tag_of(tags, {name: changes.get(name, row[name]) for name in TAGGED})
