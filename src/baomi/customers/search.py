"""Finding customers: paged search inside what the actor may see, and company-wide 查重.

Search decrypts only the names, contacts and phones of customers the actor may already see
(C4.2.1); the duplicate check (C4.1.3) looks through the blind indexes company-wide and answers
only whether the customer exists and who handles it. Filing and editing a customer run the same
check on the record's own identifiers (`find_duplicate`), and a match is refused with the same
answer: the handler and department, nothing of the record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.engine import Connection

from baomi import clock
from baomi.audit.context import RequestContext
from baomi.audit.tags import Action
from baomi.crypto import normalize
from baomi.customers.access import (
    CUSTOMER_ROW,
    DEPARTMENT,
    HANDLER,
    WRAPPED_KEY,
    audit,
    decide_on_row,
    denial,
)
from baomi.customers.decrypt import cipher_for, open_fields
from baomi.customers.fields import FIELDS
from baomi.customers.models import customer_index, customers
from baomi.customers.schemas import (
    CheckOut,
    CustomerPage,
    CustomerSummary,
    DepartmentRef,
    PersonRef,
)
from baomi.customers.vault import Vault, index_terms, normalized_for
from baomi.db_direct import DirectStatement, Record
from baomi.errors import Conflict, Forbidden, ValidationFailed
from baomi.grants.queries import granted_customer_ids
from baomi.ids import is_id
from baomi.security.actor import Actor
from baomi.security.levels import Levels
from baomi.security.policy import CustomerAction, visibility_filter
from baomi.security.roles import Permission

MAX_PAGE_SIZE = 200
MAX_PAGE = 100_000
_SEARCHED_FIELDS = ("name", "contacts", "phones")


def _summary(row: Record, levels: Levels, name: str | None, access: str) -> CustomerSummary:
    return CustomerSummary(
        id=row.id,
        name=name,
        level=row.level,
        level_label=levels.rule_of(row.level).label_zh,
        handler=PersonRef(
            id=row.handler_id,
            username=row.handler_username,
            display_name=row.handler_display_name,
        ),
        department=DepartmentRef(id=row.department_id, name=row.department_name),
        updated_at=row.updated_at,
        access=access,
    )


def _matches(values: dict[str, Any], needle: str) -> bool:
    haystack = [values.get("name") or ""]
    for contact in values.get("contacts") or []:
        haystack.append(contact.get("name", ""))
        haystack.extend(contact.get("phones", []))
    haystack.extend(values.get("phones") or [])
    return any(needle in normalize.name(item) for item in haystack)


def list_customers(
    conn: Connection,
    *,
    actor: Actor,
    ctx: RequestContext,
    vault: Vault,
    query: str | None = None,
    level: str | None = None,
    handler_id: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> CustomerPage:
    """List customers the actor may see, newest first, optionally searched by substring."""
    if not 1 <= page <= MAX_PAGE or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValidationFailed(
            [
                {
                    "field": "page",
                    "code": "page_out_of_range",
                    "message": f"1 ≤ page ≤ {MAX_PAGE}, 1 ≤ page_size ≤ {MAX_PAGE_SIZE}",
                }
            ]
        )
    if handler_id is not None and not is_id(handler_id):
        raise ValidationFailed(
            [{"field": "handler_id", "code": "user_id_malformed", "message": "not a user id"}]
        )
    level = vault.levels.parse(level).code if level else None
    if not actor.can(Permission.CUSTOMER_WORK):
        raise Forbidden(
            "your role gives no access to customer data", code="role_without_customer_access"
        ).with_audit(
            denial(
                ctx=ctx,
                actor=actor,
                action=Action.CUSTOMER_LIST,
                reason="role_without_customer_access",
            )
        )
    now = clock.utcnow()
    where = [
        customers.c.deleted_at.is_(None),
        visibility_filter(
            actor,
            customer_id=customers.c.id,
            handler_id=customers.c.handler_id,
            department_id=customers.c.department_id,
            granted=granted_customer_ids(actor.user_id, now),
        ),
    ]
    if level:
        where.append(customers.c.level == level)
    if handler_id:
        where.append(customers.c.handler_id == handler_id)
    ordered = CUSTOMER_ROW.where(*where).order_by(customers.c.updated_at.desc(), customers.c.id)
    needle = normalize.name(query) if query and query.strip() else None
    if needle is None:
        total = conn.execute(select(func.count()).select_from(customers).where(*where)).scalar_one()
        rows = [
            Record(r._mapping)
            for r in conn.execute(ordered.limit(page_size).offset((page - 1) * page_size))
        ]
        items = [_visible_summary(conn, actor, vault, row, now, None) for row in rows]
        found = [item for item, _ in items]
    else:
        matched = []
        for row in map(Record, (r._mapping for r in conn.execute(ordered))):
            item, values = _visible_summary(conn, actor, vault, row, now, _SEARCHED_FIELDS)
            if values is not None and _matches(values, needle):
                matched.append(item)
        total = len(matched)
        found = matched[(page - 1) * page_size : page * page_size]
    audit(
        conn,
        ctx=ctx,
        actor=actor,
        action=Action.CUSTOMER_SEARCH if needle else Action.CUSTOMER_LIST,
        reason="visible_set",
        fields=["name"],
        details={"total": total, "page": page, "customer_ids": [i.id for i in found]},
    )
    return CustomerPage(items=found, total=total, page=page, page_size=page_size)


def _visible_summary(
    conn: Connection,
    actor: Actor,
    vault: Vault,
    row: Record,
    now: Any,
    searched: tuple[str, ...] | None,
) -> tuple[CustomerSummary, dict[str, Any] | None]:
    decision = decide_on_row(conn, actor, CustomerAction.READ, row, now, levels=vault.levels)
    wanted = [f for f in (searched or ("name",)) if f in decision.visible]
    cipher = cipher_for(vault.provider, row)
    values = {
        name: FIELDS[name].mask(value) if name in decision.masked and value is not None else value
        for name, value in open_fields(cipher, row._mapping, row.id, wanted).items()
    }
    # Masked fields are searched in their masked form: a search must not become a way to
    # guess a hidden phone number digit by digit (C4.3.2).
    return _summary(row, vault.levels, values.get("name"), decision.reason.value), values


CHECK_KINDS = ("phone", "email", "id_number", "name")
# Company-wide: deliberately not filtered by visibility; only existence and handler leave here.
_CANDIDATES = DirectStatement(
    # Only what a re-check and the answer need: ids, the wrapped key, the indexed ciphertexts.
    CUSTOMER_ROW.with_only_columns(
        customers.c.id,
        customers.c.data_key_id,
        customers.c.name_ct,
        customers.c.phones_ct,
        customers.c.emails_ct,
        customers.c.id_number_ct,
        customers.c.contacts_ct,
        WRAPPED_KEY.c.master_version,
        WRAPPED_KEY.c.wrapped,
        HANDLER.c.username.label("handler_username"),
        DEPARTMENT.c.name.label("department_name"),
    )
    .join(customer_index, customer_index.c.customer_id == customers.c.id)
    .where(
        customer_index.c.field == bindparam("field"),
        customer_index.c.value == bindparam("value"),
        customers.c.deleted_at.is_(None),
    )
    .order_by(customers.c.created_at)
)
_FIELD_OF_INDEX = {"phone": "phones", "email": "emails", "id_number": "id_number", "name": "name"}


def check_duplicate(
    conn: Connection,
    *,
    actor: Actor,
    ctx: RequestContext,
    vault: Vault,
    kind: str,
    value: str,
) -> CheckOut:
    """C4.1.3 查重: does a customer with this exact value exist anywhere, and who handles it?"""
    if not actor.can(Permission.CUSTOMER_CHECK):
        raise Forbidden(
            "your role cannot check for duplicates", code="role_without_customer_access"
        ).with_audit(
            denial(
                ctx=ctx,
                actor=actor,
                action=Action.CUSTOMER_CHECK,
                reason="role_without_customer_access",
            )
        )
    try:
        term = normalized_for(kind, value)
    except ValueError:
        # Only a phone fails to normalise today; each kind has its code all the same.
        raise ValidationFailed(
            [{"field": kind, "code": f"{kind}_invalid", "message": f"not a valid {kind}"}]
        ) from None
    if not term:
        raise ValidationFailed([{"field": kind, "code": "blank", "message": "must not be blank"}])
    match, candidates = _match(conn, vault, kind, term)
    audit(
        conn,
        ctx=ctx,
        actor=actor,
        action=Action.CUSTOMER_CHECK,
        reason="match" if match else "no_match",
        customer_id=match.id if match else None,
        fields=[_FIELD_OF_INDEX[kind]],
        details={"kind": kind, "candidates": candidates},
    )
    if match is None:
        return CheckOut(exists=False, handler=None)
    return _found(match)


def _found(match: Record) -> CheckOut:
    return CheckOut(
        exists=True,
        handler={"username": match.handler_username, "department": match.department_name},
        customer_id=match.id,
    )


def _match(
    conn: Connection, vault: Vault, kind: str, term: str, exclude: str | None = None
) -> tuple[Record | None, int]:
    """The oldest live customer holding this normalised value (not `exclude`), and how many
    index candidates were looked at."""
    probe = vault.indexer.index(kind, term)
    candidates = _CANDIDATES.all(conn, {"field": kind, "value": probe})
    match = next(
        (row for row in candidates if row.id != exclude and _confirms(vault, row, kind, term)),
        None,
    )
    return match, len(candidates)


# The identifiers of a record that make it the same customer, in the order they are looked up:
# the ID number or credit code, then its own phones and e-mails. Names are not among them (two
# people may share one), nor the record's contacts (one person may work for several customers).
_IDENTIFIERS = (("id_number", "id_number"), ("phones", "phone"), ("emails", "email"))


@dataclass(frozen=True, slots=True)
class Duplicate:
    """Another customer found by 查重 on one of a record's identifiers."""

    field: str  # the input that matched, as an error path: "id_number", "phones[1]"
    kind: str  # the index looked in: id_number, phone, email
    found: CheckOut  # what 查重 itself would answer


class DuplicateCustomer(Conflict):
    """C4.1.3: the customer is already on file; the answer is what 查重 would say, no more."""

    code = "duplicate_customer"
    title = "Customer already exists"

    def __init__(self, duplicate: Duplicate) -> None:
        handler = duplicate.found.handler or {}
        super().__init__(
            f"a customer with this {duplicate.kind.replace('_', ' ')} is already on file, handled "
            f"by {handler.get('username')} ({handler.get('department')}): ask for access to it "
            "instead of filing it again (C4.1.3)",
            field=duplicate.field,
            kind=duplicate.kind,
            handler=handler,
        )
        # For the web form's one-click access request (C4.3.1), as on the 查重 page; not in the
        # problem+json, which like GET /customers/check names the handler only.
        self.found = duplicate.found


def find_duplicate(
    conn: Connection, *, vault: Vault, values: dict[str, Any], exclude: str | None = None
) -> Duplicate | None:
    """C4.1.3: the first other live customer that 查重 finds by one of these identifiers.

    `values` are validated and normalised record fields (customers.validation); only those
    given are looked up, so an edit checks just the identifiers it changes.
    """
    for name, kind in _IDENTIFIERS:
        value = values.get(name)
        if not value:
            continue
        items = value if isinstance(value, list) else [value]
        for i, item in enumerate(items):
            match, _ = _match(conn, vault, kind, normalized_for(kind, item), exclude)
            if match is not None:
                path = f"{name}[{i}]" if isinstance(value, list) else name
                return Duplicate(field=path, kind=kind, found=_found(match))
    return None


def refuse_duplicate(
    conn: Connection,
    *,
    actor: Actor,
    ctx: RequestContext,
    vault: Vault,
    values: dict[str, Any],
    customer_id: str | None,
) -> None:
    """Refuse filing a customer (or editing one into another) that 查重 finds (C4.1.3).

    The deny event names the customer whose handler the refusal tells, as 查重's event does.
    """
    duplicate = find_duplicate(conn, vault=vault, values=values, exclude=customer_id)
    if duplicate is None:
        return
    other = duplicate.found.customer_id
    raise DuplicateCustomer(duplicate).with_audit(
        denial(
            ctx=ctx,
            actor=actor,
            action=Action.CUSTOMER_UPDATE if customer_id else Action.CUSTOMER_CREATE,
            reason=DuplicateCustomer.code,
            customer_id=customer_id or other,
            fields=[duplicate.field.split("[", 1)[0]],
            details={"kind": duplicate.kind, "duplicate_of": other},
        )
    )


def _confirms(vault: Vault, row: Record, kind: str, term: str) -> bool:
    """Re-check a truncated-index candidate against the decrypted value (never returned)."""
    cipher = cipher_for(vault.provider, row)
    fields = [_FIELD_OF_INDEX[kind]] + (["contacts"] if kind in ("phone", "email") else [])
    values = open_fields(cipher, row._mapping, row.id, fields)
    return any(index == kind and t == term for index, t in index_terms(values))
