"""Identifiers written into a ledger's free text: flagged, and moved into their fields if asked.

A phone or an ID number in 备注 is protected only as the note is: no blind index finds it for
查重 and no mask shows it as a phone (C4.3.2). The import finds them with the project's detector
(baomi.detect, check digits and all), names each in the report (kind, masked value, the field it
belongs in) and, when the person importing asks for it (`move`), takes it out of the text and
into that field, where the door checks it again like any other value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from baomi.detect import Found, find_sensitive
from baomi.imports.masks import masked

# The record's free-text fields scanned, in the order they are reported.
SCANNED = (
    "notes",
    "requirements",
    "purchase_intent",
    "competitor_products",
    "contract_terms",
    "prices",
    "address",
)
# The field each kind belongs in.
MOVE_TO = {
    "phone": "phones",
    "email": "emails",
    "id_number": "id_number",
    "uscc": "id_number",
    "bank_card": "payment_methods",
}


@dataclass(frozen=True, slots=True)
class InText:
    """One identifier found in a free-text field of a row."""

    field: str
    kind: str
    value_masked: str
    move_to: str
    moved: bool


def scan(raw: dict[str, Any], *, move: bool) -> list[InText]:
    """Find identifiers in the record's free texts; with `move`, move them into their fields."""
    found: list[InText] = []
    for name in SCANNED:
        text = raw.get(name)
        if not text or not _may_hold(text):
            continue
        hits = find_sensitive(text)
        if not hits:
            continue
        for hit in hits:
            found.append(
                InText(name, hit.kind, masked(hit.kind, hit.value), MOVE_TO[hit.kind], move)
            )
            if move:
                _add(raw, hit)
        if move:
            raw[name] = _without(text, hits)
    return found


# Every identifier the detector finds has six digits at least (a credit code's region code; a
# phone has ten or more, an ID number 17, a card 16) or is an e-mail: text with neither is not
# handed to it, which saves most of its cost on a ledger's notes ("老客户，年底回访").
_SIX_DIGITS = re.compile(r"(?:\D*\d){6}")


def _may_hold(text: str) -> bool:
    return "@" in text or "＠" in text or _SIX_DIGITS.match(text) is not None


def _add(raw: dict[str, Any], hit: Found) -> None:
    target = MOVE_TO[hit.kind]
    if target == "payment_methods":
        raw.setdefault(target, []).append({"type": "bank_card", "account": hit.value})
    elif target == "id_number":
        given = raw.get(target) or []
        raw[target] = [*(given if isinstance(given, list) else [given]), hit.value]
    else:
        raw.setdefault(target, []).append(hit.value)


def _without(text: str, hits: list[Found]) -> str:
    """The text with the identifiers taken out (and the gaps they leave tidied)."""
    parts, last = [], 0
    for hit in hits:
        parts.append(text[last : hit.start])
        last = hit.end
    parts.append(text[last:])
    return " ".join(" ".join(parts).split())
