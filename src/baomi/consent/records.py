"""What other rooms may do with consent records: file the basis a customer was filed on, and
ask which purposes cover which kinds of data now (the door's purpose limitation, C4.3.4).

Neither touches customer data, and this module imports no other room: the customers room calls
it when filing or editing a customer, and the door when a purpose is stated.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.engine import Connection

from baomi.consent.models import consents
from baomi.consent.purposes import CONTRACT, SERVICE
from baomi.db_direct import DirectStatement
from baomi.ids import new_id

CONSENT = "consent"
SUPERSEDED = "superseded"
# C2.1 (a)-(e): the kinds of data a record may cover (customers.fields.Kind's values).
KINDS = ("identity", "transaction", "needs", "sensitive", "communication")

# What the basis a customer is filed on covers by itself: the business relationship, and no
# more. Marketing and provision to others need a consent of their own (PIPL art. 23 asks a
# separate consent for provision; marketing rests on consent), recorded as a consent record.
_RELATIONSHIP = (CONTRACT, SERVICE)
BASIS_PURPOSES: dict[str, tuple[str, ...]] = {
    "consent": _RELATIONSHIP,
    "contract": _RELATIONSHIP,
    "legal_obligation": (CONTRACT,),
    "other_law": (CONTRACT,),
    "emergency": (),
    "news_reporting": (),
    "public_information": (CONTRACT,),
}


def insert_record(
    conn: Connection,
    *,
    customer_id: str,
    basis: str,
    purposes: Iterable[str],
    scope: Iterable[str],
    given_at: datetime,
    now: datetime,
    taken_by: str | None,
    method: str | None = None,
    evidence_attachment_id: str | None = None,
    expires_at: datetime | None = None,
) -> str:
    record_id = new_id()
    conn.execute(
        insert(consents).values(
            id=record_id,
            customer_id=customer_id,
            basis=basis,
            purposes=list(purposes),
            scope=list(scope),
            method=method,
            evidence_attachment_id=evidence_attachment_id,
            given_at=given_at,
            expires_at=expires_at,
            taken_by=taken_by,
            created_at=now,
        )
    )
    return record_id


def file_basis(
    conn: Connection, *, customer_id: str, basis: str, taken_by: str | None, now: datetime
) -> str:
    """Record the lawful basis a customer is filed (or re-filed) on (C4.1.1), superseding the
    basis recorded before; consents stay as they are."""
    conn.execute(
        update(consents)
        .where(
            consents.c.customer_id == customer_id,
            consents.c.basis != CONSENT,
            consents.c.withdrawn_at.is_(None),
        )
        .values(withdrawn_at=now, withdrawn_channel=SUPERSEDED, withdrawn_by=taken_by)
    )
    return insert_record(
        conn,
        customer_id=customer_id,
        basis=basis,
        purposes=BASIS_PURPOSES.get(basis, ()),
        scope=KINDS,
        given_at=now,
        now=now,
        taken_by=taken_by,
    )


_RECORD_KEYS = (
    "id",
    "customer_id",
    "basis",
    "purposes",
    "scope",
    "given_at",
    "taken_by",
    "created_at",
)
_INSERT_MANY = DirectStatement(
    insert(consents),
    insert_keys=_RECORD_KEYS,
    memoize=("purposes", "scope"),
)


def file_new_bases(
    conn: Connection,
    *,
    customer_ids: Sequence[str],
    basis: str,
    taken_by: str | None,
    now: datetime,
) -> None:
    """`file_basis` for customers filed just now, in bulk (an import): one insert for all.

    They have no record yet, so there is nothing to supersede; each gets the record `file_basis`
    would give it."""
    purposes, scope = list(BASIS_PURPOSES.get(basis, ())), list(KINDS)
    _INSERT_MANY.execute_many(
        conn,
        [
            {
                "id": new_id(),
                "customer_id": customer_id,
                "basis": basis,
                "purposes": purposes,
                "scope": scope,
                "given_at": now,
                "taken_by": taken_by,
                "created_at": now,
            }
            for customer_id in customer_ids
        ],
    )


_IN_FORCE = DirectStatement(
    select(consents.c.purposes, consents.c.scope).where(
        consents.c.customer_id == bindparam("customer_id"),
        consents.c.given_at <= bindparam("now"),
        or_(consents.c.withdrawn_at.is_(None), consents.c.withdrawn_at > bindparam("now")),
        or_(consents.c.expires_at.is_(None), consents.c.expires_at > bindparam("now")),
    )
)


def coverage(conn: Connection, customer_id: str, now: datetime) -> dict[str, frozenset[str]]:
    """Purpose code -> the kinds of data the customer's records in force cover for it."""
    covered: dict[str, set[str]] = {}
    for row in _IN_FORCE.all(conn, {"customer_id": customer_id, "now": now}):
        for purpose in row.purposes:
            covered.setdefault(purpose, set()).update(row.scope)
    return {purpose: frozenset(kinds) for purpose, kinds in covered.items()}
