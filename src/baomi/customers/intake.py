"""Input taken leniently for bulk filing: each value checked, an invalid one kept out and named.

`service.create` refuses a record with any invalid value (422, every problem listed): a person
at a form corrects it and sends it again. A ledger being imported (C4.1.3) cannot be corrected
row by row while it runs, and refusing a customer for one mistyped phone would lose the rest of
it. So `prepare` checks every value with the validators `create` uses (customers/validation.py:
phone, e-mail, 居民身份证 or 统一社会信用代码 check digits, bank card Luhn, dates, amounts,
lengths), keeps each valid value, and returns each invalid one as a `Problem`: never dropped
silently (C4.1.1: keep data true and complete). A record whose name is missing is not one
(`identity` is False); its other values are still checked and reported.

What `prepare` returns is what bulk filing (customers/bulk.py) accepts: values it has checked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from baomi.customers.schemas import Contact, CustomerData, PaymentMethod, Purchase
from baomi.customers.validation import check_value
from baomi.customers.vault import normalized_for
from baomi.errors import FieldError

# The text fields and their length limits, read from the shapes `create` takes (schemas.py).
_TEXTS = {
    name: next(
        m.max_length for m in CustomerData.model_fields[name].metadata if hasattr(m, "max_length")
    )
    for name in (
        "address",
        "contract_terms",
        "prices",
        "requirements",
        "purchase_intent",
        "competitor_products",
        "notes",
    )
}
_NAME_MAX = 200
# A contact's phones and e-mails are held to ten each (schemas.Contact), the record's to 20.
_LIST_MAX = {"phones": 20, "emails": 20, "contacts": 50, "purchases": 500, "payment_methods": 20}
_CONTACT_LISTS = 10
_CONTACT_MAX = {"name": 100, "title": 100}
_ITEM_MAX = 200
_ACCOUNT_MAX = 64
# The record's own identifiers, which make it the same customer as another (as 查重 on filing
# looks them up: customers/duplicates.py), and the blind index each is in.
_OWN = (("id_number", "id_number"), ("phones", "phone"), ("emails", "email"))
_KNOWN = frozenset(CustomerData.model_fields)
# Made only here: bulk filing accepts a record only with it (it does not check values again).
_CHECKED = object()


@dataclass(frozen=True, slots=True)
class Problem:
    """One value kept out of a record: the field, the value as given (for the caller to mask
    before showing it: it may be an identifier), and the validators' code."""

    field: str
    value: str
    code: str


@dataclass(frozen=True, slots=True)
class Prepared:
    """A record checked by `prepare`: its valid values, normalised as `create` stores them."""

    values: dict[str, Any]
    id_type: str | None
    problems: tuple[Problem, ...]
    # (index, normalised term) of its own identifiers: what 查重 looks up when it is filed.
    probes: tuple[tuple[str, str], ...]
    # The same and its contacts' phones and e-mails: what the blind indexes will hold for it.
    indexed: tuple[tuple[str, str], ...]
    token: object

    @property
    def identity(self) -> bool:
        """Whether it names a customer (it has a name), and so may be filed."""
        return bool(self.values.get("name"))


class _Collect:
    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, field: str, value: Any, code: str) -> None:
        self.items.append(Problem(field, "" if value is None else str(value), code))


def prepare(raw: Mapping[str, Any]) -> Prepared:
    """Check a record given as plain values (CustomerData's fields, strings as typed; the ID
    number may be several, in order: the first valid one is the record's)."""
    if unknown := set(raw) - _KNOWN:
        raise ValueError(f"not fields of a customer: {sorted(unknown)}")
    problems = _Collect()
    values: dict[str, Any] = {}
    name = (raw.get("name") or "").strip()
    if not name:
        problems.add("name", raw.get("name"), "blank")
    elif len(name) > _NAME_MAX:
        problems.add("name", name, "too_long")
    else:
        values["name"] = name
    for field, limit in _TEXTS.items():
        text = (raw.get(field) or "").strip()
        if len(text) > limit:
            problems.add(field, text, "too_long")
        elif text:
            values[field] = text
    for field, kind in (("phones", "phone"), ("emails", "email")):
        if items := _checked_list(field, kind, raw.get(field) or [], problems):
            values[field] = items
    id_type: str | None = None
    for given in _candidates(raw.get("id_number")):
        compact, problem = check_value("id_number", given)
        if problem is not None:
            problems.add("id_number", given, problem["code"])
        elif "id_number" not in values:
            values["id_number"], id_type = compact
        elif compact[0] != values["id_number"]:
            # A record holds one ID number or credit code: a second one is named, not lost.
            problems.add("id_number", given, "id_number_extra")
    for field, shape in (
        ("contacts", _contact),
        ("purchases", _purchase),
        ("payment_methods", _payment),
    ):
        kept = [item for item in (shape(i, problems) for i in raw.get(field) or []) if item]
        if kept := _limited(field, kept, problems):
            values[field] = kept
    probes = _terms(values, own_only=True)
    return Prepared(
        values=values,
        id_type=id_type,
        problems=tuple(problems.items),
        probes=probes,
        indexed=_terms(values, own_only=False),
        token=_CHECKED,
    )


def _candidates(given: str | list[str] | None) -> list[str]:
    """The ID numbers given, in order (a ledger may have a 身份证号 and a 信用代码 column)."""
    items = given if isinstance(given, list) else [given or ""]
    return [item.strip() for item in items if (item or "").strip()]


def checked(item: Prepared) -> bool:
    """Whether `item` was made by `prepare` (bulk filing takes nothing else)."""
    return item.token is _CHECKED


def _limited(field: str, items: list[Any], problems: _Collect) -> list[Any]:
    limit = _CONTACT_LISTS if field.startswith("contacts.") else _LIST_MAX[field]
    for extra in items[limit:]:
        problems.add(field, extra if isinstance(extra, str) else "", "too_many")
    return items[:limit]


def _checked_list(field: str, kind: str, given: Iterable[str], problems: _Collect) -> list[str]:
    """Valid values in order, each once (138 0013 8000 and +8613800138000 are one phone)."""
    kept: list[str] = []
    for value in given:
        if not (value or "").strip():
            continue
        out, problem = check_value(kind, value)
        if problem is not None:
            problems.add(field, value, problem["code"])
        elif out not in kept:
            kept.append(out)
    return _limited(field, kept, problems)


def _contact(item: Mapping[str, Any], problems: _Collect) -> dict[str, Any] | None:
    name = (item.get("name") or "").strip()
    title = (item.get("title") or "").strip()
    if len(title) > _CONTACT_MAX["title"]:
        problems.add("contacts.title", title, "too_long")
        title = ""
    phones = _checked_list("contacts.phones", "phone", item.get("phones") or [], problems)
    emails = _checked_list("contacts.emails", "email", item.get("emails") or [], problems)
    if not name or len(name) > _CONTACT_MAX["name"]:
        if name or phones or emails:
            problems.add("contacts.name", name, "blank" if not name else "too_long")
        return None
    return _shaped(Contact, {"name": name, "title": title, "phones": phones, "emails": emails})


def _purchase(item: Mapping[str, Any], problems: _Collect) -> dict[str, Any] | None:
    text = (item.get("item") or "").strip()
    purchase = {
        "date": str(item.get("date") or "").strip(),
        "item": text,
        "amount": str(item.get("amount") or "").strip(),
        "currency": (item.get("currency") or "CNY").strip().upper(),
    }
    if not text or len(text) > _ITEM_MAX:
        problems.add("purchases.item", text, "blank" if not text else "too_long")
        return None
    if len(purchase["currency"]) != 3:
        problems.add("purchases.currency", purchase["currency"], "currency_invalid")
        return None
    checked_item, problem = check_value("purchase", purchase)
    if problem is not None:
        problems.add(
            problem["field"].replace("purchase", "purchases"),
            _shown(problem, purchase),
            problem["code"],
        )
        return None
    return _shaped(Purchase, checked_item, problems, "purchases")


def _payment(item: Mapping[str, Any], problems: _Collect) -> dict[str, Any] | None:
    method = {"type": str(item.get("type") or ""), "account": str(item.get("account") or "")}
    if len(method["account"]) > _ACCOUNT_MAX:
        problems.add("payment_methods.account", method["account"], "too_long")
        return None
    checked_item, problem = check_value("payment", method)
    if problem is not None:
        problems.add(
            problem["field"].replace("payment", "payment_methods"),
            _shown(problem, method),
            problem["code"],
        )
        return None
    return _shaped(PaymentMethod, checked_item, problems, "payment_methods")


def _shaped(
    shape: type[BaseModel],
    item: dict[str, Any],
    problems: _Collect | None = None,
    field: str = "contacts",
) -> dict[str, Any] | None:
    """The item as the record stores it (the shape's dump, as `create` stores it); one the shape
    refuses still (a value past its length) is a problem too."""
    try:
        return shape.model_validate(item).model_dump()
    except ValidationError as error:
        if problems is not None:
            where = ".".join(str(part) for part in error.errors()[0]["loc"])
            problems.add(f"{field}.{where}", item.get(where, ""), "too_long")
        return None


def _shown(problem: FieldError, item: Mapping[str, Any]) -> str:
    """The value a problem of a purchase or payment is about ("purchase.amount" → amount)."""
    return str(item.get(problem["field"].rsplit(".", 1)[-1], ""))


def _terms(values: Mapping[str, Any], *, own_only: bool) -> tuple[tuple[str, str], ...]:
    terms: list[tuple[str, str]] = []
    for field, index in _OWN:
        value = values.get(field)
        for item in value if isinstance(value, list) else [value] if value else []:
            terms.append((index, normalized_for(index, item)))
    if not own_only:
        for contact in values.get("contacts") or []:
            terms.extend(("phone", normalized_for("phone", p)) for p in contact["phones"])
            terms.extend(("email", normalized_for("email", e)) for e in contact["emails"])
    return tuple(dict.fromkeys(terms))
