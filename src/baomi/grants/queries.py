"""What other rooms may know of grants: the facts a decision weighs, and the ids they cover.

The customers door (customers.access) and listing (customers.search) ask here rather than read
the grants table: the facts carry the fields and the window, nothing else of the grant.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, bindparam, select
from sqlalchemy.engine import Connection

from baomi.crypto.row_tags import RowTagger
from baomi.db_direct import DirectStatement
from baomi.grants.models import access_grants
from baomi.grants.tags import TamperedGrant, holds
from baomi.security.policy import GrantFacts

# Built once: the door asks on every read by someone who is neither handler nor head.
_FACTS = DirectStatement(
    select(
        access_grants.c.id,
        access_grants.c.user_id,
        access_grants.c.customer_id,
        access_grants.c.row_tag,
        access_grants.c.fields,
        access_grants.c.starts_at,
        access_grants.c.ends_at,
        access_grants.c.revoked_at,
    ).where(
        access_grants.c.user_id == bindparam("user_id"),
        access_grants.c.customer_id == bindparam("customer_id"),
    )
)


def grant_facts(
    conn: Connection, user_id: str, customer_id: str, tags: RowTagger
) -> list[GrantFacts]:
    """Return every grant of this user on this customer; the policy weighs which are active.

    A grant whose row tag fails (edited or inserted in the database) raises TamperedGrant: the
    door refuses the read and reports it, rather than quietly weighing the grants left.
    """
    rows = _FACTS.all(conn, {"user_id": user_id, "customer_id": customer_id})
    for row in rows:
        if not holds(tags, row._mapping):
            raise TamperedGrant(row.id, customer_id)
    return [
        GrantFacts(
            fields=None if r.fields is None else frozenset(r.fields),
            starts_at=r.starts_at,
            ends_at=r.ends_at,
            revoked_at=r.revoked_at,
        )
        for r in rows
    ]


def granted_customer_ids(user_id: str, now: datetime) -> Select[tuple[str]]:
    """Select the ids of the customers this user's grants cover at `now` (a subquery)."""
    g = access_grants.c
    return select(g.customer_id).where(
        g.user_id == user_id,
        g.revoked_at.is_(None),
        g.starts_at <= now,
        g.ends_at > now,
    )
