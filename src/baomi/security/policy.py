"""The access policy: one function decides who may do what with which customer fields.

C4.2.1 need-to-know and default deny: a person works with a customer because they handle it
(C1.3), because they head its department's subtree, or because an explicit, time-bound grant
covers it (C4.3.1). The system administrator and the auditor get nothing by their role. C4.3.2:
sensitive fields (and contacts of customers at levels that say so) are masked for everyone until
revealed with a reason.

The handler / head-of-subtree rule is written once, in `standing` (and `standing_clause`, its
SQL translation for listing); the door (customers.access), access requests and listing all ask
it. This module knows no domain: grants arrive as facts, or as a subquery built by grants/.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ColumnElement, Select, and_, false, or_

from baomi.security.actor import Actor
from baomi.security.levels import LevelRule
from baomi.security.roles import Permission
from baomi.security.sensitivity import Sensitivity

__all__ = [
    "CustomerAction",
    "CustomerFacts",
    "Decision",
    "FieldCatalog",
    "GrantFacts",
    "Reason",
    "Sensitivity",
    "decide",
    "heads",
    "purpose_refused",
    "standing",
    "standing_clause",
    "visibility_filter",
]


class CustomerAction(StrEnum):
    READ = "read"
    REVEAL = "reveal"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


class Reason(StrEnum):
    HANDLER = "handler"
    DEPARTMENT_HEAD = "department_head"
    GRANT = "grant"
    ROLE_WITHOUT_CUSTOMER_ACCESS = "role_without_customer_access"
    NO_RELATION = "no_relation"
    FIELDS_NOT_GRANTED = "fields_not_granted"
    GRANT_IS_READ_ONLY = "grant_is_read_only"
    OUTSIDE_OWN_SCOPE = "outside_own_scope"
    # C4.3.4 / C4.1.2: the stated purpose is not covered by the customer's consents or bases.
    PURPOSE_NOT_CONSENTED = "purpose_not_consented"


@dataclass(frozen=True, slots=True)
class CustomerFacts:
    """The plaintext facts about a customer that access decisions need."""

    id: str
    level: str
    handler_id: str
    department_id: str


@dataclass(frozen=True, slots=True)
class GrantFacts:
    fields: frozenset[str] | None  # None: the whole record
    starts_at: datetime
    ends_at: datetime
    revoked_at: datetime | None

    def active_at(self, now: datetime) -> bool:
        """A grant is valid in [starts_at, ends_at) unless revoked."""
        return self.revoked_at is None and self.starts_at <= now < self.ends_at


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: Reason
    # Fields the actor may see at all (masked or not).
    visible: frozenset[str] = frozenset()
    # Of the visible fields, those shown masked until revealed.
    masked: frozenset[str] = frozenset()


def _deny(reason: Reason) -> Decision:
    return Decision(allowed=False, reason=reason)


def heads(actor: Actor, department_id: str) -> bool:
    """C3.2: whether the actor heads this department, itself or as part of a subtree above it."""
    # The actor carries the whole subtree they head, worked out once when they were loaded.
    return department_id in actor.headed_departments


def standing(actor: Actor, customer: CustomerFacts) -> Reason | None:
    """C1.3: the relation that opens a customer without a grant, or None when there is none.

    The handler works with their customer; the head of its department's subtree supervises it.
    """
    if customer.handler_id == actor.user_id:
        return Reason.HANDLER
    if heads(actor, customer.department_id):
        return Reason.DEPARTMENT_HEAD
    return None


def standing_clause(
    actor: Actor, *, handler_id: ColumnElement[str], department_id: ColumnElement[str]
) -> ColumnElement[bool]:
    """`standing` as SQL, for listing: the same two relations, over a customers query."""
    # A translation of the rule above, not a second rule: change the two together.
    clauses: list[ColumnElement[bool]] = [handler_id == actor.user_id]
    if actor.headed_departments:
        clauses.append(department_id.in_(sorted(actor.headed_departments)))
    return or_(*clauses)


class FieldCatalog(Mapping[str, Sensitivity]):
    """A field catalog with what `decide` derives from it worked out once, not on every read."""

    __slots__ = ("_masked", "_sensitivity", "names", "sensitive")

    def __init__(self, sensitivity: Mapping[str, Sensitivity]) -> None:
        self._sensitivity = dict(sensitivity)
        self.names = frozenset(self._sensitivity)
        self.sensitive = frozenset(
            name for name, s in self._sensitivity.items() if s is Sensitivity.SENSITIVE
        )
        self._masked: dict[frozenset[str], frozenset[str]] = {}

    def __getitem__(self, name: str) -> Sensitivity:
        return self._sensitivity[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._sensitivity)

    def __len__(self) -> int:
        return len(self._sensitivity)

    def masked_at(self, level_masks: frozenset[str]) -> frozenset[str]:
        """Fields masked at a level: the sensitive ones always, and those its rule lists."""
        masked = self._masked.get(level_masks)
        if masked is None:
            # One entry per level rule in force: a handful.
            masked = self.names & (self.sensitive | level_masks)
            self._masked[level_masks] = masked
        return masked


# Allowed decisions are immutable and few (reason, visible, masked): each is built once.
_ALLOWED_LIMIT = 256
_ALLOWED: dict[tuple[Reason, frozenset[str], frozenset[str]], Decision] = {}


def _allow(reason: Reason, visible: frozenset[str], masked: frozenset[str]) -> Decision:
    key = (reason, visible, masked)
    decision = _ALLOWED.get(key)
    if decision is None:
        decision = Decision(allowed=True, reason=reason, visible=visible, masked=masked)
        if len(_ALLOWED) >= _ALLOWED_LIMIT:
            _ALLOWED.clear()
        _ALLOWED[key] = decision
    return decision


def decide(
    *,
    actor: Actor,
    action: CustomerAction,
    customer: CustomerFacts | None,
    rule: LevelRule | None,
    fields: Mapping[str, Sensitivity],
    requested: Collection[str] | None = None,
    grants: Iterable[GrantFacts] = (),
    now: datetime,
    purpose: str | None = None,
    consented: Collection[str] = frozenset(),
) -> Decision:
    """Decide one action on one customer; `fields` is the catalog, `requested` a subset.

    `rule` is the rule of the customer's level (C2.2), from the company's level configuration
    the caller holds (None only when there is no customer yet, for CREATE). An action done for
    a stated `purpose` (a reveal, C4.3.4) is allowed only on fields the customer's consents and
    lawful bases in force cover for it: `consented`, the names of those fields.
    """
    if not actor.can(Permission.CUSTOMER_WORK):
        return _deny(Reason.ROLE_WITHOUT_CUSTOMER_ACCESS)

    if action is CustomerAction.CREATE:
        return _decide_create(actor, customer)
    if customer is None:
        return _deny(Reason.NO_RELATION)

    catalog = fields if isinstance(fields, FieldCatalog) else FieldCatalog(fields)
    all_fields = catalog.names
    related = standing(actor, customer)
    if related is not None:
        reason, visible = related, all_fields
    else:
        reason, visible = Reason.GRANT, _granted_fields(grants, all_fields, now)
        if not visible:
            return _deny(Reason.NO_RELATION)
        if action in (CustomerAction.UPDATE, CustomerAction.DELETE):
            return _deny(Reason.GRANT_IS_READ_ONLY)

    if requested is not None and not set(requested) <= visible:
        return _deny(Reason.FIELDS_NOT_GRANTED)
    needed = set(requested) if requested is not None else visible
    if purpose is not None and purpose_refused(needed, consented):
        return _deny(Reason.PURPOSE_NOT_CONSENTED)
    # C4.3.2 / C2.2: the level's mask set; sensitive fields are masked at every level regardless.
    if rule is None or rule.code != customer.level:
        raise ValueError(f"decide needs the rule of the customer's level {customer.level!r}")
    masked = catalog.masked_at(rule.masked_fields)
    return _allow(reason, visible, masked if visible is all_fields else visible & masked)


def purpose_refused(needed: Collection[str], consented: Collection[str]) -> bool:
    """C4.3.4: whether a purpose whose consents cover the fields `consented` falls short of the
    fields `needed` (for a reveal here, for an access request when it is filed)."""
    return not set(needed) <= set(consented)


def _decide_create(actor: Actor, customer: CustomerFacts | None) -> Decision:
    # A salesperson files customers as their own; a head may file one for their subtree.
    if customer is None:
        return Decision(allowed=True, reason=Reason.HANDLER)
    related = standing(actor, customer)
    if related is None:
        return _deny(Reason.OUTSIDE_OWN_SCOPE)
    return Decision(allowed=True, reason=related)


def _granted_fields(
    grants: Iterable[GrantFacts], all_fields: frozenset[str], now: datetime
) -> frozenset[str]:
    covered: set[str] = set()
    for grant in grants:
        if grant.active_at(now):
            covered |= all_fields if grant.fields is None else (grant.fields & all_fields)
    return frozenset(covered)


def visibility_filter(
    actor: Actor,
    *,
    customer_id: ColumnElement[str],
    handler_id: ColumnElement[str],
    department_id: ColumnElement[str],
    granted: Select[tuple[str]],
) -> ColumnElement[bool]:
    """The same rule as `decide`, as SQL: which customers may this actor list at all.

    `granted` selects the ids of the customers the actor's active grants cover now
    (grants.queries.granted_customer_ids): the grants are the grants room's table, not ours.
    """
    if not actor.can(Permission.CUSTOMER_WORK):
        return false()
    related = standing_clause(actor, handler_id=handler_id, department_id=department_id)
    return and_(or_(related, customer_id.in_(granted)))
