"""The few plaintext facts other rooms may know of a customer: level, handler, department.

Access requests, grants and their reviews weigh these and nothing else; the full row, with its
ciphertext and wrapped key, stays behind the door (customers.access). They are read here without
the row tag (issue 17.5), which these rooms hold no key for: they route and label workflows, and
whatever a workflow ends in (a grant, a lowering) is checked against the tag by the door before
any data is read, or by customers.level_changes before a level moves.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from baomi.customers.models import customers
from baomi.db_direct import DirectStatement
from baomi.ids import is_id
from baomi.security.policy import CustomerFacts

_FACTS = DirectStatement(
    select(
        customers.c.id, customers.c.level, customers.c.handler_id, customers.c.department_id
    ).where(customers.c.id == bindparam("customer_id"), customers.c.deleted_at.is_(None))
)


def facts_of(row: Mapping[str, Any]) -> CustomerFacts:
    """The facts of a customers row already loaded."""
    return CustomerFacts(
        id=row["id"],
        level=row["level"],
        handler_id=row["handler_id"],
        department_id=row["department_id"],
    )


def customer_facts(conn: Connection, customer_id: str) -> CustomerFacts | None:
    """Return the facts of a live customer, or None (malformed ids included)."""
    if not is_id(customer_id):
        return None
    row = _FACTS.first(conn, {"customer_id": customer_id})
    return facts_of(row) if row is not None else None
