"""The access-request form (C4.3.1): what it offers, how it reads, and how a request reads back.

The form asks for customers by id, the whole record or named fields, a purpose (a code for the
kind of work and a sentence for which piece of work) and a duration. The code travels inside the
request's purpose as "[code] text", so the API and the audit log carry it unchanged and every
reader sees it in their own language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import ValidationError

from baomi.access.schemas import MAX_CUSTOMERS, MAX_HOURS, AccessRequestIn
from baomi.customers.fields import COMMUNICATIONS, FIELDS, Kind
from baomi.ids import is_id
from baomi.web.i18n import N_


class Purpose(StrEnum):
    """The kind of work that needs the data (C4.3.1, C4.3.4: purpose on every request)."""

    FOLLOW_UP = "follow_up"
    CONTRACT = "contract"
    SERVICE = "service"
    HANDOVER = "handover"
    COMPLIANCE = "compliance"
    OTHER = "other"


PURPOSE_LABELS = {
    Purpose.FOLLOW_UP: N_("Following up the customer"),
    Purpose.CONTRACT: N_("Quotation or contract"),
    Purpose.SERVICE: N_("After-sales service or complaint"),
    Purpose.HANDOVER: N_("Taking over from a colleague"),
    Purpose.COMPLIANCE: N_("Compliance check"),
    Purpose.OTHER: N_("Other (say what)"),
}

# The fields of a record by C2.1's five kinds, in the order the form offers them.
KIND_LABELS = {
    Kind.IDENTITY: N_("(a) Identity and contacts"),
    Kind.TRANSACTION: N_("(b) Transactions"),
    Kind.NEEDS: N_("(c) Needs and intent"),
    Kind.SENSITIVE: N_("(d) Sensitive information"),
    Kind.COMMUNICATION: N_("(e) Communication records"),
}
FIELD_LABELS = {
    "name": N_("Name"),
    "contacts": N_("Contact people"),
    "phones": N_("Phone numbers"),
    "emails": N_("E-mail addresses"),
    "address": N_("Address"),
    "id_number": N_("ID or credit code"),
    "purchases": N_("Purchases"),
    "contract_terms": N_("Contract terms"),
    "prices": N_("Prices"),
    "payment_methods": N_("Payment details"),
    "requirements": N_("Requirements"),
    "purchase_intent": N_("Purchase intent"),
    "competitor_products": N_("Competitor products in use"),
    "notes": N_("Sensitive notes"),
    COMMUNICATIONS: N_("Communication records"),
}
FIELD_GROUPS: list[tuple[str, list[str]]] = [
    (KIND_LABELS[kind], [n for n, spec in FIELDS.items() if spec.kind is kind])
    for kind in Kind
    if kind is not Kind.COMMUNICATION
] + [(KIND_LABELS[Kind.COMMUNICATION], [COMMUNICATIONS])]
FIELD_NAMES = frozenset(FIELD_LABELS)

# Durations the form offers, in hours: half a day up to a month (the service allows up to 90 days).
DURATIONS = (4, 8, 24, 72, 168, 336, 720)
DEFAULT_DURATION = 24

ERRORS = {
    "customer_ids": N_("Give between 1 and %(max)s customer ids, separated by spaces or commas."),
    "customer_id_format": N_(
        "%(value)s is not a customer id (36 characters, like the ones in links)."
    ),
    "fields": N_("Choose at least one field, or ask for the whole record."),
    "purpose_code": N_("Choose the kind of work."),
    "processing_purpose": N_("Choose what the data will be used for."),
    "purpose_text": N_("Say which piece of work needs it, in 2 to 900 characters."),
    "duration_hours": N_("Choose how long you need access."),
}
PURPOSE_TEXT_MAX = 900
_SPLIT = re.compile(r"[\s,，;；]+")
_PURPOSE = re.compile(r"^\[([a-z_]+)\] (.*)$", re.DOTALL)


@dataclass
class RequestForm:
    """What the person typed, kept to show the form again after an error (nothing is lost)."""

    customer_ids: str = ""
    scope: str = "record"
    fields: list[str] = field(default_factory=list)
    purpose_code: str = ""
    # C4.3.4: the processing purpose the customers' consents must cover (GET /api/v1/purposes).
    processing_purpose: str = ""
    purpose_text: str = ""
    duration_hours: int = DEFAULT_DURATION
    errors: dict[str, str] = field(default_factory=dict)
    # Values for %-placeholders in the error messages, by field.
    error_args: dict[str, dict[str, object]] = field(default_factory=dict)


def prefilled(customer: str | None) -> RequestForm:
    """An empty form, with the customer of a `?customer=` link when it is a well-formed id."""
    return RequestForm(customer_ids=customer if customer and is_id(customer) else "")


def read(form: RequestForm) -> AccessRequestIn | None:
    """Check the form; return the request to file, or None with `form.errors` filled."""
    ids = [part for part in _SPLIT.split(form.customer_ids.strip()) if part]
    ids = list(dict.fromkeys(ids))
    if not 1 <= len(ids) <= MAX_CUSTOMERS:
        form.errors["customer_ids"] = ERRORS["customer_ids"]
        form.error_args["customer_ids"] = {"max": MAX_CUSTOMERS}
    elif bad := next((i for i in ids if not is_id(i)), None):
        form.errors["customer_ids"] = ERRORS["customer_id_format"]
        form.error_args["customer_ids"] = {"value": bad[:40]}
    chosen = sorted(set(form.fields) & FIELD_NAMES)
    if form.scope == "fields" and not chosen:
        form.errors["fields"] = ERRORS["fields"]
    if form.purpose_code not in set(Purpose):
        form.errors["purpose_code"] = ERRORS["purpose_code"]
    if not form.processing_purpose:
        form.errors["processing_purpose"] = ERRORS["processing_purpose"]
    text = " ".join(form.purpose_text.split())
    if not 2 <= len(text) <= PURPOSE_TEXT_MAX:
        form.errors["purpose_text"] = ERRORS["purpose_text"]
    if not 1 <= form.duration_hours <= MAX_HOURS:
        form.errors["duration_hours"] = ERRORS["duration_hours"]
    if form.errors:
        return None
    try:
        return AccessRequestIn(
            customer_ids=ids,
            fields=chosen if form.scope == "fields" else None,
            purpose=f"[{form.purpose_code}] {text}",
            purpose_code=form.processing_purpose,
            duration_hours=form.duration_hours,
        )
    except ValidationError:  # the checks above mirror the schema; this is the safety net
        form.errors["purpose_text"] = ERRORS["purpose_text"]
        return None


@dataclass(frozen=True, slots=True)
class PurposeText:
    """A stored purpose split into its code's label (a msgid) and the person's own words."""

    label: str | None
    text: str


def purpose_of(stored: str) -> PurposeText:
    """Read "[code] text" back; a purpose filed through the API without a code stays as it is."""
    found = _PURPOSE.match(stored)
    if found and found.group(1) in set(Purpose):
        return PurposeText(PURPOSE_LABELS[Purpose(found.group(1))], found.group(2))
    return PurposeText(None, stored)


@dataclass(frozen=True, slots=True)
class Span:
    """A length of time as days, hours and minutes, for ngettext in templates."""

    days: int
    hours: int
    minutes: int


def span(delta: timedelta) -> Span:
    minutes = max(int(delta.total_seconds() // 60), 0)
    return Span(days=minutes // (24 * 60), hours=minutes // 60 % 24, minutes=minutes % 60)


def time_left(ends_at: datetime, now: datetime) -> Span:
    """How long a grant still runs (C4.2.1: it ends by itself)."""
    return span(ends_at - now)
