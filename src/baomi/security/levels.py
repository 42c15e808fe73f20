"""Classification levels and their per-level rules (C2.2), in one place.

The default template is 普通 / 秘密 / 机密; 绝密 is available to companies that enable it through
BAOMI_LEVELS. Codes are stable identifiers for the API; labels are what people read.
"""

from __future__ import annotations

from dataclasses import dataclass

from baomi.errors import ValidationFailed


@dataclass(frozen=True, slots=True)
class LevelRule:
    code: str
    label_zh: str
    label_en: str
    rank: int
    # C4.3.2: contacts of customers at this level are masked until revealed with a reason.
    mask_contacts: bool
    export_allowed: bool
    mfa_required: bool


ALL_LEVELS: dict[str, LevelRule] = {
    rule.code: rule
    for rule in (
        LevelRule("normal", "普通", "Normal", 0, False, True, False),
        LevelRule("secret", "秘密", "Secret", 1, False, True, False),
        LevelRule("confidential", "机密", "Confidential", 2, True, False, True),
        LevelRule("top_secret", "绝密", "Top secret", 3, True, False, True),
    )
}
DEFAULT_ENABLED = ("normal", "secret", "confidential")
_BY_LABEL = {rule.label_zh: rule.code for rule in ALL_LEVELS.values()}


def enabled_levels() -> tuple[str, ...]:
    """Return the level codes this company uses, lowest first (BAOMI_LEVELS)."""
    from baomi.config import get_settings

    configured = get_settings().levels
    codes = tuple(c.strip() for c in configured.split(",") if c.strip()) or DEFAULT_ENABLED
    return tuple(sorted((c for c in codes if c in ALL_LEVELS), key=lambda c: ALL_LEVELS[c].rank))


def parse_level(value: str, field: str = "level") -> LevelRule:
    """Accept a level code or its Chinese label; reject levels this company does not use."""
    code = _BY_LABEL.get(value.strip(), value.strip())
    if code not in enabled_levels():
        allowed = ", ".join(f"{c} ({ALL_LEVELS[c].label_zh})" for c in enabled_levels())
        raise ValidationFailed(
            [{"field": field, "message": f"unknown level; use one of {allowed}"}]
        )
    return ALL_LEVELS[code]


def rule_of(code: str) -> LevelRule:
    return ALL_LEVELS[code]
