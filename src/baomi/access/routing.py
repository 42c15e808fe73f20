"""Who must approve an access request, by the customer's level (C4.3.1, C2.2), in one place.

The customer's head is the head of the customer's department or of its nearest ancestor that
has one; the requester's head likewise for the requester's department. Nobody approves their own
request: where the requester would be an approver, or no head can be found, the security officer
approves instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum


class Approver(StrEnum):
    CUSTOMER_HEAD = "customer_head"
    REQUESTER_HEAD = "requester_head"
    SECURITY_OFFICER = "security_officer"


# The approvals each level requires; a company changes its routing here and nowhere else.
ROUTES: dict[str, frozenset[Approver]] = {
    "normal": frozenset({Approver.CUSTOMER_HEAD}),
    "secret": frozenset({Approver.CUSTOMER_HEAD, Approver.REQUESTER_HEAD}),
    "confidential": frozenset(
        {Approver.CUSTOMER_HEAD, Approver.REQUESTER_HEAD, Approver.SECURITY_OFFICER}
    ),
    "top_secret": frozenset(
        {Approver.CUSTOMER_HEAD, Approver.REQUESTER_HEAD, Approver.SECURITY_OFFICER}
    ),
}


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
    customer_heads: Iterable[tuple[str, str | None]],
) -> list[Slot]:
    """Return the approvals needed: `customer_heads` pairs each customer's level and head."""
    slots: set[Slot] = set()
    for level, customer_head in customer_heads:
        wanted = ROUTES[level]
        for who in wanted:
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
