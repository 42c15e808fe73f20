"""How many of these identifiers belong to customers on file: counts only (C4.1.3 ledgers).

The private-ledger scanner (ledgers/) finds phones, ID numbers, credit codes and e-mails in
files and asks here how many of them are customers of the vault. The answer is numbers, one per
group of values (a file), never a customer, a handler or a value: the door's narrowest answer.

Lookups go through the blind indexes, as 查重 does (customers/duplicates.py); a truncated-index
match is only a candidate, so its indexed fields are opened and compared here, never returned.
Bank cards have no blind index (payment methods are not searchable): they are not counted.

Who may ask, and over which customers (C4.2.1 least privilege):
- a salesperson or head (customer:work): only the customers they stand in relation to, as
  handler or head of the subtree (security.policy.standing_clause), so the count tells them
  nothing their own list does not. A company-wide count for them would be 查重 in bulk, which
  issue 17.4 limits per hour: a file per phone number would map the company's customers.
- the security officer (customer:check without customer:work): company-wide, because finding
  private ledgers on shared disks is their inspection (C3.1, C4.1.3); they learn counts only.
- anyone else (administrator, auditor): refused, and the refusal is audited. The console (the
  OS account, a SystemActor) holds no customer permission and is not let in by the type.
Grants are not weighed: a grant opens one customer for a purpose, not a count over files.
Every answer is audited with the counts looked up and matched, never the values.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlalchemy.engine import Connection

from baomi.audit.context import RequestContext
from baomi.audit.tags import Action
from baomi.customers import row_tag
from baomi.customers.access import CUSTOMER_ROW, WRAPPED_KEY, audit, denial
from baomi.customers.decrypt import DamagedRecord, cipher_for, open_fields
from baomi.customers.integrity import report
from baomi.customers.models import customer_index, customers
from baomi.customers.vault import Vault, index_terms, normalized_for
from baomi.errors import Forbidden, ValidationFailed
from baomi.security.actor import Actor
from baomi.security.policy import standing_clause
from baomi.security.roles import Permission

# The blind indexes a scanner may ask about, and the record field each one is built from.
INDEXES = {"phone": "phones", "email": "emails", "id_number": "id_number"}


@dataclass(frozen=True, slots=True)
class KnownCounts:
    """Per group, how many of its distinct values are a customer's; and over which customers."""

    matched: list[int]
    scope: str  # "company" (the security officer) or "own" (handler / head of the subtree)


def count_known(
    conn: Connection,
    *,
    actor: Actor,
    ctx: RequestContext,
    vault: Vault,
    groups: Sequence[Mapping[str, Collection[str]]],
) -> KnownCounts:
    """Count, per group of {index: normalised values}, the values that name a live customer."""
    scope = _scope(actor, ctx)
    for group in groups:
        if unknown := set(group) - set(INDEXES):
            raise ValidationFailed(
                [{"field": "kind", "code": "kind_unknown", "message": f"not indexed: {unknown}"}]
            )
    terms = {(kind, normalized_for(kind, v)) for g in groups for kind, vs in g.items() for v in vs}
    damaged: list[DamagedRecord] = []
    known = {term for term in sorted(terms) if _is_known(conn, actor, vault, scope, term, damaged)}
    for damage in damaged:
        report(conn, ctx=ctx, actor=actor, vault=vault, damage=damage, during=Action.CUSTOMER_COUNT)
    matched = [
        sum((kind, normalized_for(kind, v)) in known for kind, vs in g.items() for v in set(vs))
        for g in groups
    ]
    audit(
        conn,
        ctx=ctx,
        actor=actor,
        action=Action.CUSTOMER_COUNT,
        reason=scope,
        fields=sorted({INDEXES[kind] for g in groups for kind in g}),
        details={
            "scope": scope,
            "groups": len(groups),
            "looked_up": len(terms),
            "matched": len(known),
            "damaged": len(damaged),
        },
    )
    return KnownCounts(matched=matched, scope=scope)


def _scope(actor: Actor, ctx: RequestContext) -> str:
    if actor.can(Permission.CUSTOMER_WORK):
        return "own"
    if actor.can(Permission.CUSTOMER_CHECK):
        return "company"
    raise Forbidden(
        "your role cannot look customers up (C4.2.1)", code="role_without_customer_access"
    ).with_audit(
        denial(
            ctx=ctx,
            actor=actor,
            action=Action.CUSTOMER_COUNT,
            reason="role_without_customer_access",
        )
    )


def _candidates(actor: Actor, scope: str, kind: str, probe: int) -> Select[Any]:
    query = (
        CUSTOMER_ROW.with_only_columns(
            *(customers.c[name] for name in row_tag.TAGGED),
            customers.c.row_tag,
            customers.c[f"{INDEXES[kind]}_ct"],
            customers.c.contacts_ct,
            WRAPPED_KEY.c.master_version,
            WRAPPED_KEY.c.wrapped,
        )
        .join(customer_index, customer_index.c.customer_id == customers.c.id)
        .where(
            customer_index.c.field == kind,
            customer_index.c.value == probe,
            customers.c.deleted_at.is_(None),
        )
    )
    if scope == "own":
        query = query.where(
            standing_clause(
                actor, handler_id=customers.c.handler_id, department_id=customers.c.department_id
            )
        )
    return query


def _is_known(
    conn: Connection,
    actor: Actor,
    vault: Vault,
    scope: str,
    term: tuple[str, str],
    damaged: list[DamagedRecord],
) -> bool:
    kind, value = term
    probe = vault.indexer.index(kind, value)
    for found in conn.execute(_candidates(actor, scope, kind, probe)):
        row: dict[str, Any] = dict(found._mapping)
        try:
            row_tag.check(vault.tags, row)
            cipher = cipher_for(vault.provider, row)
            fields = [INDEXES[kind]] + (["contacts"] if kind != "id_number" else [])
            values = open_fields(cipher, row, row["id"], fields)
        except DamagedRecord as damage:
            damaged.append(damage)
            continue
        if any(index == kind and t == value for index, t in index_terms(values)):
            return True
    return False
