"""Finding customers: paged search inside what the actor may see; 查重 is customers.duplicates.

Search decrypts only the names, contacts and phones of customers the actor may already see
(C4.2.1). A record that fails its integrity check does not take the list down with it: its line
is marked `damaged`, without values, and the failure is audited and reported (issue 17, C5).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from baomi import clock
from baomi.audit.context import RequestContext
from baomi.audit.tags import Action
from baomi.crypto import normalize
from baomi.customers.access import CUSTOMER_ROW, audit, decide_on_row, denial
from baomi.customers.decrypt import DamagedRecord, cipher_for, open_fields
from baomi.customers.duplicates import DuplicateCustomer as DuplicateCustomer
from baomi.customers.duplicates import check_duplicate as check_duplicate
from baomi.customers.fields import FIELDS
from baomi.customers.integrity import report
from baomi.customers.models import customers
from baomi.customers.schemas import CustomerPage, CustomerSummary, DepartmentRef, PersonRef
from baomi.customers.vault import Vault
from baomi.db_direct import Record
from baomi.errors import Forbidden, ValidationFailed
from baomi.grants.queries import granted_customer_ids
from baomi.ids import is_id
from baomi.keystore.service import key_is_live
from baomi.security.actor import Actor
from baomi.security.levels import Levels
from baomi.security.policy import CustomerAction, visibility_filter
from baomi.security.roles import Permission

MAX_PAGE_SIZE = 200
MAX_PAGE = 100_000
_SEARCHED_FIELDS = ("name", "contacts", "phones")


def _summary(
    row: Record, levels: Levels, name: str | None, access: str, *, damaged: bool = False
) -> CustomerSummary:
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
        damaged=damaged,
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
        # A crypto-shredded customer is not listed at all, rather than failing the list.
        key_is_live(customers.c.data_key_id),
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
    reading = _Reading(conn, actor, ctx, vault, now, Action.CUSTOMER_SEARCH if needle else None)
    if needle is None:
        total = conn.execute(select(func.count()).select_from(customers).where(*where)).scalar_one()
        rows = [
            Record(r._mapping)
            for r in conn.execute(ordered.limit(page_size).offset((page - 1) * page_size))
        ]
        found = [reading.summary(row, None)[0] for row in rows]
    else:
        matched = []
        for row in map(Record, (r._mapping for r in conn.execute(ordered))):
            item, values = reading.summary(row, _SEARCHED_FIELDS)
            # A damaged record cannot be searched: it is shown, marked, rather than left out as
            # if it did not match (issue 17).
            if values is None or _matches(values, needle):
                matched.append(item)
        total = len(matched)
        found = matched[(page - 1) * page_size : page * page_size]
    details: dict[str, Any] = {"total": total, "page": page, "customer_ids": [i.id for i in found]}
    if damaged := [i.id for i in found if i.damaged]:
        details["damaged"] = damaged
    audit(
        conn,
        ctx=ctx,
        actor=actor,
        action=reading.during,
        reason="visible_set",
        fields=["name"],
        details=details,
    )
    return CustomerPage(items=found, total=total, page=page, page_size=page_size)


@dataclass(frozen=True, slots=True)
class _Reading:
    """One list or search: who reads, and what its damaged records are reported under."""

    conn: Connection
    actor: Actor
    ctx: RequestContext
    vault: Vault
    now: datetime
    searching: Action | None

    @property
    def during(self) -> Action:
        return self.searching or Action.CUSTOMER_LIST

    def summary(
        self, row: Record, searched: tuple[str, ...] | None
    ) -> tuple[CustomerSummary, dict[str, Any] | None]:
        """The row's line and its searched values; a damaged record's line is marked, without
        values (None), and reported (C5), so that the rest of the list is still shown."""
        vault = self.vault
        access = "integrity_failure"  # what a line says when even its columns fail (17.5)
        try:
            decision = decide_on_row(
                self.conn, self.actor, CustomerAction.READ, row, self.now, vault=vault
            )
            access = decision.reason.value
            wanted = [f for f in (searched or ("name",)) if f in decision.visible]
            opened = open_fields(cipher_for(vault.provider, row), row._mapping, row.id, wanted)
        except DamagedRecord as damage:
            report(
                self.conn,
                ctx=self.ctx,
                actor=self.actor,
                vault=vault,
                damage=damage,
                during=self.during,
            )
            return _summary(row, vault.levels, None, access, damaged=True), None
        values = {
            name: FIELDS[name].mask(value)
            if name in decision.masked and value is not None
            else value
            for name, value in opened.items()
        }
        # Masked fields are searched in their masked form: a search must not become a way to
        # guess a hidden phone number digit by digit (C4.3.2).
        return _summary(row, vault.levels, values.get("name"), decision.reason.value), values
