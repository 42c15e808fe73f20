"""Who must approve a request, by the customer's level (C4.3.1, C2.2).

Which approvals a level needs is part of its rule (security.levels); which part of the rule
applies is the request kind's to say (access.kinds: `access_approvers` for an access request,
`lowering_approvers` for a request to lower the level).

The customer's head is the head of the customer's department or of its nearest ancestor that
has one; the requester's head likewise for the requester's department. Nobody approves their own
request: where the requester would be an approver, or no head can be found, the security officer
approves instead.
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

    `wanted` picks from each level's rule the approvers the request's kind needs.
    """
    slots: set[Slot] = set()
    for rule, customer_head in customer_heads:
        for who in wanted(rule):
            if who is Approver.SECURITY_OFFICER:
                slots.add(OFFICER)
                continue
            head = customer_head if who is Approver.CUSTOMER_HEAD else requester_head
            # Never the requester, never nobody: the security officer stands in.
            if head is None or head == requester_id:
                slots.add(OFFICER)
            else:
                slots.add(Slot(SlotRole.DEPARTMENT_HEAD, head))
    return sorted(slots, key=lambda s: (s.role != SlotRole.DEPARTMENT_HEAD, s.user_id or ""))
