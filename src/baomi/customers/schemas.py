"""API shapes for customers. Unknown keys are refused so that nothing is silently dropped."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from baomi.api.inputs import StrictInput
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


class Contact(StrictInput):
    name: str = Field(min_length=1, max_length=100)
    title: str = Field(default="", max_length=100)
    phones: list[str] = Field(default_factory=list, max_length=10)
    emails: list[str] = Field(default_factory=list, max_length=10)


class Purchase(StrictInput):
    date: str = Field(max_length=10, description="ISO date, YYYY-MM-DD")
    item: str = Field(min_length=1, max_length=200)
    amount: str = Field(max_length=32, description="decimal amount, e.g. 12800.00")
    currency: str = Field(default="CNY", min_length=3, max_length=3)


class PaymentMethod(StrictInput):
    type: str = Field(description="bank_card, bank_transfer, alipay, wechat_pay, cash, other")
    account: str = Field(default="", max_length=64)


class CustomerData(StrictInput):
    """The encrypted content of a record; every field optional (PATCH uses the same shape)."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    contacts: list[Contact] | None = Field(default=None, max_length=50)
    phones: list[str] | None = Field(default=None, max_length=20)
    emails: list[str] | None = Field(default=None, max_length=20)
    address: str | None = Field(default=None, max_length=500)
    id_number: str | None = Field(default=None, max_length=32)
    purchases: list[Purchase] | None = Field(default=None, max_length=500)
    contract_terms: str | None = Field(default=None, max_length=10_000)
    prices: str | None = Field(default=None, max_length=10_000)
    payment_methods: list[PaymentMethod] | None = Field(default=None, max_length=20)
    requirements: str | None = Field(default=None, max_length=10_000)
    purchase_intent: str | None = Field(default=None, max_length=10_000)
    competitor_products: str | None = Field(default=None, max_length=10_000)
    notes: str | None = Field(default=None, max_length=20_000)


# C4.1.1: where the data came from, in a few words (展会名片, 官网询价表单 …); never blank.
SourceText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
SOURCE_HELP = "C4.1.1: where the data came from, e.g. 展会名片 (a trade-fair business card)"
BASIS_HELP = "C4.1.1: the lawful basis on which the data was obtained (PIPL art. 13)"


class CustomerIn(CustomerData):
    name: str = Field(min_length=1, max_length=200)
    level: str = "normal"
    # Required, never defaulted: the person filing states both (C4.1.1).
    source: SourceText = Field(description=SOURCE_HELP)
    lawful_basis: LawfulBasis = Field(description=BASIS_HELP)
    handler_id: str | None = Field(default=None, description="defaults to the creating user")
    confidential_until: date | None = Field(
        default=None,
        description="Not set when filing: a period would lower the level being set when it "
        "ends, which needs approval (409 period_requires_approval, C2.2).",
    )


class CustomerPatch(CustomerData):
    level: str | None = Field(
        default=None,
        description="raise the level; lowering needs POST …/level-change-requests (C2.2)",
    )
    source: SourceText | None = Field(default=None, description=SOURCE_HELP)
    lawful_basis: LawfulBasis | None = Field(default=None, description=BASIS_HELP)
    handler_id: str | None = None
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


class CustomerSummary(BaseModel):
    id: str
    name: str | None
    level: str
    level_label: str
    handler: PersonRef
    department: DepartmentRef
    updated_at: datetime
    access: str


class CustomerPage(BaseModel):
    items: list[CustomerSummary]
    total: int
    page: int
    page_size: int


RevealText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=TEXT_MIN, max_length=TEXT_MAX)
]


class RevealIn(StrictInput):
    """C4.3.2: which fields, and why: a reason code (GET /api/v1/reveal-reasons) and a text."""

    fields: list[str] = Field(min_length=1)
    reason_code: RevealReason = Field(description="what kind of work needs the values")
    reason: RevealText = Field(description="which piece of work, in the person's own words")


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
    occurred_at: datetime
    channel: str = Field(description="phone, visit, meeting, email, wechat, other")
    text: str = Field(min_length=1, max_length=50_000)


class AttachmentOut(BaseModel):
    id: str
    filename: str
    content_type: str
    size_bytes: int


class CommunicationOut(BaseModel):
    id: str
    occurred_at: datetime
    channel: str
    author: str
    text: str
    attachments: list[AttachmentOut]
