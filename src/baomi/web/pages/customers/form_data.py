"""The customer form's values: read from a submitted form, or from a record for editing, and
turned into the body the service takes (the API's CustomerIn / CustomerPatch).

A draft keeps every value as the person typed it, so a form refused by validation comes back
exactly as sent (nothing is lost); blank rows and lines are dropped first, so that the row and
line numbers in the service's error paths (`contacts[1].phones[0]`) are the ones on screen.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from baomi.customers.schemas import CustomerOut

# Inputs that hold one value (a line, a text block, a choice).
SCALARS = (
    "name",
    "address",
    "id_number",
    "contract_terms",
    "prices",
    "requirements",
    "purchase_intent",
    "competitor_products",
    "notes",
)
# Lists entered one value per line.
LINES = ("phones", "emails")
# Lists of small records, entered as rows of inputs.
ROWS: dict[str, tuple[str, ...]] = {
    "contacts": ("name", "title", "phones", "emails"),
    "purchases": ("date", "item", "amount", "currency"),
    "payment_methods": ("type", "account"),
}
# Facts about the record (not encrypted customer data).
FACTS = ("level", "source", "lawful_basis", "handler_id", "confidential_until")
EXTRA_ROWS = 2
_MAX_ROWS = {"contacts": 50, "purchases": 500, "payment_methods": 20}
_SPLIT = re.compile(r"[\n,，;；、]+")


def _items(text: str) -> list[str]:
    return [part.strip() for part in _SPLIT.split(text) if part.strip()]


@dataclass
class Draft:
    """The form's values as text, the way the inputs show them."""

    text: dict[str, str] = field(default_factory=dict)
    rows: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    def value(self, name: str) -> str:
        return self.text.get(name, "")

    def rows_of(self, name: str) -> list[dict[str, str]]:
        """The rows to show: those filled in, then a few blank ones to add more."""
        filled = self.rows.get(name, [])
        blank = {column: "" for column in ROWS[name]}
        return [*filled, *({**blank} for _ in range(EXTRA_ROWS))]

    def inputs(self) -> list[str]:
        """Every input name of the form (where a field's error message is placed)."""
        names = [*SCALARS, *LINES, *FACTS]
        for row_field, columns in ROWS.items():
            names.append(row_field)
            for i in range(len(self.rows_of(row_field))):
                names.extend(f"{row_field}-{i}-{column}" for column in columns)
        return names

    @classmethod
    def from_form(cls, form: Mapping[str, Any]) -> Draft:
        """Read a submitted customer form; blank lines and blank rows are dropped."""
        text: dict[str, str] = {}
        for name in (*SCALARS, *FACTS):
            value = form.get(name)
            if isinstance(value, str):
                text[name] = value.replace("\r\n", "\n").strip()
        for name in LINES:
            value = form.get(name)
            if isinstance(value, str):
                text[name] = "\n".join(_items(value))
        rows: dict[str, list[dict[str, str]]] = {}
        for name, columns in ROWS.items():
            found = []
            for i in range(_MAX_ROWS[name] + EXTRA_ROWS):
                row = {c: _text(form.get(f"{name}-{i}-{c}")) for c in columns}
                if any(row.values()):
                    found.append(row)
            rows[name] = found
        return cls(text=text, rows=rows)

    @classmethod
    def from_customer(cls, customer: CustomerOut, *, masked: frozenset[str]) -> Draft:
        """The form of an existing record; masked fields start empty (typing replaces them)."""
        data = customer.data
        text: dict[str, str] = {
            "level": customer.level,
            "source": customer.source,
            "lawful_basis": customer.lawful_basis,
            "handler_id": customer.handler.id,
            "confidential_until": _day(customer.confidential_until),
        }
        rows: dict[str, list[dict[str, str]]] = {}
        for name in (*SCALARS, *LINES, *ROWS):
            value = None if name in masked else data.get(name)
            if name in ROWS:
                rows[name] = [_row(name, item) for item in value or []]
            elif name in LINES:
                text[name] = "\n".join(value or [])
            else:
                text[name] = "" if value is None else str(value)
        return cls(text=text, rows=rows)

    def body(self, *, fields: frozenset[str] | None = None) -> dict[str, Any]:
        """The service's body for the named fields (all when None); blank values are None."""
        out: dict[str, Any] = {}
        for name in SCALARS:
            if fields is None or name in fields:
                out[name] = self.text.get(name) or None
        if "name" in out:
            out["name"] = self.text.get("name", "")  # required: blank is an error, not a clear
        for name in LINES:
            if fields is None or name in fields:
                out[name] = _items(self.text.get(name, "")) or None
        for name in ROWS:
            if fields is None or name in fields:
                out[name] = [_record(name, row) for row in self.rows.get(name, [])] or None
        return out

    def changed(self, original: Draft, *, masked: frozenset[str]) -> frozenset[str]:
        """The data fields whose values differ from the record's (a masked one: if typed in)."""
        names = set()
        for name in (*SCALARS, *LINES):
            if name in masked:
                if self.text.get(name):
                    names.add(name)
            elif self.text.get(name, "") != original.text.get(name, ""):
                names.add(name)
        for name in ROWS:
            if name in masked:
                if self.rows.get(name):
                    names.add(name)
            elif self.rows.get(name, []) != original.rows.get(name, []):
                names.add(name)
        return frozenset(names)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def _row(name: str, item: Mapping[str, Any]) -> dict[str, str]:
    if name == "contacts":
        return {
            "name": str(item.get("name", "")),
            "title": str(item.get("title", "")),
            "phones": ", ".join(item.get("phones", [])),
            "emails": ", ".join(item.get("emails", [])),
        }
    return {column: str(item.get(column, "")) for column in ROWS[name]}


def _record(name: str, row: Mapping[str, str]) -> dict[str, Any]:
    if name == "contacts":
        return {
            "name": row["name"],
            "title": row["title"],
            "phones": _items(row["phones"]),
            "emails": _items(row["emails"]),
        }
    if name == "purchases":
        return {
            "date": row["date"],
            "item": row["item"],
            "amount": row["amount"],
            "currency": row["currency"] or "CNY",
        }
    return dict(row)
