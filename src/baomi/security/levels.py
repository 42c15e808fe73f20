"""Classification levels and their per-level rules (C2.2), in one configuration.

The default template is 普通 / 秘密 / 机密; 绝密 is available to companies that enable it through
BAOMI_LEVELS. Codes are stable identifiers for the API; labels are what people read. A company
may override any rule in one file, BAOMI_HOME/levels.toml, checked when the application starts:

    [confidential]
    label_zh = "机密"
    access_approvers = ["customer_head", "requester_head", "security_officer"]
    lowering_approvers = ["customer_head", "security_officer"]
    masked_fields = ["contacts", "phones", "emails", "address", "id_number", "payment_methods",
                     "notes"]
    export_allowed = false
    reveal_requires_mfa = true
    retention_days = 1095
    max_grant_hours = 168
    lapses_to = "secret"

Everything that behaves by level reads its rule from one `Levels` value, built when the process
starts (`load_levels`, security/level_file.py) and passed to whoever needs it, never kept in a
module: masking (security.policy, given the rule), who approves access and lowering
(access.routing), step-up on reveal, export, retention and the lapse of confidentiality periods.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from baomi.errors import ValidationFailed
from baomi.security.sensitivity import Sensitivity

LEVELS_FILE = "levels.toml"


class Approver(StrEnum):
    """Who must approve: the customer's head, the requester's head, or a security officer."""

    CUSTOMER_HEAD = "customer_head"
    REQUESTER_HEAD = "requester_head"
    SECURITY_OFFICER = "security_officer"


@dataclass(frozen=True, slots=True)
class LevelRule:
    code: str
    label_zh: str
    label_en: str
    rank: int
    # C4.3.1: who approves a request for access to a customer at this level.
    access_approvers: frozenset[Approver]
    # C2.2: who approves lowering a customer from this level (a level-change request).
    lowering_approvers: frozenset[Approver]
    # C4.3.2: fields shown masked until revealed with a reason.
    masked_fields: frozenset[str]
    # C4.3.3: whether customers at this level may be exported or copied at all.
    export_allowed: bool
    # C4.2.4 / C4.3.2: revealing needs a second factor passed within the step-up window.
    reveal_requires_mfa: bool
    # C4.5.1: days a record is kept once no longer needed; None: no level-specific limit.
    retention_days: int | None
    # C4.2.1 / C4.3.1: the longest a grant of access to a customer at this level may last.
    max_grant_hours: int
    # C2.2: the level an ended confidentiality period lowers to; None: nowhere lower.
    lapses_to: str | None


@dataclass(frozen=True, slots=True)
class Levels:
    """The rules of every known level (old records keep theirs) and the levels in use.

    One value per process, built at start from the settings (`load_levels`) and handed to
    whoever behaves by level: the customer door carries it (customers.vault), the web reads it
    from there, jobs and the approval machine are given it.
    """

    rules: Mapping[str, LevelRule]
    # The level codes this company uses, lowest first (BAOMI_LEVELS).
    enabled: tuple[str, ...]

    def rule_of(self, code: str) -> LevelRule:
        """Return the rule of a stored level code (levels no longer in use keep their rule)."""
        return self.rules[code]

    def in_use(self) -> list[LevelRule]:
        """Return the rules of the levels in use, lowest first."""
        return [self.rules[code] for code in self.enabled]

    def parse(self, value: str, field: str = "level") -> LevelRule:
        """Accept a level code or its Chinese label; reject levels this company does not use."""
        by_label = {rule.label_zh: code for code, rule in self.rules.items()}
        code = by_label.get(value.strip(), value.strip())
        if code not in self.enabled:
            allowed = ", ".join(f"{c} ({self.rules[c].label_zh})" for c in self.enabled)
            raise ValidationFailed(
                [
                    {
                        "field": field,
                        "code": "level_unknown",
                        "message": f"unknown level; use one of {allowed}",
                    }
                ]
            )
        return self.rules[code]


class LevelConfigError(ValidationFailed):
    code = "invalid_level_configuration"
    title = "Invalid level configuration"


_D = 24  # hours in a day
_O, _CH, _RH = Approver.SECURITY_OFFICER, Approver.CUSTOMER_HEAD, Approver.REQUESTER_HEAD
# code, 中文, English, rank, access approvers, lowering approvers, contacts masked, export, MFA,
# longest grant in hours (90, 30, 7 and 3 days: the higher the level, the sooner access is
# asked for again).
_TEMPLATE = (
    ("normal", "普通", "Normal", 0, {_CH}, {_CH}, False, True, False, 90 * _D),
    ("secret", "秘密", "Secret", 1, {_CH, _RH}, {_CH}, False, True, False, 30 * _D),
    (
        "confidential",
        "机密",
        "Confidential",
        2,
        {_CH, _RH, _O},
        {_CH, _O},
        True,
        False,
        True,
        24 * 7,
    ),
    ("top_secret", "绝密", "Top secret", 3, {_CH, _RH, _O}, {_CH, _O}, True, False, True, 3 * _D),
)
RANKS = {code: rank for code, _, _, rank, *_ in _TEMPLATE}
DEFAULT_ENABLED = ("normal", "secret", "confidential")
_KEYS = (
    "label_zh",
    "label_en",
    "access_approvers",
    "lowering_approvers",
    "masked_fields",
    "export_allowed",
    "reveal_requires_mfa",
    "retention_days",
    "max_grant_hours",
    "lapses_to",
)
MAX_RETENTION_DAYS = 100 * 366
# A grant longer than a year is a standing permission, which is what a handler is for.
MAX_GRANT_HOURS = 24 * 366


# The customer record's fields and their sensitivity. security/ knows no domain, so the field
# catalog tells us (customers/fields.py calls `describe_fields` when it is imported); the level
# rules cannot be built before it has.
_fields: dict[str, Sensitivity] | None = None


def describe_fields(sensitivity: Mapping[str, Sensitivity]) -> None:
    """Name the record's fields and their sensitivity (the customers room's field catalog)."""
    global _fields
    _fields = dict(sensitivity)


def _field_catalog() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """Return (all field names, always masked, contact fields) of the customer record."""
    if _fields is None:
        raise RuntimeError("no field catalog: import baomi.customers.fields before using levels")
    fields = _fields

    def of(sensitivity: Sensitivity) -> frozenset[str]:
        return frozenset(name for name, s in fields.items() if s is sensitivity)

    return frozenset(fields), of(Sensitivity.SENSITIVE), of(Sensitivity.CONTACT)


def _parse_enabled(configured: str) -> tuple[str, ...]:
    codes = [c.strip() for c in configured.split(",") if c.strip()] or list(DEFAULT_ENABLED)
    unknown = [c for c in codes if c not in RANKS]
    if unknown:
        raise LevelConfigError(
            [
                {
                    "field": "BAOMI_LEVELS",
                    "code": "level_unknown",
                    "message": f"unknown level {c!r}; use some of {', '.join(RANKS)}",
                }
                for c in unknown
            ]
        )
    return tuple(sorted(set(codes), key=RANKS.__getitem__))


def _defaults(enabled: tuple[str, ...]) -> dict[str, LevelRule]:
    _, always, contact = _field_catalog()
    rules = {}
    for code, zh, en, rank, access, lowering, contacts_masked, export, mfa, hours in _TEMPLATE:
        below = [c for c in enabled if RANKS[c] < rank]
        rules[code] = LevelRule(
            code=code,
            label_zh=zh,
            label_en=en,
            rank=rank,
            access_approvers=frozenset(access),
            lowering_approvers=frozenset(lowering),
            masked_fields=always | contact if contacts_masked else always,
            export_allowed=export,
            reveal_requires_mfa=mfa,
            retention_days=None,
            max_grant_hours=hours,
            # A lapsed period steps down one level in use, never straight to the bottom.
            lapses_to=below[-1] if below else None,
        )
    return rules


class _Checker:
    """Collect every problem of an override file, each named by its key."""

    def __init__(self) -> None:
        self.errors: list[ValidationFailed.Item] = []

    def add(self, key: str, code: str, message: str) -> None:
        self.errors.append({"field": key, "code": code, "message": message})

    def label(self, key: str, value: Any) -> str | None:
        if not isinstance(value, str) or not value.strip() or len(value) > 20:
            self.add(key, "label_invalid", "must be a non-blank string of at most 20 characters")
            return None
        return value.strip()

    def flag(self, key: str, value: Any) -> bool | None:
        if not isinstance(value, bool):
            self.add(key, "not_a_boolean", "must be true or false")
            return None
        return value

    def approvers(self, key: str, value: Any) -> frozenset[Approver] | None:
        allowed = ", ".join(a.value for a in Approver)
        if not isinstance(value, list) or not value:
            self.add(key, "approvers_invalid", f"must be a non-empty list of: {allowed}")
            return None
        bad = [v for v in value if v not in [a.value for a in Approver]]
        if bad:
            self.add(
                key, "approver_unknown", f"unknown approver {bad[0]!r}; use some of: {allowed}"
            )
            return None
        return frozenset(Approver(v) for v in value)

    def fields(self, key: str, value: Any) -> frozenset[str] | None:
        known, always, _ = _field_catalog()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.add(key, "fields_invalid", "must be a list of field names")
            return None
        if unknown := sorted(set(value) - known):
            self.add(
                key,
                "field_unknown",
                f"unknown field {unknown[0]!r}; use some of: {', '.join(sorted(known))}",
            )
            return None
        if missing := sorted(always - set(value)):
            # C4.3.2: ID numbers, payment details and sensitive notes are masked at every level.
            self.add(
                key,
                "always_masked_missing",
                f"must include the always-masked fields: {', '.join(missing)}",
            )
            return None
        return frozenset(value)

    def retention(self, key: str, value: Any) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(key, "retention_invalid", "must be a whole number of days")
            return None
        if not 1 <= value <= MAX_RETENTION_DAYS:
            self.add(
                key, "retention_out_of_range", f"must be between 1 and {MAX_RETENTION_DAYS} days"
            )
            return None
        return value

    def grant_hours(self, key: str, value: Any) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(key, "max_grant_hours_invalid", "must be a whole number of hours")
            return None
        if not 1 <= value <= MAX_GRANT_HOURS:
            self.add(
                key,
                "max_grant_hours_out_of_range",
                f"must be between 1 and {MAX_GRANT_HOURS} hours",
            )
            return None
        return value


def _override(
    rule: LevelRule, table: Mapping[str, Any], enabled: tuple[str, ...], check: _Checker
) -> LevelRule:
    changes: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{rule.code}.{key}"
        if key not in _KEYS:
            check.add(name, "key_unknown", f"unknown key; use some of: {', '.join(_KEYS)}")
            continue
        parsed: Any
        if key in ("label_zh", "label_en"):
            parsed = check.label(name, value)
        elif key in ("access_approvers", "lowering_approvers"):
            parsed = check.approvers(name, value)
        elif key == "masked_fields":
            parsed = check.fields(name, value)
        elif key in ("export_allowed", "reveal_requires_mfa"):
            parsed = check.flag(name, value)
        elif key == "retention_days":
            parsed = check.retention(name, value)
        elif key == "max_grant_hours":
            parsed = check.grant_hours(name, value)
        else:
            lower = [c for c in enabled if RANKS[c] < rule.rank]
            if value not in lower:
                options = ", ".join(lower) or "none: nothing in use is lower"
                check.add(name, "lapses_to_invalid", f"must name a lower level in use ({options})")
                parsed = None
            else:
                parsed = value
        if parsed is not None:
            changes[key] = parsed
    return replace(rule, **changes)


def _names(overrides: Mapping[str, Any] | None, code: str, key: str) -> bool:
    table = (overrides or {}).get(code)
    return isinstance(table, Mapping) and key in table


def build_levels(enabled_setting: str, overrides: Mapping[str, Any] | None = None) -> Levels:
    """Return the rules: the default template, with a company's overrides, all validated."""
    enabled = _parse_enabled(enabled_setting)
    rules = _defaults(enabled)
    check = _Checker()
    for code, table in (overrides or {}).items():
        if code not in rules:
            check.add(code, "level_unknown", f"unknown level; use some of: {', '.join(RANKS)}")
        elif not isinstance(table, Mapping):
            check.add(
                code, "level_not_a_table", "must be a table ([level] followed by key = value lines)"
            )
        else:
            rules[code] = _override(rules[code], table, enabled, check)
    # Levels.parse accepts a Chinese label too, so two levels must not share one.
    sharing: dict[str, list[str]] = {}
    for rule in rules.values():
        sharing.setdefault(rule.label_zh, []).append(rule.code)
    for codes in (c for c in sharing.values() if len(c) > 1):
        named = [c for c in codes if _names(overrides, c, "label_zh")] or codes
        for code in named:
            others = ", ".join(c for c in codes if c != code)
            check.add(f"{code}.label_zh", "label_duplicate", f"the same label as {others}")
    if check.errors:
        raise LevelConfigError(check.errors)
    return Levels(rules=rules, enabled=enabled)
