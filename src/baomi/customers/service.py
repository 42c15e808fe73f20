"""The one door to customer records (C4.2.1, C4.3.2): authorize, decrypt, mask, audit.

Every read, reveal, create, update and delete of a customer goes through these functions; routes,
CLI commands and jobs call them and nothing else touches the customer tables. Each function works
inside the caller's transaction and appends its audit event there, never committing; a refusal
carries its own deny event (customers/refusals.py), written even though the work is rolled back.
What an edit may do to the level, period and handler is customers/edit_rules.py. Many customers
read for one purpose (exports, reports, subject-access copies) go through `read_many`, the batch
door of customers/batch.py, and reveals (customers/reveals.py) are offered here too, so that
other rooms keep to this one module. A change of a record is written by customers/revisions.py.
An import files many at once: `prepare`, `create_many` (customers/intake.py, customers/bulk.py).
"""

from __future__ import annotations

from datetime import date
from typing import Any, NoReturn

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from baomi import clock
from baomi.audit.context import RequestContext
from baomi.audit.tags import Action
from baomi.consent.records import file_basis
from baomi.crypto.envelope import FieldCipher
from baomi.customers import flags, row_tag
from baomi.customers.access import audit, authorize
from baomi.customers.batch import BatchResult as BatchResult
from baomi.customers.batch import read_many as read_many
from baomi.customers.bulk import Filed as Filed
from baomi.customers.bulk import Filing as Filing
from baomi.customers.bulk import authorize_filing as authorize_filing
from baomi.customers.bulk import create_many as create_many
from baomi.customers.bulk import find_on_file as find_on_file
from baomi.customers.decrypt import SOURCE, cipher_for, open_fields
from baomi.customers.duplicates import refuse_duplicate
from baomi.customers.edit_rules import handler_after, level_after, period_after
from baomi.customers.facts import facts_of
from baomi.customers.fields import FIELDS, SENSITIVITY
from baomi.customers.intake import Prepared as Prepared
from baomi.customers.intake import Problem as Problem
from baomi.customers.intake import prepare as prepare
from baomi.customers.integrity import guarded
from baomi.customers.known import KnownCounts as KnownCounts
from baomi.customers.known import count_known as count_known
from baomi.customers.models import attachments, customer_index, customers
from baomi.customers.periods import check_period
from baomi.customers.readout import customer_out, layout_of
from baomi.customers.refusals import refused
from baomi.customers.reveals import RevealRateLimited as RevealRateLimited
from baomi.customers.reveals import reveal as reveal
from baomi.customers.revisions import FIRST_REVISION, write_change
from baomi.customers.schemas import CustomerIn, CustomerOut, CustomerPatch
from baomi.customers.validation import validated_fields
from baomi.customers.vault import Vault, index_rows, reindex, seal
from baomi.errors import Conflict, Forbidden, NotFound
from baomi.ids import is_id, new_id
from baomi.keystore.service import create_data_key
from baomi.security.actor import Actor
from baomi.security.policy import CustomerAction, CustomerFacts, decide
from baomi.users.service import handler_placement


def get(
    conn: Connection, *, actor: Actor, ctx: RequestContext, vault: Vault, customer_id: str
) -> CustomerOut:
    """Read one customer: visible fields decrypted, sensitive ones masked (C4.3.2)."""
    now = clock.utcnow()
    auth = authorize(
        conn,
        actor=actor,
        ctx=ctx,
        vault=vault,
        action=CustomerAction.READ,
        tag=Action.CUSTOMER_READ,
        customer_id=customer_id,
        now=now,
    )
    decision, row = auth.decision, auth.row
    layout = layout_of(decision.visible, decision.masked)
    with guarded(
        ctx=ctx, actor=actor, vault=vault, during=Action.CUSTOMER_READ, customer_id=row.id
    ):
        values = open_fields(
            cipher_for(vault.provider, row), row, row.id, [*layout.readable, SOURCE]
        )
    source = values.pop(SOURCE)
    masked = decision.masked
    # Issue 12: identifiers sitting unprotected in free text, shown on every read until moved.
    found = flags.in_fields(values, skip=masked)
    data = {
        name: (FIELDS[name].mask(value) if name in masked and value is not None else value)
        for name, value in values.items()
    }
    audit(
        conn,
        ctx=ctx,
        actor=actor,
        action=Action.CUSTOMER_READ,
        reason=decision.reason.value,
        customer_id=row.id,
        fields=layout.readable,
    )
    return customer_out(row, vault.levels, decision.reason.value, data, layout, source, found)


def create(
    conn: Connection, *, actor: Actor, ctx: RequestContext, vault: Vault, customer_in: CustomerIn
) -> CustomerOut:
    """File a new customer with its handler, level, source and lawful basis (C1.3, C4.1.1).

    A customer already on file anywhere in the company (查重 on its ID number or credit code,
    phones, e-mails: C4.1.3) is refused with 409 `duplicate_customer`. So is a confidentiality
    period (409 `period_requires_approval`): its end would lower the level being set, and
    lowering is an approved action (C2.2).
    """
    level = vault.levels.parse(customer_in.level)
    values, id_type = validated_fields(customer_in)
    until = check_period(customer_in.confidential_until, rule=level, now=clock.utcnow())
    handler_id, department_id = handler_placement(conn, customer_in.handler_id or actor.user_id)
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
    if until is not None:
        # The level-change machinery lowers a level now, on approval; it has no approved lowering
        # at a future date. So a period is not filed with the record: the level stands until an
        # approved request lowers it (or a later raise carries a period back to where it was).
        raise refused(
            Conflict(
                "a confidentiality period lowers the level being set when it ends, and lowering "
                "needs approval (C2.2): file the customer without `confidential_until`; to lower "
                "its level later, ask with POST /api/v1/customers/{id}/level-change-requests",
                code="period_requires_approval",
            ),
            ctx=ctx,
            actor=actor,
            action=Action.CUSTOMER_CREATE,
            details={"level": level.code, "confidential_until": until.isoformat()},
        )
    refuse_duplicate(conn, actor=actor, ctx=ctx, vault=vault, values=values, customer_id=None)
    customer_id = new_id()
    data_key_id, key = create_data_key(conn, vault.provider, owner_id=customer_id)
    cipher = FieldCipher(key, data_key_id)
    now = clock.utcnow()
    record: dict[str, Any] = {
        "id": customer_id,
        "level": level.code,
        "handler_id": handler_id,
        "department_id": department_id,
        "confidential_until": until,
        "deleted_at": None,
        "data_key_id": data_key_id,
        "revision": FIRST_REVISION,
    }
    sealed = {
        f"{name}_ct": seal(
            cipher, record_id=customer_id, field=name, value=value, revision=FIRST_REVISION
        )
        for name, value in {**values, SOURCE: customer_in.source}.items()
    }
    conn.execute(
        insert(customers).values(
            **record,
            **sealed,
            row_tag=row_tag.tag_of(vault.tags, record),
            id_type=id_type or "",
            lawful_basis=customer_in.lawful_basis.value,
            created_by=actor.user_id,
            created_at=now,
            updated_at=now,
        )
    )
    if rows := index_rows(vault.indexer, customer_id, values):
        conn.execute(insert(customer_index), rows)
    # C4.1.1 / C4.1.2: the basis it is filed on is its first consent record (consent/records.py).
    file_basis(
        conn,
        customer_id=customer_id,
        basis=customer_in.lawful_basis.value,
        taken_by=actor.user_id,
        now=now,
    )
    audit(
        conn,
        ctx=ctx,
        actor=actor,
        action=Action.CUSTOMER_CREATE,
        reason=decision.reason.value,
        customer_id=customer_id,
        fields=sorted(values),
        details={
            "level": level.code,
            "confidential_until": until.isoformat() if until else None,
            **_flagged(values),
        },
    )
    return get(conn, actor=actor, ctx=ctx, vault=vault, customer_id=customer_id)


def update(
    conn: Connection,
    *,
    actor: Actor,
    ctx: RequestContext,
    vault: Vault,
    customer_id: str,
    patch: CustomerPatch,
) -> CustomerOut:
    """Change fields, level, source or handler; indexes follow the new values."""
    now = clock.utcnow()
    auth = authorize(
        conn,
        actor=actor,
        ctx=ctx,
        vault=vault,
        action=CustomerAction.UPDATE,
        tag=Action.CUSTOMER_UPDATE,
        customer_id=customer_id,
        now=now,
    )
    row = auth.row
    values, id_type = validated_fields(patch)
    changes: dict[str, Any] = {"updated_at": now}
    details: dict[str, Any] = {}
    level = level_after(actor=actor, ctx=ctx, levels=vault.levels, row=row, patch=patch)
    if level.code != row.level:
        changes["level"] = level.code
        details["level"] = {"from": row.level, "to": level.code}
    if "confidential_until" in patch.model_fields_set:
        until = period_after(
            actor=actor, ctx=ctx, levels=vault.levels, row=row, patch=patch, level=level, now=now
        )
        if until != row.confidential_until:
            changes["confidential_until"] = until
            details["confidential_until"] = {
                "from": _iso(row.confidential_until),
                "to": _iso(until),
            }
    if patch.handler_id is not None and patch.handler_id != row.handler_id:
        handler_id, department_id = handler_after(
            conn,
            actor=actor,
            ctx=ctx,
            row=row,
            access=auth.decision.reason,
            handler_id=patch.handler_id,
        )
        changes.update(handler_id=handler_id, department_id=department_id)
        details["handler_changed"] = True
    if patch.source is not None:
        values[SOURCE] = patch.source
    if patch.lawful_basis is not None and patch.lawful_basis.value != row.lawful_basis:
        changes["lawful_basis"] = patch.lawful_basis.value
        file_basis(
            conn,
            customer_id=row.id,
            basis=patch.lawful_basis.value,
            taken_by=actor.user_id,
            now=now,
        )
    if id_type is not None:
        changes["id_type"] = id_type
    refuse_duplicate(conn, actor=actor, ctx=ctx, vault=vault, values=values, customer_id=row.id)
    with guarded(
        ctx=ctx, actor=actor, vault=vault, during=Action.CUSTOMER_UPDATE, customer_id=row.id
    ):
        cipher = cipher_for(vault.provider, row)
        write_change(conn, vault=vault, row=row, columns=changes, fields=values, cipher=cipher)
        if any(FIELDS[name].index for name in values if name in FIELDS) or "contacts" in values:
            reindex(conn, vault, cipher, row.id)
    audit(
        conn,
        ctx=ctx,
        actor=actor,
        action=Action.CUSTOMER_UPDATE,
        reason=auth.decision.reason.value,
        customer_id=row.id,
        fields=sorted(name for name in values if name in FIELDS),
        details={**details, **_flagged(values)} or None,
    )
    if "level" in changes:
        # C2.2: every level change, raised here or lowered on approval, under one tag.
        audit(
            conn,
            ctx=ctx,
            actor=actor,
            action=Action.CUSTOMER_LEVEL_CHANGE,
            reason=auth.decision.reason.value,
            customer_id=row.id,
            details={"from": row.level, "to": level.code},
        )
    return get(conn, actor=actor, ctx=ctx, vault=vault, customer_id=row.id)


def _flagged(values: dict[str, Any]) -> dict[str, Any]:
    """The audit detail of identifiers saved into free-text fields: field, kind, count."""
    return flags.audit_details(values)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def remove(
    conn: Connection, *, actor: Actor, ctx: RequestContext, vault: Vault, customer_id: str
) -> NoReturn:
    """Refuse to delete a customer alone (C4.5.1 forbids 私自销毁): 409, and the refusal is audited.

    Destruction is a procedure with approval and crypto-shredding (its own workflow, to come);
    until it exists nobody deletes a record, and one that only needs correcting is edited.
    Someone who may not delete it at all is answered as before (404, or 403 for a grant).
    """
    authorize(
        conn,
        actor=actor,
        ctx=ctx,
        vault=vault,
        action=CustomerAction.DELETE,
        tag=Action.CUSTOMER_DELETE,
        customer_id=customer_id,
        now=clock.utcnow(),
    )
    raise refused(
        Conflict(
            "a customer is destroyed only through the destruction procedure, with approval "
            "(C4.5.1); nobody deletes one alone. Correct a record with PATCH instead",
            code="destruction_requires_approval",
        ),
        ctx=ctx,
        actor=actor,
        action=Action.CUSTOMER_DELETE,
        customer_id=customer_id,
    )


def exists(conn: Connection, customer_id: str) -> bool:
    """Whether a live customer has this id (for other services' validation only)."""
    found = conn.execute(
        select(customers.c.id).where(
            customers.c.id == customer_id, customers.c.deleted_at.is_(None)
        )
    ).first()
    if found is None:
        raise NotFound("no such customer")
    return True


def authorize_work(
    conn: Connection,
    *,
    actor: Actor,
    ctx: RequestContext,
    vault: Vault,
    customer_id: str,
    action: CustomerAction,
    tag: Action,
) -> CustomerFacts:
    """Authorize another room's work on a customer (its consent records, say) as the door
    would `action`, opening none of its data; a refusal is audited under `tag`."""
    auth = authorize(
        conn,
        actor=actor,
        ctx=ctx,
        vault=vault,
        action=action,
        tag=tag,
        customer_id=customer_id,
        now=clock.utcnow(),
    )
    return facts_of(auth.row)


def has_attachment(conn: Connection, customer_id: str, attachment_id: str) -> bool:
    """Whether `attachment_id` is an attachment of this customer (for evidence references)."""
    if not is_id(attachment_id):
        return False
    found = conn.execute(
        select(attachments.c.id).where(
            attachments.c.id == attachment_id, attachments.c.customer_id == customer_id
        )
    ).first()
    return found is not None
