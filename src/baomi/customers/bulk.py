"""Bulk filing: many customers through the same door as one, for an import (C4.1.3).

`service.create` files one customer per call: a decision, a data key, a duplicate check, an
insert per table and an audit event, each its own statement. An import of a ledger files
thousands; `create_many` does the same work per customer and shares what can be shared:
- one policy decision per batch: the customers of a batch have one handler and one level, so
  the decision `create` takes for each (security.policy) is the same for all of them;
- one data-key insert, one customer insert, one index insert, one consent insert, one audit
  insert per batch (executemany), in the caller's transaction: the import commits per batch;
- 查重 for the batch in one statement per index (customers/bulk_check.py).
The rows are those `create` writes: each customer its own data key, every field and the source
sealed at revision 1, its row tag, its blind-index entries, its filing basis as its first consent
record (C4.1.1), and its own `customer:create` event. A customer filed here reads back through
`service.get` exactly as one filed alone (tests/customers/test_bulk_filing.py).

Values come checked by customers/intake.py (`prepare`), the validators of `create`; a customer
already on file (查重) is not filed, and the answer names its handler, as `create`'s refusal does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from baomi import clock
from baomi.audit.context import RequestContext
from baomi.audit.service import actor_event, append_all
from baomi.audit.tags import Action
from baomi.consent.records import file_new_bases
from baomi.crypto.envelope import FieldCipher
from baomi.customers import flags, row_tag
from baomi.customers.access import DEPARTMENT, HANDLER, denial
from baomi.customers.bulk_check import check_batch, path_of
from baomi.customers.decrypt import SOURCE
from baomi.customers.duplicates import Duplicate, DuplicateCustomer
from baomi.customers.fields import SENSITIVITY
from baomi.customers.intake import Prepared, checked
from baomi.customers.integrity import alert, damage_event
from baomi.customers.models import customer_index, customers
from baomi.customers.refusals import refused
from baomi.customers.revisions import FIRST_REVISION, sealed_at
from baomi.customers.schemas import CheckOut, LawfulBasis, SourceText
from baomi.customers.vault import Vault, index_rows
from baomi.db_direct import DirectStatement
from baomi.errors import FieldError, Forbidden, ValidationFailed
from baomi.ids import new_id
from baomi.keystore.service import create_data_keys
from baomi.security.actor import Actor
from baomi.security.policy import CustomerAction, CustomerFacts, Decision, decide
from baomi.users.service import handler_placement

_SOURCE = TypeAdapter(SourceText)
_COLUMNS = tuple(column.name for column in customers.columns)
_INSERT_CUSTOMERS = DirectStatement(insert(customers), insert_keys=_COLUMNS)
_INSERT_INDEX = DirectStatement(
    insert(customer_index), insert_keys=("customer_id", "field", "value")
)


@dataclass(frozen=True, slots=True)
class Filing:
    """What every customer of one bulk filing shares: asked once per import (C4.1.1)."""

    source: str
    lawful_basis: LawfulBasis
    # The import these customers are filed in (customers.import_id).
    run_id: str
    level: str = "normal"
    handler_id: str | None = None


@dataclass(frozen=True, slots=True)
class Placed:
    """A filing authorized: its handler, department, level and the decision (one per batch)."""

    source: str
    handler_id: str
    department_id: str
    level: str
    decision: Decision


@dataclass(frozen=True, slots=True)
class Filed:
    """What became of one record: filed (its id), on file already (what 查重 says), or
    undecided (a candidate failed its integrity check, issue 17: the officer is told)."""

    customer_id: str | None = None
    duplicate: Duplicate | None = None
    undecided: bool = False


def authorize_filing(
    conn: Connection, *, actor: Actor, ctx: RequestContext, vault: Vault, filing: Filing
) -> Placed:
    """Decide, as `create` does, whether `actor` may file customers so; refusals are audited."""
    errors: list[FieldError] = []
    try:
        source = _SOURCE.validate_python(filing.source)
    except ValidationError:
        source = ""
        errors.append(
            {"field": "source", "code": "blank", "message": "say where the data came from"}
        )
    try:
        level = vault.levels.parse(filing.level)
    except ValidationFailed as error:
        errors.extend(error.extra["errors"])
    if errors:
        raise ValidationFailed(errors)
    handler_id, department_id = handler_placement(conn, filing.handler_id or actor.user_id)
    decision = decide(
        actor=actor,
        action=CustomerAction.CREATE,
        customer=CustomerFacts(
            id="", level=level.code, handler_id=handler_id, department_id=department_id
        ),
        rule=level,
        fields=SENSITIVITY,
        now=clock.utcnow(),
    )
    if not decision.allowed:
        raise refused(
            Forbidden(
                "you may only file customers you handle or your department handles",
                code=decision.reason.value,
            ),
            ctx=ctx,
            actor=actor,
            action=Action.CUSTOMER_CREATE,
        )
    return Placed(source, handler_id, department_id, level.code, decision)


def find_on_file(
    conn: Connection,
    *,
    actor: Actor,
    ctx: RequestContext,
    vault: Vault,
    items: Sequence[Prepared],
    run_id: str = "",
) -> list[Filed]:
    """查重 for records not filed yet (an import's dry run): what `create_many` would meet."""
    found = check_batch(conn, vault=vault, items=items, run_id=run_id)
    _report_damage(conn, actor=actor, ctx=ctx, vault=vault, damaged=found.damaged)
    return [
        Filed(duplicate=duplicate, undecided=undecided)
        for duplicate, undecided in zip(found.duplicates, found.undecided, strict=True)
    ]


def create_many(
    conn: Connection,
    *,
    actor: Actor,
    ctx: RequestContext,
    vault: Vault,
    filing: Filing,
    items: Sequence[Prepared],
) -> list[Filed]:
    """File each record not on file yet; one `Filed` per record, in order."""
    if not all(checked(item) and item.identity for item in items):
        raise ValueError("bulk filing takes records from intake.prepare that name a customer")
    placed = authorize_filing(conn, actor=actor, ctx=ctx, vault=vault, filing=filing)
    outcomes = find_on_file(
        conn, actor=actor, ctx=ctx, vault=vault, items=items, run_id=filing.run_id
    )
    # Two records of this batch holding one identifier: the second meets the first as 查重
    # would once the first is on file (an import has removed such pairs from its file already).
    batch_terms: dict[tuple[str, str], str] = {}
    to_file: list[tuple[int, str, Prepared]] = []
    for i, item in enumerate(items):
        if outcomes[i].duplicate is not None or outcomes[i].undecided:
            continue
        met = next((t for t in item.probes if t in batch_terms), None)
        if met is not None:
            outcomes[i] = Filed(duplicate=_same_batch(conn, item, met, batch_terms[met], placed))
            continue
        customer_id = new_id()
        batch_terms.update(dict.fromkeys(item.indexed, customer_id))
        to_file.append((i, customer_id, item))
    events = [
        _refusal_event(ctx=ctx, actor=actor, run_id=filing.run_id, duplicate=outcome.duplicate)
        for outcome in outcomes
        if outcome.duplicate is not None
    ]
    if to_file:
        events.extend(
            _insert(
                conn,
                actor=actor,
                ctx=ctx,
                vault=vault,
                placed=placed,
                filing=filing,
                to_file=to_file,
            )
        )
        for i, customer_id, _ in to_file:
            outcomes[i] = Filed(customer_id=customer_id)
    append_all(conn, events)
    return outcomes


def _insert(
    conn: Connection,
    *,
    actor: Actor,
    ctx: RequestContext,
    vault: Vault,
    placed: Placed,
    filing: Filing,
    to_file: list[tuple[int, str, Prepared]],
) -> list[dict[str, Any]]:
    """Write the batch's rows, as `create` writes one customer's; return their create events."""
    keys = create_data_keys(
        conn, vault.provider, owner_ids=[customer_id for _, customer_id, _ in to_file]
    )
    now = clock.utcnow()
    rows: list[dict[str, Any]] = []
    index: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for (_, customer_id, item), (data_key_id, key) in zip(to_file, keys, strict=True):
        values = item.values
        record: dict[str, Any] = {
            "id": customer_id,
            "level": placed.level,
            "handler_id": placed.handler_id,
            "department_id": placed.department_id,
            "confidential_until": None,
            "deleted_at": None,
            "data_key_id": data_key_id,
            "revision": FIRST_REVISION,
        }
        sealed = sealed_at(
            FieldCipher(key, data_key_id),
            customer_id,
            {**values, SOURCE: placed.source},
            FIRST_REVISION,
        )
        row = dict.fromkeys(_COLUMNS)
        row.update(
            record,
            **sealed,
            row_tag=row_tag.tag_of(vault.tags, record),
            id_type=item.id_type or "",
            source="",
            lawful_basis=filing.lawful_basis.value,
            import_id=filing.run_id,
            created_by=actor.user_id,
            created_at=now,
            updated_at=now,
        )
        rows.append(row)
        index.extend(index_rows(vault.indexer, customer_id, values))
        events.append(
            actor_event(
                ctx=ctx,
                actor=actor,
                action=Action.CUSTOMER_CREATE,
                reason=placed.decision.reason.value,
                customer_id=customer_id,
                fields=sorted(values),
                details={
                    "level": placed.level,
                    "confidential_until": None,
                    **flags.audit_details(values),
                    "import_id": filing.run_id,
                },
            )
        )
    _INSERT_CUSTOMERS.execute_many(conn, rows)
    _INSERT_INDEX.execute_many(conn, index)
    file_new_bases(
        conn,
        customer_ids=[row["id"] for row in rows],
        basis=filing.lawful_basis.value,
        taken_by=actor.user_id,
        now=now,
    )
    return events


def _same_batch(
    conn: Connection, item: Prepared, term: tuple[str, str], customer_id: str, placed: Placed
) -> Duplicate:
    """The answer for a record meeting one filed earlier in this batch, whose handler is this
    filing's (an import has taken such pairs out of its file before: this is a safety net)."""
    username = conn.execute(
        select(HANDLER.c.username).where(HANDLER.c.id == placed.handler_id)
    ).scalar_one()
    department = conn.execute(
        select(DEPARTMENT.c.name).where(DEPARTMENT.c.id == placed.department_id)
    ).scalar_one()
    return Duplicate(
        field=path_of(item, *term),
        kind=term[0],
        found=CheckOut(
            exists=True,
            handler={"username": username, "department": department},
            customer_id=customer_id,
        ),
    )


def _refusal_event(
    *, ctx: RequestContext, actor: Actor, run_id: str, duplicate: Duplicate
) -> dict[str, Any]:
    """The deny event `create` writes for a customer on file, naming the one it met."""
    other = duplicate.found.customer_id
    return denial(
        ctx=ctx,
        actor=actor,
        action=Action.CUSTOMER_CREATE,
        reason=DuplicateCustomer.code,
        customer_id=other,
        fields=[duplicate.field.split("[", 1)[0]],
        details={"kind": duplicate.kind, "duplicate_of": other, "import_id": run_id},
    )


def _report_damage(
    conn: Connection, *, actor: Actor, ctx: RequestContext, vault: Vault, damaged: Sequence[Any]
) -> None:
    """Issue 17 / C5: a candidate that failed its integrity check is audited, the officer told."""
    if not damaged:
        return
    append_all(
        conn,
        [
            damage_event(ctx=ctx, actor=actor, damage=d, during=Action.CUSTOMER_CREATE)
            for d in damaged
        ],
    )
    for damage in damaged:
        alert(conn, vault=vault, damage=damage, during=Action.CUSTOMER_CREATE)
