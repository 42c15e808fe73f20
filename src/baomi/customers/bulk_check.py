"""查重 for a batch of records being filed together (C4.1.3), in a few statements.

Filing one customer looks each of its identifiers up in turn (customers/duplicates.py). A batch
of an import looks all of theirs up at once: one statement per blind index, its probes bound
together; each candidate is opened once for the batch and its identifiers compared, never
returned. The answer per record is what filing it alone would have met: the oldest live customer
holding its ID number, else one of its phones, else one of its e-mails, named by its handler and
department only.

The customers of the same import (`run_id`) are passed over: the import has de-duplicated its
file already, so none of them can hold one of these values, and opening them would make an
import slower with every row it files (each truncated index value is shared by dozens of
customers once there are a million).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.engine import Connection

from baomi.customers import row_tag
from baomi.customers.access import CUSTOMER_ROW, DEPARTMENT, HANDLER, WRAPPED_KEY
from baomi.customers.decrypt import DamagedRecord, cipher_for, open_fields
from baomi.customers.duplicates import Duplicate
from baomi.customers.intake import Prepared
from baomi.customers.models import customer_index, customers
from baomi.customers.schemas import CheckOut
from baomi.customers.vault import Vault, index_terms
from baomi.db_direct import Record

# Probes bound in one statement: well under SQLite's and PostgreSQL's parameter limits.
CHUNK = 500
_OPENED = ("id_number", "phones", "emails", "contacts")
_FIELD_OF_INDEX = {"id_number": "id_number", "phone": "phones", "email": "emails"}
_BY_PROBES = (
    CUSTOMER_ROW.with_only_columns(
        *(customers.c[name] for name in row_tag.TAGGED),
        customers.c.row_tag,
        *(customers.c[f"{name}_ct"] for name in _OPENED),
        WRAPPED_KEY.c.master_version,
        WRAPPED_KEY.c.wrapped,
        HANDLER.c.username.label("handler_username"),
        DEPARTMENT.c.name.label("department_name"),
        customer_index.c.value.label("probe"),
    )
    .join(customer_index, customer_index.c.customer_id == customers.c.id)
    .where(
        customer_index.c.field == bindparam("field"),
        customer_index.c.value.in_(bindparam("probes", expanding=True)),
        customers.c.deleted_at.is_(None),
        customers.c.import_id.is_distinct_from(bindparam("run_id")),
    )
    .order_by(customers.c.created_at, customers.c.id)
)


@dataclass(slots=True)
class Checked:
    """What 查重 found for each record of a batch, in the order given."""

    duplicates: list[Duplicate | None]
    # Records with no match among readable candidates but a damaged one (issue 17): undecided.
    undecided: list[bool]
    damaged: list[DamagedRecord] = field(default_factory=list)


def check_batch(
    conn: Connection, *, vault: Vault, items: Sequence[Prepared], run_id: str
) -> Checked:
    """Look every record's own identifiers up company-wide, the run's own customers aside
    (`run_id` "" passes over none: no customer's import id is empty)."""
    probes = [
        [(kind, term, vault.indexer.index(kind, term)) for kind, term in item.probes]
        for item in items
    ]
    candidates = _candidates(conn, probes, run_id)
    opened: dict[str, frozenset[tuple[str, str]] | DamagedRecord] = {}
    checked = Checked(duplicates=[], undecided=[])
    for item, looked_up in zip(items, probes, strict=True):
        match: Duplicate | None = None
        unreadable = False
        for kind, term, probe in looked_up:
            for row in candidates.get((kind, probe), ()):
                terms = opened.get(row.id)
                if terms is None:
                    terms = opened[row.id] = _open(vault, row)
                    if isinstance(terms, DamagedRecord):
                        checked.damaged.append(terms)
                if isinstance(terms, DamagedRecord):
                    unreadable = True
                elif (kind, term) in terms:
                    match = Duplicate(field=path_of(item, kind, term), kind=kind, found=_found(row))
                    break
            if match is not None:
                break
        checked.duplicates.append(match)
        checked.undecided.append(match is None and unreadable)
    return checked


def _candidates(
    conn: Connection, probes: Iterable[list[tuple[str, str, int]]], run_id: str
) -> dict[tuple[str, int], list[Record]]:
    """Candidate rows per (index, probe value), oldest first, in one statement per index."""
    wanted: dict[str, set[int]] = {}
    for looked_up in probes:
        for kind, _, probe in looked_up:
            wanted.setdefault(kind, set()).add(probe)
    found: dict[tuple[str, int], list[Record]] = {}
    for kind, values in wanted.items():
        ordered = sorted(values)
        for start in range(0, len(ordered), CHUNK):
            params = {"field": kind, "probes": ordered[start : start + CHUNK], "run_id": run_id}
            for row in conn.execute(_BY_PROBES, params):
                record = Record(row._mapping)
                found.setdefault((kind, record["probe"]), []).append(record)
    return found


def _open(vault: Vault, row: Record) -> frozenset[tuple[str, str]] | DamagedRecord:
    """The candidate's identifiers as (index, term), believed under its row tag (issue 17.5)."""
    try:
        row_tag.check(vault.tags, row)
        values = open_fields(cipher_for(vault.provider, row), row, row.id, _OPENED)
    except DamagedRecord as damage:
        return damage
    return frozenset(index_terms(values))


def path_of(item: Prepared, kind: str, term: str) -> str:
    """The input that matched, as filing alone names it: "id_number", "phones[1]"."""
    name = _FIELD_OF_INDEX[kind]
    value = item.values.get(name)
    if not isinstance(value, list):
        return name
    for i, given in enumerate(value):
        if (kind, term) in index_terms({name: [given]}):
            return f"{name}[{i}]"
    return name


def _found(row: Any) -> CheckOut:
    return CheckOut(
        exists=True,
        handler={"username": row.handler_username, "department": row.department_name},
        customer_id=row.id,
    )
