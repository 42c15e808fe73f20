"""The field catalog of a customer record: C2.1's five kinds, each field's sensitivity and mask."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from baomi.security import levels
from baomi.security.masking import (
    mask_account,
    mask_email,
    mask_identifier,
    mask_person_name,
    mask_phone,
    mask_text,
)
from baomi.security.sensitivity import Sensitivity


class Kind(StrEnum):
    """C2.1 (a)–(e)."""

    IDENTITY = "identity"
    TRANSACTION = "transaction"
    NEEDS = "needs"
    SENSITIVE = "sensitive"
    COMMUNICATION = "communication"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    kind: Kind
    sensitivity: Sensitivity
    mask: Callable[[Any], Any]
    # Blind-index name for the company-wide duplicate check (C4.1.3), if any.
    index: str | None = None


def _each(mask: Callable[[str], str]) -> Callable[[Any], Any]:
    return lambda values: [mask(v) for v in values]


def _mask_contacts(contacts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "name": mask_person_name(c.get("name", "")),
            "title": c.get("title", ""),
            "phones": [mask_phone(p) for p in c.get("phones", [])],
            "emails": [mask_email(e) for e in c.get("emails", [])],
        }
        for c in contacts
    ]


def _mask_payments(methods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"type": m.get("type", ""), "account": mask_account(m.get("account", ""))} for m in methods
    ]


_S, _C, _N = Sensitivity.SENSITIVE, Sensitivity.CONTACT, Sensitivity.NORMAL

FIELDS: dict[str, FieldSpec] = {
    spec.name: spec
    for spec in (
        FieldSpec("name", Kind.IDENTITY, _N, mask_text, index="name"),
        FieldSpec("contacts", Kind.IDENTITY, _C, _mask_contacts),
        FieldSpec("phones", Kind.IDENTITY, _C, _each(mask_phone), index="phone"),
        FieldSpec("emails", Kind.IDENTITY, _C, _each(mask_email), index="email"),
        FieldSpec("address", Kind.IDENTITY, _C, mask_text),
        FieldSpec("id_number", Kind.IDENTITY, _S, mask_identifier, index="id_number"),
        FieldSpec("purchases", Kind.TRANSACTION, _N, mask_text),
        FieldSpec("contract_terms", Kind.TRANSACTION, _N, mask_text),
        FieldSpec("prices", Kind.TRANSACTION, _N, mask_text),
        FieldSpec("payment_methods", Kind.TRANSACTION, _S, _mask_payments),
        FieldSpec("requirements", Kind.NEEDS, _N, mask_text),
        FieldSpec("purchase_intent", Kind.NEEDS, _N, mask_text),
        FieldSpec("competitor_products", Kind.NEEDS, _N, mask_text),
        FieldSpec("notes", Kind.SENSITIVE, _S, mask_text),
    )
}

# Communication records (C2.1 e) live in their own table; access to them follows this pseudo-field.
COMMUNICATIONS = "communications"
SENSITIVITY: dict[str, Sensitivity] = {name: spec.sensitivity for name, spec in FIELDS.items()}
# The level rules mask record fields by name (C2.2); security/ learns the names from here.
levels.describe_fields({name: spec.sensitivity for name, spec in FIELDS.items()})
SENSITIVITY[COMMUNICATIONS] = Sensitivity.NORMAL
LIST_FIELDS = frozenset({"contacts", "phones", "emails", "purchases", "payment_methods"})


def fields_of_kinds(kinds: frozenset[str]) -> frozenset[str]:
    """The field names that hold these kinds of data (C2.1), communications included."""
    names = {name for name, spec in FIELDS.items() if spec.kind.value in kinds}
    if Kind.COMMUNICATION.value in kinds:
        names.add(COMMUNICATIONS)
    return frozenset(names)
