"""What reading many customers at once is for, and what each purpose may carry (C4.3.4, C4.1.2).

The batch door (customers/batch.py) reads for exactly one purpose, recorded on every audit event
it writes (C4.3.4: purpose recorded on every use). A purpose narrows what the single door allows,
never widens it: need-to-know (C4.2.1) and masking (C4.3.2) are decided per customer by
security.policy first, and a purpose then only takes away.

- EXPORT (C4.3.3): a copy that leaves the system. Carries every field the reader may see; a
  customer whose level rule forbids export (`export_allowed`, C2.2: 机密 and 绝密 by default) is
  refused. The head's approval and the copy's registration are the exports workflow's, before it
  calls the door.
- REPORT (C2.1 e): an analysis that stays inside the system. It has no need of ID numbers,
  payment accounts or sensitive notes, so it carries no SENSITIVE field, not even masked
  (C4.2.1 need-to-know; C4.1.2 purpose limitation).
- SUBJECT_ACCESS (PIPL art. 45, C4.1.2): a copy of a customer's data for the customer it
  describes. Carries every field the reader may see; the level's export rule does not hold it
  back, since the law gives the person this copy whatever the company's classification.

No purpose unmasks: a masked field (C4.3.2) leaves masked. Showing one in the clear takes the
reveal door (customers.service.reveal: a reason, a second factor at levels that ask for it, a
rate limit), customer by customer; a bulk reveal would be an approved workflow of its own.

A new purpose is a member of `Purpose` and a row of `RULES`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from baomi.security.levels import LevelRule
from baomi.security.sensitivity import Sensitivity


class Purpose(StrEnum):
    EXPORT = "export"
    REPORT = "report"
    SUBJECT_ACCESS = "subject_access"


class PurposeRefusal(StrEnum):
    """Why a purpose holds back a customer the reader may otherwise see."""

    EXPORT_NOT_ALLOWED = "export_not_allowed"


@dataclass(frozen=True, slots=True)
class PurposeRule:
    # The sensitivities whose fields the purpose may carry at all (masked or not).
    carries: frozenset[Sensitivity]
    # C4.3.3: whether the customer's level rule must allow export.
    bound_by_export_rule: bool


_ALL = frozenset(Sensitivity)
RULES: Mapping[Purpose, PurposeRule] = {
    Purpose.EXPORT: PurposeRule(carries=_ALL, bound_by_export_rule=True),
    Purpose.REPORT: PurposeRule(
        carries=frozenset({Sensitivity.NORMAL, Sensitivity.CONTACT}), bound_by_export_rule=False
    ),
    Purpose.SUBJECT_ACCESS: PurposeRule(carries=_ALL, bound_by_export_rule=False),
}


def carried_fields(purpose: Purpose, catalog: Mapping[str, Sensitivity]) -> frozenset[str]:
    """The fields of `catalog` a read for this purpose may carry at most."""
    carries = RULES[purpose].carries
    return frozenset(name for name, sensitivity in catalog.items() if sensitivity in carries)


def refusal_at(purpose: Purpose, rule: LevelRule) -> PurposeRefusal | None:
    """Why this purpose holds back a customer whose level has `rule`, or None when it does not."""
    if RULES[purpose].bound_by_export_rule and not rule.export_allowed:
        return PurposeRefusal.EXPORT_NOT_ALLOWED
    return None
