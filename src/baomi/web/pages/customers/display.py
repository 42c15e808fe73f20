"""How a customer record is laid out on the pages: C2.1's five kinds in order, each field's
label, and the names people read for the codes the services return."""

from __future__ import annotations

from dataclasses import dataclass

from baomi.customers.fields import COMMUNICATIONS, FIELDS, Kind
from baomi.customers.reasons import LABELS as REASON_LABELS
from baomi.customers.schemas import LawfulBasis
from baomi.web.i18n import N_

# Every field of the catalog has a label (tests/web/test_customers_pages.py checks it).
FIELD_LABELS = {
    "name": N_("Name"),
    "contacts": N_("Contact people"),
    "phones": N_("Phone numbers"),
    "emails": N_("E-mail addresses"),
    "address": N_("Address"),
    "id_number": N_("ID number or credit code"),
    "purchases": N_("Purchases"),
    "contract_terms": N_("Contract terms"),
    "prices": N_("Prices"),
    "payment_methods": N_("Payment methods"),
    "requirements": N_("Requirements"),
    "purchase_intent": N_("Purchase intent"),
    "competitor_products": N_("Competitor products in use"),
    "notes": N_("Sensitive notes"),
    COMMUNICATIONS: N_("Communication records"),
}


# Issue 12: what customers/flags.py finds in free text, and where besides the record's fields.
FLAG_KINDS = {
    "phone": N_("phone number"),
    "id_number": N_("resident ID number"),
    "uscc": N_("unified social credit code"),
    "bank_card": N_("bank card number"),
    "email": N_("e-mail address"),
}
FLAG_FIELDS = {
    **FIELD_LABELS,
    "text": N_("Communication text"),
    "file": N_("Attached file"),
}


@dataclass(frozen=True, slots=True)
class Section:
    """One of C2.1's kinds of customer data, with its fields in catalog order."""

    kind: str
    title: str
    clause: str
    fields: tuple[str, ...]


_TITLES = {
    Kind.IDENTITY: (N_("Identity and contacts"), "C2.1 (a)"),
    Kind.TRANSACTION: (N_("Transactions"), "C2.1 (b)"),
    Kind.NEEDS: (N_("Needs and intent"), "C2.1 (c)"),
    Kind.SENSITIVE: (N_("Sensitive information"), "C2.1 (d)"),
}
# The fifth kind, communication records (C2.1 (e)), is the timeline below the four sections.
SECTIONS = tuple(
    Section(
        kind=kind.value,
        title=title,
        clause=clause,
        fields=tuple(name for name, spec in FIELDS.items() if spec.kind is kind),
    )
    for kind, (title, clause) in _TITLES.items()
)
TIMELINE_TITLE = (N_("Communication records"), "C2.1 (e)")

# Fields kept as one text block (shown with line breaks, edited in a textarea).
LONG_TEXT = frozenset(
    {
        "address",
        "contract_terms",
        "prices",
        "requirements",
        "purchase_intent",
        "competitor_products",
        "notes",
    }
)

ACCESS_REASONS = {
    "handler": N_("You handle this customer"),
    "department_head": N_("Your department's customer"),
    "grant": N_("Through an access grant"),
}

LAWFUL_BASES = {
    LawfulBasis.CONSENT.value: N_("Consent of the person"),
    LawfulBasis.CONTRACT.value: N_("Concluding or performing a contract"),
    LawfulBasis.LEGAL_OBLIGATION.value: N_("A legal duty"),
    LawfulBasis.EMERGENCY.value: N_("An emergency (life, health, property)"),
    LawfulBasis.NEWS_REPORTING.value: N_("News reporting in the public interest"),
    LawfulBasis.PUBLIC_INFORMATION.value: N_("Information already made public"),
    LawfulBasis.OTHER_LAW.value: N_("Another ground in law"),
}

# Both lists cover the service's codes (tests/web/test_customers_pages.py checks it).
PAYMENT_TYPE_NAMES = {
    "bank_card": N_("Bank card"),
    "bank_transfer": N_("Bank transfer"),
    "alipay": N_("Alipay"),
    "wechat_pay": N_("WeChat Pay"),
    "cash": N_("Cash"),
    "other": N_("Other"),
}

CHANNEL_NAMES = {
    "phone": N_("Phone call"),
    "visit": N_("Visit"),
    "meeting": N_("Meeting"),
    "email": N_("E-mail"),
    "wechat": N_("WeChat"),
    "other": N_("Other"),
}


def reveal_reasons(locale: str) -> list[tuple[str, str]]:
    """The reveal reason codes (C4.3.2) with their label in this locale, in the form's order."""
    chinese = locale.startswith("zh")
    return [(code.value, zh if chinese else en) for code, (zh, en) in REASON_LABELS.items()]


def phone_text(value: str) -> str:
    """A stored E.164 mainland number read as people write it; others (and masks) as they are."""
    if value.startswith("+86") and value[3:].isdigit() and len(value) == 14:
        digits = value[3:]
        return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    return value
