"""Validate and normalise customer input field by field (C4.1.1: keep data true and complete).

Every problem is collected with its field path, so one response names all of them, and a stable
code (`phone_invalid`, `bank_card_checksum` …) by which clients, the web UI included, tell it.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from stdnum import luhn
from stdnum.cn import uscc
from stdnum.exceptions import ValidationError as StdnumError

from baomi.crypto import normalize
from baomi.customers.schemas import CHANNELS, PAYMENT_TYPES, CustomerData
from baomi.detect.checks import resident_id
from baomi.errors import FieldError, ValidationFailed

# CHANNELS and PAYMENT_TYPES live with the shapes, whose JSON schema lists them (schemas.py).
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class _Errors:
    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def add(self, field: str, code: str, message: str) -> None:
        self.items.append({"field": field, "code": code, "message": message})


def _phone(value: str, path: str, errors: _Errors) -> str | None:
    try:
        return normalize.phone(value)
    except ValueError:
        errors.add(
            path, "phone_invalid", "not a valid phone number (mainland numbers may omit +86)"
        )
        return None


def is_email(value: str) -> bool:
    """Whether `value` has the shape of an e-mail address (what filing accepts)."""
    return bool(_EMAIL.match(value.strip())) and len(value.strip()) <= 254


def _email(value: str, path: str, errors: _Errors) -> str | None:
    value = value.strip()
    if not _EMAIL.match(value) or len(value) > 254:
        errors.add(path, "email_invalid", "not a valid email address")
        return None
    return value


def id_number(value: str, path: str = "id_number") -> tuple[str, str]:
    """Return (compact value, "ric" | "uscc") or raise ValidationFailed."""
    compact = normalize.id_number(value)
    # C4.1.1: a resident ID is held to its check digit, birth date and province only. stdnum's
    # `ric.validate` also looks the county up in the years it existed, and refuses the numbers
    # of counties merged away or renamed since, which their people still carry (issue 12).
    if resident_id(compact):
        return compact, "ric"
    try:
        uscc.validate(compact)
        return compact, "uscc"
    except StdnumError:
        pass
    raise ValidationFailed(
        [
            {
                "field": path,
                "code": "id_number_invalid",
                "message": "not a valid resident ID number (居民身份证号) or unified social "
                "credit code (统一社会信用代码): check digit or format is wrong",
            }
        ]
    )


def _purchase(item: dict[str, Any], path: str, errors: _Errors) -> None:
    try:
        date.fromisoformat(item["date"])
    except ValueError:
        errors.add(f"{path}.date", "date_invalid", "use an ISO date, YYYY-MM-DD")
    try:
        amount = Decimal(item["amount"])
        if not amount.is_finite() or amount < 0:
            raise InvalidOperation
    except InvalidOperation:
        errors.add(
            f"{path}.amount", "amount_invalid", "use a non-negative decimal amount, e.g. 12800.00"
        )


def _payment(item: dict[str, Any], path: str, errors: _Errors) -> None:
    if item["type"] not in PAYMENT_TYPES:
        errors.add(
            f"{path}.type", "payment_type_unknown", f"use one of {', '.join(sorted(PAYMENT_TYPES))}"
        )
    if item["type"] == "bank_card":
        digits = item["account"].replace(" ", "")
        if not (digits.isdigit() and 12 <= len(digits) <= 19):
            errors.add(
                f"{path}.account", "bank_card_length", "a bank card number has 12 to 19 digits"
            )
        else:
            try:
                luhn.validate(digits)
                item["account"] = digits
            except StdnumError:
                errors.add(
                    f"{path}.account",
                    "bank_card_checksum",
                    "bank card number fails its check digit (Luhn)",
                )


def validated_fields(data: CustomerData) -> tuple[dict[str, Any], str | None]:
    """Return the given fields as plain, normalised values and the ID type if an ID was given."""
    errors = _Errors()
    # Only the fields the caller set (a PATCH leaves the others alone), each dumped whole so
    # that nested defaults (a contact's empty phone list) are filled in.
    given = data.model_fields_set & set(CustomerData.model_fields)
    values = data.model_dump(include=given)
    id_type: str | None = None
    if values.get("name") is not None:
        values["name"] = values["name"].strip()
        if not values["name"]:
            errors.add("name", "blank", "must not be blank")
    for key, check in (("phones", _phone), ("emails", _email)):
        if values.get(key) is not None:
            values[key] = [check(v, f"{key}[{i}]", errors) for i, v in enumerate(values[key])]
    for i, contact in enumerate(values.get("contacts") or []):
        contact["phones"] = [
            _phone(p, f"contacts[{i}].phones[{j}]", errors) for j, p in enumerate(contact["phones"])
        ]
        contact["emails"] = [
            _email(e, f"contacts[{i}].emails[{j}]", errors) for j, e in enumerate(contact["emails"])
        ]
    if values.get("id_number"):
        try:
            values["id_number"], id_type = id_number(values["id_number"])
        except ValidationFailed as exc:
            errors.items.extend(exc.extra["errors"])
    elif "id_number" in values:
        values["id_number"], id_type = None, ""
    for i, purchase in enumerate(values.get("purchases") or []):
        _purchase(purchase, f"purchases[{i}]", errors)
    for i, method in enumerate(values.get("payment_methods") or []):
        _payment(method, f"payment_methods[{i}]", errors)
    if errors.items:
        raise ValidationFailed(errors.items)
    return values, id_type


def check_value(kind: str, value: Any) -> tuple[Any, FieldError | None]:
    """One value checked exactly as `validated_fields` checks it, for input taken leniently
    (customers/intake.py): (normalised value, None), or (None, the problem).

    `kind` is phone, email, id_number (the value becomes (compact, "ric" | "uscc")), purchase
    or payment (a dict, normalised in place, as in a record).
    """
    errors = _Errors()
    out: Any
    if kind == "phone":
        out = _phone(value, kind, errors)
    elif kind == "email":
        out = _email(value, kind, errors)
    elif kind == "id_number":
        try:
            out = id_number(value)
        except ValidationFailed as exc:
            errors.items.extend(exc.extra["errors"])
    elif kind in ("purchase", "payment"):
        (_purchase if kind == "purchase" else _payment)(value, kind, errors)
        out = value
    else:
        raise ValueError(f"no check for {kind!r}")
    return (None, errors.items[0]) if errors.items else (out, None)


def channel(value: str) -> str:
    if value not in CHANNELS:
        raise ValidationFailed(
            [
                {
                    "field": "channel",
                    "code": "channel_unknown",
                    "message": f"use one of {', '.join(sorted(CHANNELS))}",
                }
            ]
        )
    return value
