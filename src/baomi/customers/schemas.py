"""API shapes for customers. Unknown keys are refused so that nothing is silently dropped."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, WithJsonSchema

from baomi.api.inputs import (
    NOT_BLANK,
    PYDANTIC_NOT_BLANK,
    TWO_NOT_BLANK,
    Id,
    LevelText,
    Moment,
    PurposeCode,
    StrictInput,
    one_of,
)
from baomi.customers.fields import FIELDS
from baomi.customers.reasons import TEXT_MAX, TEXT_MIN, RevealReason

PERIOD_HELP = (
    "C2.2 confidentiality period: the last day (UTC) on which the level holds; the day after, "
    "the level lapses to the one its rule names. Must be in the future."
)


class LawfulBasis(StrEnum):
    """PIPL art. 13 grounds for processing personal information (C4.1.1)."""

    CONSENT = "consent"
    CONTRACT = "contract"
    LEGAL_OBLIGATION = "legal_obligation"
    EMERGENCY = "emergency"
    NEWS_REPORTING = "news_reporting"
    PUBLIC_INFORMATION = "public_information"
    OTHER_LAW = "other_law"


# The closed vocabularies the services check (customers/validation.py), each with its own code.
PAYMENT_TYPES = frozenset({"bank_card", "bank_transfer", "alipay", "wechat_pay", "cash", "other"})
CHANNELS = frozenset({"phone", "visit", "meeting", "email", "wechat", "other"})

# What customers/validation.py accepts, said in the JSON schema only, so that the services keep
# their own error codes (phone_invalid, email_invalid …: tests/customers/test_error_codes.py).
# A phone number and an ID number are checked by their check digits and numbering plans, which
# no pattern can say: the custom formats name them (tests/support/contract_formats.py).
# The patterns say the shape, the formats the rest (and keep values of other shapes away).
Phone = Annotated[
    str,
    Field(
        json_schema_extra={
            "format": "phone",
            "pattern": r"^(\+[1-9][0-9]{0,2} ?)?[0-9][0-9 -]{5,18}[0-9]$",
            "description": "a valid phone number; a mainland one may omit +86",
        }
    ),
]
IdNumber = Annotated[
    str,
    Field(
        json_schema_extra={
            "format": "cn-id-number",
            "pattern": "^([0-9]{17}[0-9X]|[0-9A-HJ-NPQRTUWXY]{18})?$",
            "description": "a resident ID number (居民身份证号) or unified social credit code "
            "(统一社会信用代码), check digit included; empty or null: none",
        }
    ),
]
# validation._EMAIL, with Python's whitespace spelt out (api/inputs.py).
_EMAIL_PART = NOT_BLANK.replace("[^", "[^@")
Email = Annotated[
    str,
    Field(
        json_schema_extra={
            "pattern": f"^{_EMAIL_PART}+@{_EMAIL_PART}+\\.{_EMAIL_PART}+$",
            "maxLength": 254,
        }
    ),
]
# Not blank once trimmed (code `blank`).
NAME_RULE: dict[str, Any] = {"pattern": NOT_BLANK}


class Contact(StrictInput):
    name: str = Field(min_length=1, max_length=100)
    title: str = Field(default="", max_length=100)
    phones: list[Phone] = Field(default_factory=list, max_length=10)
    emails: list[Email] = Field(default_factory=list, max_length=10)


class Purchase(StrictInput):
    date: str = Field(
        max_length=10, description="ISO date, YYYY-MM-DD", json_schema_extra={"format": "date"}
    )
    item: str = Field(min_length=1, max_length=200)
    amount: str = Field(
        max_length=32,
        description="decimal amount, e.g. 12800.00",
        json_schema_extra={"pattern": r"^[0-9]+(\.[0-9]+)?$"},
    )
    currency: str = Field(default="CNY", min_length=3, max_length=3)


class PaymentMethod(StrictInput):
    type: str = Field(
        description="bank_card, bank_transfer, alipay, wechat_pay, cash, other",
        json_schema_extra=one_of(PAYMENT_TYPES),
    )
    account: str = Field(default="", max_length=64)

    @classmethod
    def document_rules(cls, schema: dict[str, Any]) -> None:
        # A bank card's account is 12 to 19 digits with a valid check digit (Luhn).
        schema["oneOf"] = [
            {
                "properties": {
                    "type": {"const": "bank_card"},
                    "account": {
                        "format": "bank-card",
                        "pattern": "^[0-9]{12,19}$",
                        "description": "12 to 19 digits, the last a Luhn check digit",
                    },
                },
                "required": ["type", "account"],
            },
            {"properties": {"type": {"enum": sorted(PAYMENT_TYPES - {"bank_card"})}}},
        ]


class CustomerData(StrictInput):
    """The encrypted content of a record; every field optional (PATCH uses the same shape)."""

    name: str | None = Field(
        default=None, min_length=1, max_length=200, json_schema_extra=NAME_RULE
    )
    contacts: list[Contact] | None = Field(default=None, max_length=50)
    phones: list[Phone] | None = Field(default=None, max_length=20)
    emails: list[Email] | None = Field(default=None, max_length=20)
    address: str | None = Field(default=None, max_length=500)
    id_number: IdNumber | None = Field(default=None, max_length=32)
    purchases: list[Purchase] | None = Field(default=None, max_length=500)
    contract_terms: str | None = Field(default=None, max_length=10_000)
    prices: str | None = Field(default=None, max_length=10_000)
    payment_methods: list[PaymentMethod] | None = Field(default=None, max_length=20)
    requirements: str | None = Field(default=None, max_length=10_000)
    purchase_intent: str | None = Field(default=None, max_length=10_000)
    competitor_products: str | None = Field(default=None, max_length=10_000)
    notes: str | None = Field(default=None, max_length=20_000)


# C4.1.1: where the data came from, in a few words (展会名片, 官网询价表单 …); never blank.
SourceText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    Field(json_schema_extra={"pattern": PYDANTIC_NOT_BLANK}),
]
SOURCE_HELP = "C4.1.1: where the data came from, e.g. 展会名片 (a trade-fair business card)"
BASIS_HELP = "C4.1.1: the lawful basis on which the data was obtained (PIPL art. 13)"


class CustomerIn(CustomerData):
    name: str = Field(min_length=1, max_length=200, json_schema_extra=NAME_RULE)
    level: LevelText = "normal"
    # Required, never defaulted: the person filing states both (C4.1.1).
    source: SourceText = Field(description=SOURCE_HELP)
    lawful_basis: LawfulBasis = Field(description=BASIS_HELP)
    handler_id: Id | Literal[""] | None = Field(
        default=None, description="defaults to the creating user (so does empty)"
    )
    # Any date is refused (409), so the document admits none.
    confidential_until: Annotated[date | None, WithJsonSchema({"type": "null"})] = Field(
        default=None,
        description="Not set when filing: a period would lower the level being set when it "
        "ends, which needs approval (409 period_requires_approval, C2.2).",
    )


class CustomerPatch(CustomerData):
    level: LevelText | None = Field(
        default=None,
        description="raise the level; lowering needs POST …/level-change-requests (C2.2)",
    )
    source: SourceText | None = Field(default=None, description=SOURCE_HELP)
    lawful_basis: LawfulBasis | None = Field(default=None, description=BASIS_HELP)
    handler_id: Id | None = None
    confidential_until: date | None = Field(
        default=None, description=PERIOD_HELP + " An explicit null ends the period."
    )


class PersonRef(BaseModel):
    id: str
    username: str
    display_name: str


class DepartmentRef(BaseModel):
    id: str
    name: str


class SensitiveFlag(BaseModel):
    """An identifier typed into a field that does not protect it (customers/flags.py): which
    field, which kind, how many; never the value."""

    field: str = Field(description="the field (or `text` of a communication, `file`)")
    kind: str = Field(description="phone, id_number, uscc, bank_card or email")
    count: int


FLAGS_HELP = (
    "identifiers found in free-text fields that do not protect them (shown unmasked, not "
    "searchable): move them to the identity fields, or remove them (C4.3.2)"
)


class CustomerOut(BaseModel):
    id: str
    level: str
    level_label: str
    handler: PersonRef
    department: DepartmentRef
    source: str
    lawful_basis: str
    confidential_until: date | None = Field(default=None, description=PERIOD_HELP)
    created_at: datetime
    updated_at: datetime
    access: str = Field(description="why the caller may see it: handler, department_head, grant")
    data: dict[str, Any] = Field(description="visible fields; masked ones hold masked values")
    masked: list[str] = Field(description="fields shown masked until revealed with a reason")
    withheld: list[str] = Field(description="fields the caller's grant does not cover")
    flags: list[SensitiveFlag] = Field(default_factory=list, description=FLAGS_HELP)


class CustomerSummary(BaseModel):
    id: str
    name: str | None
    level: str
    level_label: str
    handler: PersonRef
    department: DepartmentRef
    updated_at: datetime
    access: str
    damaged: bool = Field(
        default=False,
        description="stored data failed its integrity check (issue 17): no values are shown, "
        "and the security officer is told; the rest of the list is unaffected",
    )


class CustomerPage(BaseModel):
    items: list[CustomerSummary]
    total: int
    page: int
    page_size: int


RevealText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=TEXT_MIN, max_length=TEXT_MAX),
    # At least two characters once trimmed, as the server counts them.
    Field(json_schema_extra={"pattern": TWO_NOT_BLANK}),
]


class RevealIn(StrictInput):
    """C4.3.2: which fields, and why: a reason code (GET /api/v1/reveal-reasons) and a text."""

    fields: list[Annotated[str, Field(json_schema_extra=one_of(FIELDS))]] = Field(min_length=1)
    reason_code: RevealReason = Field(description="what kind of work needs the values")
    reason: RevealText = Field(description="which piece of work, in the person's own words")
    purpose: PurposeCode = Field(
        description="the processing purpose (GET /api/v1/purposes) the customer's consents "
        "must cover for these fields (C4.3.4)",
    )


class RevealReasonOut(BaseModel):
    code: RevealReason
    label_zh: str
    label_en: str


class LevelOut(BaseModel):
    """A level in use and its rule (C2.2), for forms and for people to read."""

    code: str
    label_zh: str
    label_en: str
    rank: int
    access_approvers: list[str]
    lowering_approvers: list[str]
    masked_fields: list[str]
    export_allowed: bool
    reveal_requires_mfa: bool
    retention_days: int | None
    lapses_to: str | None


class RevealOut(BaseModel):
    id: str
    data: dict[str, Any]


class CheckOut(BaseModel):
    """C4.1.3 查重: only whether the customer exists and who handles it, never its data."""

    exists: bool
    handler: dict[str, str] | None
    # The match's opaque id, for the web UI's one-click access request (C4.3.1); left out of
    # the API's answer, which stays existence and handler only.
    customer_id: str | None = Field(default=None, exclude=True)


class CommunicationIn(StrictInput):
    occurred_at: Moment
    channel: str = Field(
        description="phone, visit, meeting, email, wechat, other",
        json_schema_extra=one_of(CHANNELS),
    )
    text: str = Field(min_length=1, max_length=50_000)


class AttachmentOut(BaseModel):
    id: str
    filename: str
    content_type: str
    size_bytes: int
    flags: list[SensitiveFlag] = Field(
        default_factory=list,
        description="identifiers found in the file when it was saved (text, csv, e-mail, Word, "
        "Excel and PDF files up to 8 MiB)",
    )


class CommunicationOut(BaseModel):
    id: str
    occurred_at: datetime
    channel: str
    author: str
    text: str
    attachments: list[AttachmentOut]
    flags: list[SensitiveFlag] = Field(default_factory=list, description=FLAGS_HELP)


class CommunicationCreated(BaseModel):
    id: str
    flags: list[SensitiveFlag] = Field(default_factory=list, description=FLAGS_HELP)
