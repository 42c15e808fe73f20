"""The row tag of a grant: who, which customer, which fields, when (issue 17.5, C4.3.1).

A grant row decides access as much as a customer's handler does: an inserted row, a later end
or a cleared revocation would open a customer to someone nobody approved. Each grant carries a
MAC over those columns (crypto/row_tags.py), written with it and rewritten when it is revoked;
`grants.queries.grant_facts` checks it before the door weighs the grant.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from baomi.crypto.errors import DecryptionError
from baomi.crypto.row_tags import RowTagger
from baomi.grants.models import access_grants

TABLE = "access_grants"
TAGGED = ("id", "user_id", "customer_id", "fields", "starts_at", "ends_at", "revoked_at")


class TamperedGrant(DecryptionError):
    """A grant whose columns fail their tag: edited or inserted in the database."""

    def __init__(self, grant_id: str, customer_id: str) -> None:
        super().__init__(f"grant {grant_id} on customer {customer_id} fails its row tag")
        self.grant_id = grant_id
        self.customer_id = customer_id


def tag_of(tags: RowTagger, values: Mapping[str, Any]) -> bytes:
    """The tag of a grant row holding `values` (every column of TAGGED)."""
    return tags.tag(TABLE, *(values[name] for name in TAGGED))


def holds(tags: RowTagger, row: Mapping[str, Any]) -> bool:
    return tags.holds(row["row_tag"], TABLE, *(row[name] for name in TAGGED))


def tag_untagged(conn: Connection, tags: RowTagger) -> int:
    """Tag every grant from before row tags; only `baomi init`'s upgrade step calls this
    (customers/upgrade.py), once, right after migrating across 0014."""
    rows = conn.execute(select(access_grants).where(access_grants.c.row_tag.is_(None))).all()
    for grant in rows:
        tag = tag_of(tags, dict(grant._mapping))
        conn.execute(
            update(access_grants).where(access_grants.c.id == grant.id).values(row_tag=tag)
        )
    return len(rows)
