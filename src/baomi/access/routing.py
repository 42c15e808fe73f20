"""Who must approve a request, by the customer's level (C4.3.1, C2.2).

Which approvals a level needs is part of its rule (security.levels); which part of the rule
applies is the request kind's to say (access.kinds: `access_approvers` for an access request,
`lowering_approvers` for a request to lower the level).

The customer's head is the head of the customer's department or of its nearest ancestor that
has one; the requester's head likewise for the requester's department. Nobody approves their own
request: where the requester would be an approver, or no head can be found, a security officer
approves instead.

Required approvals are counted as distinct people per rule (issue 17.8): a stand-in officer is
another officer than the one the rule names, so that a head's own request needs as many people
as a salesperson's. Two roles one person holds (the customer's head is also the requester's)
are one approval, whoever asks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from baomi.security.levels import Approver, LevelRule

__all__ = ["OFFICER", "Approver", "ApproverRule", "Slot", "SlotRole", "nearest_head", "route"]

# Which approvers a level's rule names for one kind of request.
ApproverRule = Callable[[LevelRule], Iterable[Approver]]


class SlotRole(StrEnum):
    DEPARTMENT_HEAD = "department_head"
    SECURITY_OFFICER = "security_officer"


@dataclass(frozen=True, slots=True, order=True)
class Slot:
    """One required approval: a named head, or any security officer (user_id None)."""

    role: SlotRole
    user_id: str | None


OFFICER = Slot(SlotRole.SECURITY_OFFICER, None)


def nearest_head(
    department_id: str | None,
    parents: Mapping[str, str | None],
    heads: Mapping[str, str | None],
) -> str | None:
    """Return the head of the department or of its nearest ancestor that has one."""
    seen: set[str] = set()
    current = department_id
    while current is not None and current not in seen:
        seen.add(current)
        if heads.get(current):
            return heads[current]
        current = parents.get(current)
    return None


def route(
    *,
    requester_id: str,
    requester_head: str | None,
    customer_heads: Iterable[tuple[LevelRule, str | None]],
    wanted: ApproverRule,
) -> list[Slot]:
    """Return the approvals needed: `customer_heads` pairs each customer's level rule and head.

    `wanted` picks from each level's rule the approvers the request's kind needs. A security
    officer's slot may appear more than once: each is decided by a different officer.
    """
    heads: set[str] = set()
    officers = 0
    for rule, customer_head in customer_heads:
        named_officer = 0
        # Whom each stand-in replaces: the requester (once, however many roles they hold), or
        # a role nobody holds.
        stand_ins: set[str] = set()
        for who in wanted(rule):
            if who is Approver.SECURITY_OFFICER:
                named_officer = 1
                continue
            head = customer_head if who is Approver.CUSTOMER_HEAD else requester_head
            # Never the requester, never nobody: a security officer stands in.
            if head is None:
                stand_ins.add(f"nobody:{who.value}")
            elif head == requester_id:
                stand_ins.add(head)
            else:
                heads.add(head)
        officers = max(officers, named_officer + len(stand_ins))
    return [Slot(SlotRole.DEPARTMENT_HEAD, head) for head in sorted(heads)] + [OFFICER] * officers
