"""Processing purposes (C4.1.2, C4.3.4; PIPL art. 6, 14, 17): what customer data is used for.

A purpose has a stable code (the API's), a Chinese and an English label. The defaults are the four
a sales team lives by; a company may rename them or add its own in BAOMI_HOME/purposes.toml:

    [marketing]
    label_zh = "新品推介"
    label_en = "New product offers"

    [events]
    label_zh = "客户活动邀请"
    label_en = "Customer event invitations"

Codes are lowercase letters, digits and underscores; a default cannot be removed (records name
it). The catalog is read once at start (`load_purposes`) and handed to whoever checks a code.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from baomi.errors import FieldError, ValidationFailed

PURPOSES_FILE = "purposes.toml"
CONTRACT, SERVICE, MARKETING, PROVISION = "contract", "service", "marketing", "provision"
_CODE = re.compile(r"[a-z][a-z0-9_]{1,31}")


@dataclass(frozen=True, slots=True)
class ProcessingPurpose:
    code: str
    label_zh: str
    label_en: str


DEFAULTS = (
    ProcessingPurpose(CONTRACT, "合同履行", "Performing a contract"),
    ProcessingPurpose(SERVICE, "售后服务", "After-sales service"),
    ProcessingPurpose(MARKETING, "产品营销", "Marketing"),
    ProcessingPurpose(PROVISION, "第三方提供", "Provision to a third party"),
)


@dataclass(frozen=True, slots=True)
class PurposeCatalog:
    """The company's purposes, in the order forms offer them."""

    purposes: tuple[ProcessingPurpose, ...] = DEFAULTS

    def __iter__(self) -> Iterator[ProcessingPurpose]:
        return iter(self.purposes)

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(p.code for p in self.purposes)

    def check(self, codes: list[str], field: str = "purposes") -> list[str]:
        """The codes, each once, in catalog order; unknown ones refused by name."""
        unknown = sorted(set(codes) - self.codes)
        if unknown:
            known = ", ".join(p.code for p in self.purposes)
            raise ValidationFailed(
                [
                    {
                        "field": field,
                        "code": "purpose_unknown",
                        "message": f"unknown purpose {code!r}: use one of {known}",
                    }
                    for code in unknown
                ]
            )
        return [p.code for p in self.purposes if p.code in codes]


DEFAULT_PURPOSES = PurposeCatalog()


def build_purposes(overrides: Mapping[str, Any] | None) -> PurposeCatalog:
    """The defaults with a company's renames and additions; a malformed entry is an error."""
    if not overrides:
        return PurposeCatalog()
    errors: list[FieldError] = []
    by_code = {p.code: p for p in DEFAULTS}
    for code, entry in overrides.items():
        if not _CODE.fullmatch(code):
            errors.append({"field": code, "code": "purpose_code_invalid", "message": "a-z, 0-9, _"})
            continue
        labels = entry if isinstance(entry, dict) else {}
        zh, en = labels.get("label_zh"), labels.get("label_en")
        if not isinstance(zh, str) or not zh.strip() or not isinstance(en, str) or not en.strip():
            errors.append(
                {"field": code, "code": "purpose_labels", "message": "needs label_zh and label_en"}
            )
            continue
        by_code[code] = ProcessingPurpose(code, zh.strip(), en.strip())
    if errors:
        raise ValidationFailed(errors)
    return PurposeCatalog(tuple(by_code.values()))


def load_purposes(home: Path) -> PurposeCatalog:
    """The catalog of BAOMI_HOME/purposes.toml (the defaults when there is none)."""
    path = home / PURPOSES_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return PurposeCatalog()
    try:
        return build_purposes(tomllib.loads(text))
    except tomllib.TOMLDecodeError as error:
        raise ValidationFailed(
            [{"field": str(path), "code": "file_not_toml", "message": str(error)}]
        ) from None
