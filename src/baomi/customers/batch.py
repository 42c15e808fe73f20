"""The batch door: many customers read for one purpose, in one pass (C4.2.1, C4.3.2, C4.3.4).

Exports, reports and subject-access copies call `read_many` (through customers.service) and
never decrypt themselves. Each customer is decided exactly as the single door decides it
(customers.access.decide_on_row: handler, head of the subtree, or an active grant and the fields
it covers); the purpose then takes away what it does not need (security/purposes.py). Only the
fields left are decrypted, masked ones are masked as `service.get` masks them, and every customer
asked for gets one audit event, allowed or refused, naming the purpose, the batch and the field
names, never a value. The events are inserted together at the end, in the caller's transaction.

Rows are loaded a chunk at a time, one statement per chunk on the driver (db_direct); a second
statement per chunk, only when some rows are neither the reader's nor their subtree's, says which
of those an active grant of the reader covers: grants are looked up only for these
(customers.access), so a stranger probing ids costs no query per id.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from baomi import clock
from baomi.audit.context import RequestContext
from baomi.audit.service import actor_event, append_all
from baomi.audit.tags import Action
from baomi.customers.access import CUSTOMER_ROW, decide_on_row
from baomi.customers.decrypt import SOURCE, DamagedRecord, cipher_for, open_fields
from baomi.customers.facts import facts_of
from baomi.customers.fields import FIELDS
from baomi.customers.integrity import alert, damage_event
from baomi.customers.models import customers
from baomi.customers.readout import Layout, customer_out, layout_of
from baomi.customers.schemas import CustomerOut
from baomi.customers.vault import Vault
from baomi.db_direct import DirectStatement, Record
from baomi.errors import FieldError, ValidationFailed
from baomi.grants.queries import granted_customer_ids
from baomi.ids import is_id, new_id
from baomi.keystore.errors import DataKeyShredded
from baomi.security.actor import Actor
from baomi.security.policy import CustomerAction, Decision, standing
from baomi.security.purposes import Purpose, carried_fields, refusal_at
from baomi.security.roles import Permission

# A batch is one person's one task; anything larger is a bulk job that needs its own approval
# (C4.3.3) and would hold the write lock of SQLite too long in one transaction.
MAX_BATCH = 5000
# Ids bound in one statement: well under SQLite's and PostgreSQL's parameter limits.
CHUNK = 500

_CARRIED = {
    purpose: carried_fields(purpose, {name: spec.sensitivity for name, spec in FIELDS.items()})
    for purpose in Purpose
}


class RefusalReason(StrEnum):
    """What the caller is told of a customer it does not get (the audit event says more)."""

    # A customer that does not exist and one the reader may not see answer alike, as the
    # single door's 404 does: probing ids in bulk tells nothing (C4.2.1).
    NOT_FOUND = "not_found"
    # C4.3.3: the customer's level rule forbids export (the reader may see it, so no leak).
    EXPORT_NOT_ALLOWED = "export_not_allowed"
    # C4.5.1: the record was crypto-shredded; nothing of it can be read.
    DATA_KEY_SHREDDED = "data_key_shredded"
    # C5: the record's stored data failed its integrity check (the security officer is told).
    INTEGRITY_FAILURE = "integrity_failure"


@dataclass(frozen=True, slots=True)
class Refusal:
    customer_id: str
    reason: RefusalReason


@dataclass(frozen=True, slots=True)
class BatchResult:
    """The readable records in the order asked (each as `service.get` shapes it, its fields
    limited to those asked for) and the refused ids with what the caller may know of why."""

    batch_id: str
    purpose: Purpose
    records: list[CustomerOut]
    refused: list[Refusal]


def read_many(
    conn: Connection,
    *,
    actor: Actor,
    ctx: RequestContext,
    vault: Vault,
    customer_ids: Sequence[str],
    purpose: Purpose | str,
    fields: Collection[str] | None = None,
) -> BatchResult:
    """Read many customers for one purpose: authorize each, decrypt what is allowed, audit each.

    `fields` defaults to every field the purpose carries; asking for one it does not carry, or
    for more than MAX_BATCH ids, is refused before anything is read (422). Repeated ids are read
    once. A record's `withheld` lists every field it does not carry, asked for or not.
    """
    if isinstance(customer_ids, str):
        raise TypeError("customer_ids is a sequence of ids, not one id")
    chosen, wanted = _checked(purpose, fields, len(customer_ids))
    now = clock.utcnow()
    batch_id = new_id()
    run = _Run(
        actor=actor,
        ctx=ctx,
        vault=vault,
        wanted=wanted,
        now=now,
        purpose=chosen,
        details={"purpose": chosen.value, "batch_id": batch_id},
    )
    for chunk in _chunks(list(dict.fromkeys(customer_ids))):
        loaded = _load(conn, chunk)
        covered = _covered(conn, actor, loaded.values(), now)
        for customer_id in chunk:
            run.read(conn, customer_id, loaded.get(customer_id), covered)
    append_all(conn, run.events)
    return BatchResult(batch_id=batch_id, purpose=chosen, records=run.records, refused=run.refused)


def _checked(
    purpose: Purpose | str, fields: Collection[str] | None, count: int
) -> tuple[Purpose, frozenset[str]]:
    errors: list[FieldError] = []
    try:
        chosen: Purpose | None = Purpose(purpose)
    except ValueError:
        chosen = None
        allowed = ", ".join(Purpose)
        errors.append(
            {"field": "purpose", "code": "purpose_unknown", "message": f"one of: {allowed}"}
        )
    if count > MAX_BATCH:
        errors.append(
            {
                "field": "customer_ids",
                "code": "batch_too_large",
                "message": f"at most {MAX_BATCH} customers in one batch, not {count}",
            }
        )
    for name in sorted(set(fields or ())):
        if name not in FIELDS:
            errors.append(
                {"field": "fields", "code": "field_unknown", "message": f"unknown field {name!r}"}
            )
        elif chosen is not None and name not in _CARRIED[chosen]:
            # C4.1.2 purpose limitation: refused outright, not quietly dropped, so the caller
            # learns its purpose was the wrong one rather than shipping a short copy.
            errors.append(
                {
                    "field": "fields",
                    "code": "field_outside_purpose",
                    "message": f"a {chosen.value} does not carry {name!r}",
                }
            )
    if errors or chosen is None:
        raise ValidationFailed(errors)
    return chosen, _CARRIED[chosen] if fields is None else frozenset(fields)


def _chunks(ids: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


@lru_cache(maxsize=16)
def _by_ids(size: int) -> DirectStatement:
    """The rows of up to `size` live customers by id, as the single door loads one."""
    return DirectStatement(
        CUSTOMER_ROW.where(
            customers.c.id.in_([bindparam(f"id_{i}") for i in range(size)]),
            customers.c.deleted_at.is_(None),
        )
    )


def _load(conn: Connection, chunk: list[str]) -> dict[str, Record]:
    # A malformed id cannot name a customer: it is not sent to the database.
    ids = [customer_id for customer_id in chunk if is_id(customer_id)]
    if not ids:
        return {}
    # Padded to a power of two with repeats of an id (IN ignores them): a handful of statement
    # shapes, each compiled once, whatever the batch sizes.
    size = 1 << (len(ids) - 1).bit_length()
    padded = ids + [ids[0]] * (size - len(ids))
    rows = _by_ids(size).all(conn, {f"id_{i}": customer_id for i, customer_id in enumerate(padded)})
    return {row.id: row for row in rows}


def _covered(
    conn: Connection, actor: Actor, rows: Iterable[Record], now: datetime
) -> frozenset[str]:
    """Which of these rows, neither the actor's nor their subtree's, an active grant covers."""
    if not actor.can(Permission.CUSTOMER_WORK):
        return frozenset()  # decided without grants (security.policy)
    strangers = [row.id for row in rows if standing(actor, facts_of(row)) is None]
    if not strangers:
        return frozenset()
    found = conn.execute(
        select(customers.c.id).where(
            customers.c.id.in_(strangers),
            customers.c.id.in_(granted_customer_ids(actor.user_id, now)),
        )
    )
    return frozenset(found.scalars())


@dataclass
class _Run:
    """One batch's reader, purpose and fields, and what it has gathered so far."""

    actor: Actor
    ctx: RequestContext
    vault: Vault
    purpose: Purpose
    wanted: frozenset[str]
    now: datetime
    # What every event of the batch carries: its purpose and its id (C4.3.4).
    details: dict[str, str]

    def __post_init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.records: list[CustomerOut] = []
        self.refused: list[Refusal] = []
        # Decisions are few and shared (security.policy): each one's layout is worked out once.
        self._layouts: dict[Decision, Layout] = {}

    def read(
        self, conn: Connection, customer_id: str, row: Record | None, covered: frozenset[str]
    ) -> None:
        if row is None:
            self._refuse(customer_id, RefusalReason.NOT_FOUND, "not_found")
            return
        levels = self.vault.levels
        try:
            decision = decide_on_row(
                conn,
                self.actor,
                CustomerAction.READ,
                row,
                self.now,
                vault=self.vault,
                may_have_grants=row.id in covered,
            )
        except DamagedRecord as damage:  # its access-deciding columns fail their tag (17.5)
            self._damaged(conn, customer_id, damage)
            return
        if not decision.allowed:
            # The caller hears not_found; the event keeps the true reason, as the single door's.
            self._refuse(customer_id, RefusalReason.NOT_FOUND, decision.reason.value)
            return
        held_back = refusal_at(self.purpose, levels.rule_of(row.level))
        if held_back is not None:
            reason = RefusalReason(held_back.value)
            self._refuse(customer_id, reason, reason.value)
            return
        layout = self._layout(decision)
        try:
            opened = open_fields(
                cipher_for(self.vault.provider, row), row, row.id, [*layout.readable, SOURCE]
            )
        except DataKeyShredded:
            reason = RefusalReason.DATA_KEY_SHREDDED
            self._refuse(customer_id, reason, reason.value)
            return
        except DamagedRecord as damage:
            self._damaged(conn, customer_id, damage)
            return
        source = opened.pop(SOURCE)
        masked = decision.masked
        data = {
            name: (FIELDS[name].mask(value) if name in masked and value is not None else value)
            for name, value in opened.items()
        }
        self._event(True, decision.reason.value, row.id, layout.readable)
        self.records.append(
            customer_out(row, levels, decision.reason.value, data, layout, source, [])
        )

    def _layout(self, decision: Decision) -> Layout:
        layout = self._layouts.get(decision)
        if layout is None:
            layout = layout_of(decision.visible & self.wanted, decision.masked)
            self._layouts[decision] = layout
        return layout

    def _damaged(self, conn: Connection, customer_id: str, damage: DamagedRecord) -> None:
        """Issue 17 / C5: this record alone is refused; audited, the officers told."""
        reason = RefusalReason.INTEGRITY_FAILURE
        self._refuse(customer_id, reason, reason.value)
        during = Action.CUSTOMER_READ
        self.events.append(
            damage_event(ctx=self.ctx, actor=self.actor, damage=damage, during=during)
        )
        alert(conn, vault=self.vault, damage=damage, during=during)

    def _refuse(self, customer_id: str, told: RefusalReason, reason: str) -> None:
        self.refused.append(Refusal(customer_id=customer_id, reason=told))
        # A malformed id is not stored in the audit log (customers.access does the same).
        self._event(False, reason, customer_id if is_id(customer_id) else None, self.wanted)

    def _event(
        self, allowed: bool, reason: str, customer_id: str | None, fields: Collection[str]
    ) -> None:
        # Field names, the purpose and the batch: never a customer value (C1.3).
        self.events.append(
            actor_event(
                ctx=self.ctx,
                actor=self.actor,
                action=Action.CUSTOMER_READ,
                allowed=allowed,
                reason=reason,
                customer_id=customer_id,
                fields=fields,
                details=self.details,
            )
        )
