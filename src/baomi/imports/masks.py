"""How a value is shown in an import's report: masked as the door masks it (C4.3.2).

The report of an import is a file people keep and pass on; it names every value that was kept
out or found in text so that someone can correct it, but an identifier in it is masked as the
customer page masks it (138****8000, 4401**********0037, z***@example.com, **** 0128), enough to
find it in the ledger, not to use it. Dates and amounts are no identifiers and are shown whole,
and so is a missing value (nothing to hide); free text is hidden whole.
"""

from __future__ import annotations

from baomi.security.masking import (
    HIDDEN,
    mask_account,
    mask_email,
    mask_identifier,
    mask_person_name,
    mask_phone,
)

_BY_KIND = {
    "phone": mask_phone,
    "email": mask_email,
    "id_number": mask_identifier,
    "uscc": mask_identifier,
    "bank_card": mask_account,
}
_BY_FIELD = {
    "phones": mask_phone,
    "contacts.phones": mask_phone,
    "emails": mask_email,
    "contacts.emails": mask_email,
    "id_number": mask_identifier,
    "payment_methods.account": mask_account,
    "name": mask_person_name,
    "contacts.name": mask_person_name,
}
# Shown as they are: they identify nobody, and the person must see what to correct.
_PLAIN = frozenset(
    {"purchases.date", "purchases.amount", "purchases.currency", "payment_methods.type"}
)


def masked(kind: str, value: str) -> str:
    """A found identifier of `kind` (the detector's kinds), masked."""
    return _BY_KIND[kind](value)


def masked_field(field: str, value: str) -> str:
    """A value of a record field as given in the file, masked for the report."""
    if not value or field in _PLAIN:
        return value
    mask = _BY_FIELD.get(field)
    return mask(value) if mask is not None else HIDDEN
