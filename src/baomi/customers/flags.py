"""Identifiers typed into the fields that are not protected as such (issue 12 item 3, C4.3.2).

A phone number in 需求 (requirements) or an ID number in a visit note is shown unmasked to
everyone who may read that field, and no blind index finds it: the masking and 查重 that
protect the identity fields do not reach it. Saving still succeeds (a note may have to quote a
number); the answer carries a warning naming the field and the kind of value, never the value,
and the audit event counts them, so the security officer can see where records leak into text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from baomi.customers.schemas import SensitiveFlag
from baomi.detect import find_sensitive
from baomi.detect.extract import Unreadable, text_of

# The record's free-text fields of normal sensitivity (customers/fields.py), which the level
# rules leave unmasked; the identity fields and 备注 (notes, sensitive) are masked already.
FLAGGED_FIELDS = (
    "requirements",
    "purchase_intent",
    "competitor_products",
    "purchases",
    "contract_terms",
    "prices",
)
# An attachment is scanned while it streams in, up to this much of it (a larger text file is
# scanned on its beginning; a larger docx, xlsx or pdf is not scanned: they cannot be read in
# part). Held in memory while the upload lasts, so bounded well below the 50 MiB file limit.
SCAN_BYTES = 8 * 1024 * 1024
# The field name a flag gives for a communication's text and for an attachment's content.
TEXT, FILE = "text", "file"


def in_text(field: str, text: str) -> list[SensitiveFlag]:
    """The kinds of identifiers in one text, counted, as flags of `field`."""
    counts: dict[str, int] = {}
    for found in find_sensitive(text):
        counts[found.kind] = counts.get(found.kind, 0) + 1
    return [SensitiveFlag(field=field, kind=kind, count=n) for kind, n in sorted(counts.items())]


def _texts(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):  # purchases: the item text of each
        for item in value:
            if isinstance(item, Mapping) and isinstance(item.get("item"), str):
                yield item["item"]


def in_fields(values: Mapping[str, Any], *, skip: Iterable[str] = ()) -> list[SensitiveFlag]:
    """Flags of the free-text fields among `values` (fields in `skip`, e.g. masked, left out)."""
    skipped = set(skip)
    flags: list[SensitiveFlag] = []
    for name in FLAGGED_FIELDS:
        value = values.get(name)
        if value is None or name in skipped:
            continue
        flags.extend(in_text(name, "\n".join(_texts(value))))
    return flags


def in_file(data: bytes, filename: str, *, complete: bool) -> list[SensitiveFlag]:
    """Flags of an attachment's content (`data` is all of it when `complete`)."""
    suffix = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if not complete and suffix not in (".txt", ".csv", ".eml"):
        return []
    try:
        text = text_of(data, suffix)
    except Unreadable:
        return []
    return in_text(FILE, text)


def audit_counts(flags: Iterable[SensitiveFlag]) -> dict[str, dict[str, int]]:
    """{field: {kind: count}} for an audit event's details: no value, ever."""
    out: dict[str, dict[str, int]] = {}
    for flag in flags:
        out.setdefault(flag.field, {})[flag.kind] = flag.count
    return out


def audit_details(values: Mapping[str, Any]) -> dict[str, Any]:
    """The audit detail of identifiers saved into a record's free-text fields, if any."""
    found = in_fields(values)
    return {"sensitive_in": audit_counts(found)} if found else {}
