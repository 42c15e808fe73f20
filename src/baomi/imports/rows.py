"""One row of a ledger as a customer record's plain values, ready for the door's checks.

What a spreadsheet cell holds is not yet a value: a phone typed into Excel is often stored as
a number (13800138000.0), dates are datetimes, two phones share a cell ("138 0013 8000 /
021-6888 9999"), amounts carry ¥ and thousands separators. This module turns cells into the
strings the validators of the customers door take (customers/intake.py); it decides nothing
about validity itself, so that every value is judged by the same checks as one typed in a form.

Rows that are not customers are told apart here: blank rows, totals rows (合计, 总计 …), the
header repeated (a ledger printed in pages), and a note written across the sheet (注：…).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from baomi.imports.headers import Header, Target, fold


class Kind(StrEnum):
    DATA = "data"
    BLANK = "blank"
    TOTALS = "totals"
    HEADER = "header"
    NOTE = "note"


_TOTALS = ("合计", "总计", "小计", "共计", "总金额", "合计金额", "total", "subtotal")
_NOTE = re.compile(r"^(注|备注|说明|note)\s*[:：]")
# Several phones, e-mails or cards in one cell: split on what people put between them.
_LIST = re.compile(r"[/／,，;；、|\n\r]+")
_EMAILS = re.compile(r"[/／,，;；、|\s]+")
# A label typed before a number ("手机：138…", "座机 021-…"): everything before its first digit.
_LABEL = re.compile(r"^[^\d+＋(（０-９]*")
_MONEY = re.compile(r"[¥￥元,，\s]|人民币|rmb|cny", re.IGNORECASE)
_DAY = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
# The record's free-text fields each text target fills.
TEXTS = {
    Target.ADDRESS: "address",
    Target.NOTES: "notes",
    Target.REQUIREMENTS: "requirements",
    Target.INTENT: "purchase_intent",
    Target.COMPETITOR: "competitor_products",
    Target.CONTRACT: "contract_terms",
}


@dataclass(slots=True)
class Shaped:
    """A data row as plain values for customers intake, and where each came from."""

    raw: dict[str, Any] = field(default_factory=dict)
    # Record field -> the header of the column it came from, for the report.
    columns: dict[str, str] = field(default_factory=dict)
    # Values no record field can take as they are: (field, value, code), as the door's problems.
    problems: list[tuple[str, str, str]] = field(default_factory=list)


def text(value: Any) -> str:
    """A cell as the text a person sees in it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        # A number typed into a cell: 13800138000.0 is the phone 13800138000.
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def texts_of(cells: Sequence[Any]) -> list[str]:
    """Every cell of a row as text (`kind_of` and `shape` take these)."""
    return [text(c) for c in cells]


def kind_of(texts: Sequence[str], header: Header, folded_header: Sequence[str]) -> Kind:
    """Whether a row below the header holds a customer, or what else it is. Only what decides
    it is folded (a million rows: the fold of every cell would cost as much as the checks)."""
    filled = [t for t in texts if t]
    if not filled:
        return Kind.BLANK
    for first in filled[:3]:
        folded = fold(first)
        if folded in _TOTALS or folded.startswith(("合计", "总计")):
            return Kind.TOTALS
    if len(texts) >= len(folded_header) and all(
        fold(t) == h for t, h in zip(texts, folded_header, strict=False)
    ):
        return Kind.HEADER
    if len(filled) == 1 and _NOTE.match(unicodedata.normalize("NFKC", filled[0])):
        return Kind.NOTE
    return Kind.DATA


def shape(cells: Sequence[Any], texts: Sequence[str], header: Header) -> Shaped:
    """The record's plain values from a data row's cells (and their texts), column by column."""
    out = Shaped()
    raw = out.raw
    free: dict[str, list[str]] = {}
    purchase: dict[str, str] = {}
    labelled: list[tuple[str, str]] = []
    for i, target in header.columns.items():
        if i >= len(cells) or target is Target.IGNORE:
            continue
        value, cell = cells[i], texts[i]
        if not cell:
            continue
        column = header.cells[i]
        if target is Target.NAME:
            raw.setdefault("name", cell)
            out.columns.setdefault("name", column)
        elif target is Target.PHONES:
            raw.setdefault("phones", []).extend(_phones(cell))
            out.columns.setdefault("phones", column)
        elif target is Target.EMAILS:
            raw.setdefault("emails", []).extend(p for p in _EMAILS.split(cell) if p)
            out.columns.setdefault("emails", column)
        elif target is Target.ID_NUMBER:
            raw.setdefault("id_number", []).append(cell)
            out.columns.setdefault("id_number", column)
        elif target is Target.BANK_CARD:
            cards = raw.setdefault("payment_methods", [])
            cards.extend({"type": "bank_card", "account": _digits(c)} for c in _LIST.split(cell))
            out.columns.setdefault("payment_methods", column)
        elif target in (Target.CONTACT, Target.CONTACT_TITLE):
            contact = raw.setdefault("contacts", [{"name": ""}])[0]
            contact["name" if target is Target.CONTACT else "title"] = cell
            out.columns.setdefault("contacts", column)
        elif target in (Target.AMOUNT, Target.DATE, Target.ITEM):
            purchase.setdefault(target.value, _day(value, cell) if target is Target.DATE else cell)
            labelled.append((column, cell))
            out.columns.setdefault(f"purchases.{_PURCHASE[target]}", column)
        else:
            free.setdefault(TEXTS[target], []).append(cell)
            out.columns.setdefault(TEXTS[target], column)
    for name, parts in free.items():
        raw[name] = "；".join(parts)
    _purchase(out, purchase, labelled)
    return out


_PURCHASE = {Target.AMOUNT: "amount", Target.DATE: "date", Target.ITEM: "item"}


def _purchase(out: Shaped, given: dict[str, str], labelled: list[tuple[str, str]]) -> None:
    """A dated amount is a purchase; an amount or a product without a date cannot be one
    (its date is required, and none is made up: C4.1.1), so it is kept as price text. An
    amount is checked as the door checks a purchase's: a decimal, not negative."""
    if not given:
        return
    amount = _amount(given.get("amount", ""))
    if "date" in given and amount is not None:
        item = given.get("item") or "成交"
        out.raw["purchases"] = [{"date": given["date"], "item": item, "amount": amount}]
        return
    kept = []
    for column, cell in labelled:
        if column == out.columns.get("purchases.amount") and not _plain_amount(amount):
            out.problems.append(("purchases.amount", cell, "amount_invalid"))
            continue
        kept.append(
            f"{column}：{amount if column == out.columns.get('purchases.amount') else cell}"
        )
    if kept:
        out.raw["prices"] = "；".join(kept)
        out.columns["prices"] = out.columns.get("purchases.amount") or out.columns.get(
            "purchases.item", ""
        )


def _amount(cell: str) -> str | None:
    """The amount as a plain decimal (¥12,800.00 元 → 12800.00); the text as given when it is
    not one, for the door's check to name (amount_invalid)."""
    if not cell:
        return None
    plain = _MONEY.sub("", unicodedata.normalize("NFKC", cell))
    try:
        return str(Decimal(plain)) if plain else cell
    except InvalidOperation:
        return cell


def _plain_amount(amount: str | None) -> bool:
    try:
        value = Decimal(amount or "x")
    except InvalidOperation:
        return False
    return value.is_finite() and value >= 0


def _day(value: Any, cell: str) -> str:
    """An ISO date from a date cell or a written date (2025/3/1, 2025年3月1日)."""
    if isinstance(value, datetime | date):
        return (value.date() if isinstance(value, datetime) else value).isoformat()
    match = _DAY.match(unicodedata.normalize("NFKC", cell))
    if match is None:
        return cell  # the door's check names it (date_invalid)
    year, month, day = (int(g) for g in match.groups())
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return cell


def _phones(cell: str) -> list[str]:
    return [
        _LABEL.sub("", part).strip() or part.strip() for part in _LIST.split(cell) if part.strip()
    ]


def _digits(cell: str) -> str:
    """A card number without the spaces and dashes people group it with (full-width folded)."""
    return re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", cell))
