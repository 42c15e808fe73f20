"""查重, the company-wide duplicate check (C4.1.3): does this customer exist, who handles it?

It looks through the blind indexes company-wide, deliberately not filtered by visibility, and
answers only whether the customer exists and who handles it. A truncated index match is only a
candidate: its value is decrypted and compared, and never returned. Filing and editing a
customer run the same check on the record's own identifiers (`find_duplicate`), and a match is
refused with the same answer: the handler and department, nothing of the record.

A candidate that fails its integrity check (issue 17) is audited and reported (C5); when no
readable candidate matches, the answer is 500 `integrity_failure`, never "no such customer":
the damaged one might have been it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.engine import Connection

from baomi import clock
from baomi.audit.context import RequestContext
from baomi.audit.oversight import allowed_count
from baomi.audit.tags import Action
from baomi.customers import row_tag
from baomi.customers.access import (
    CUSTOMER_ROW,
    DEPARTMENT,
    HANDLER,
    WRAPPED_KEY,
    audit,
    denial,
)
from baomi.customers.decrypt import DamagedRecord, cipher_for, open_fields
from baomi.customers.integrity import IntegrityFailure, refusal, report
from baomi.customers.models import customer_index, customers
from baomi.customers.refusals import refused
from baomi.customers.schemas import CheckOut
from baomi.customers.validation import is_email
from baomi.customers.vault import Vault, index_terms, normalized_for
from baomi.db_direct import DirectStatement, Record
from baomi.db_locks import LockSpace, hold
from baomi.errors import BaomiError, Conflict, Forbidden, ValidationFailed
from baomi.notifications import triggers
from baomi.security.actor import Actor
from baomi.security.roles import Permission

CHECK_KINDS = ("phone", "email", "id_number", "name")
# Company-wide: deliberately not filtered by visibility; only existence and handler leave here.
_CANDIDATES = DirectStatement(
    # Only what a re-check and the answer need: ids, the wrapped key, the indexed ciphertexts.
    CUSTOMER_ROW.with_only_columns(
        *(customers.c[name] for name in row_tag.TAGGED),
        customers.c.row_tag,
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
        if kind == "email" and not is_email(value):
            # What filing refuses cannot be on file: the same refusal, not "no such customer".
            raise ValueError("not an e-mail address")
        term = normalized_for(kind, value)
    except ValueError:
        # Only a phone fails to normalise today; each kind has its code all the same.
        raise ValidationFailed(
            [{"field": kind, "code": f"{kind}_invalid", "message": f"not a valid {kind}"}]
        ) from None
    if not term:
        raise ValidationFailed([{"field": kind, "code": "blank", "message": "must not be blank"}])
    _hold_back(conn, actor=actor, ctx=ctx, vault=vault, kind=kind)
    damaged: list[DamagedRecord] = []
    match, candidates = _match(conn, vault, kind, term, damaged=damaged)
    if match is None and damaged:
        # A candidate that could not be read might be the customer: "no" would be a guess.
        raise refusal(
            ctx=ctx,
            actor=actor,
            vault=vault,
            damages=damaged,
            during=Action.CUSTOMER_CHECK,
            error=IntegrityFailure(UNDECIDED),
        ).with_audit(
            denial(
                ctx=ctx,
                actor=actor,
                action=Action.CUSTOMER_CHECK,
                reason=IntegrityFailure.code,
                fields=[_FIELD_OF_INDEX[kind]],
                details={"kind": kind, "candidates": candidates},
            )
        )
    for damage in damaged:
        report(conn, ctx=ctx, actor=actor, vault=vault, damage=damage, during=Action.CUSTOMER_CHECK)
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


class CheckRateLimited(BaomiError):
    status = 429
    code = "check_rate_limited"
    title = "Too many duplicate checks"


def _hold_back(
    conn: Connection, *, actor: Actor, ctx: RequestContext, vault: Vault, kind: str
) -> None:
    """Refuse 查重 past the person's hourly or daily limit (issue 17.4), audited; the first
    refusal in a period tells their heads and the security officers (C3.2).

    Every answered check counts, found or not: a list run through 查重 is the pattern held back.
    """
    limits, now = vault.limits, clock.utcnow()
    # Count and record as one step: simultaneous checks by one person queue here (db_locks).
    hold(conn, LockSpace.CHECKS_OF_PERSON, actor.user_id)
    for limit, period, length in (
        (limits.checks_per_hour, "hour", timedelta(hours=1)),
        (limits.checks_per_day, "day", timedelta(days=1)),
    ):
        since = now - length
        count = allowed_count(
            conn, actor_id=actor.user_id, action=Action.CUSTOMER_CHECK.value, since=since
        )
        if count < limit:
            continue
        tell = partial(
            triggers.check_limit_reached,
            person=actor,
            limit=limit,
            period=period,
            since=since,
            now=now,
            mail=vault.mail,
        )
        error = CheckRateLimited(
            f"at most {limit} duplicate checks per {period}; your head has been told. "
            "Ask them if your work needs more"
        )
        # The notice is written after the refused request's rollback, as its audit event is.
        raise refused(
            error,
            ctx=ctx,
            actor=actor,
            action=Action.CUSTOMER_CHECK,
            reason="rate_limited",
            fields=[_FIELD_OF_INDEX[kind]],
            details={"kind": kind, "period": period},
        ).with_effect(tell)


def _found(match: Record) -> CheckOut:
    return CheckOut(
        exists=True,
        handler={"username": match.handler_username, "department": match.department_name},
        customer_id=match.id,
    )


# 查重's answer when no readable candidate holds the value but a damaged one might (issue 17).
UNDECIDED = (
    "a customer that may hold this value failed its integrity check, so whether it is on file "
    "cannot be told now (C4.1.3); the security officer is told"
)


def _match(
    conn: Connection,
    vault: Vault,
    kind: str,
    term: str,
    exclude: str | None = None,
    *,
    damaged: list[DamagedRecord],
) -> tuple[Record | None, int]:
    """The oldest live customer holding this normalised value (not `exclude`), and how many
    index candidates were looked at; candidates that fail their integrity check before the
    match is found are added to `damaged`."""
    probe = vault.indexer.index(kind, term)
    candidates = _CANDIDATES.all(conn, {"field": kind, "value": probe})
    for row in candidates:
        if row.id == exclude:
            continue
        try:
            if _confirms(vault, row, kind, term):
                return row, len(candidates)
        except DamagedRecord as damage:
            damaged.append(damage)
    return None, len(candidates)


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
    conn: Connection,
    *,
    vault: Vault,
    values: dict[str, Any],
    exclude: str | None = None,
    damaged: list[DamagedRecord],
) -> Duplicate | None:
    """C4.1.3: the first other live customer that 查重 finds by one of these identifiers.

    `values` are validated and normalised record fields (customers.validation); only those
    given are looked up, so an edit checks just the identifiers it changes. Candidates that
    fail their integrity check are added to `damaged`: with none found, the answer is unknown.
    """
    for name, kind in _IDENTIFIERS:
        value = values.get(name)
        if not value:
            continue
        items = value if isinstance(value, list) else [value]
        for i, item in enumerate(items):
            term = normalized_for(kind, item)
            match, _ = _match(conn, vault, kind, term, exclude, damaged=damaged)
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
    damaged: list[DamagedRecord] = []
    duplicate = find_duplicate(
        conn, vault=vault, values=values, exclude=customer_id, damaged=damaged
    )
    during = Action.CUSTOMER_UPDATE if customer_id else Action.CUSTOMER_CREATE
    if duplicate is None:
        if damaged:
            # Filing it could make a second record of a customer on file (issue 17).
            raise refusal(
                ctx=ctx,
                actor=actor,
                vault=vault,
                damages=damaged,
                during=during,
                error=IntegrityFailure(UNDECIDED),
            )
        return
    other = duplicate.found.customer_id
    refused = DuplicateCustomer(duplicate).with_audit(
        denial(
            ctx=ctx,
            actor=actor,
            action=during,
            reason=DuplicateCustomer.code,
            customer_id=customer_id or other,
            fields=[duplicate.field.split("[", 1)[0]],
            details={"kind": duplicate.kind, "duplicate_of": other},
        )
    )
    raise refusal(ctx=ctx, actor=actor, vault=vault, damages=damaged, during=during, error=refused)


def _confirms(vault: Vault, row: Record, kind: str, term: str) -> bool:
    """Re-check a truncated-index candidate against the decrypted value (never returned).

    The handler it would name is believed only under the row's tag (issue 17.5)."""
    row_tag.check(vault.tags, row)
    cipher = cipher_for(vault.provider, row)
    fields = [_FIELD_OF_INDEX[kind]] + (["contacts"] if kind in ("phone", "email") else [])
    values = open_fields(cipher, row._mapping, row.id, fields)
    return any(index == kind and t == term for index, t in index_terms(values))
