"""API shapes for customers. Unknown keys are refused so that nothing is silently dropped."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from baomi.api.inputs import StrictInput


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


class CustomerIn(CustomerData):
    name: str = Field(min_length=1, max_length=200)
    level: str = "normal"
    source: str = Field(default="entered by handler", min_length=1, max_length=200)
    lawful_basis: LawfulBasis = LawfulBasis.CONTRACT
    handler_id: str | None = Field(default=None, description="defaults to the creating user")


class CustomerPatch(CustomerData):
    level: str | None = None
    source: str | None = Field(default=None, min_length=1, max_length=200)
    lawful_basis: LawfulBasis | None = None
    handler_id: str | None = None


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


class RevealIn(StrictInput):
    fields: list[str] = Field(min_length=1)
    reason: str = Field(min_length=2, max_length=500)


class RevealOut(BaseModel):
    id: str
    data: dict[str, Any]


class CheckOut(BaseModel):
    """C4.1.3 查重: only whether the customer exists and who handles it, never its data."""

    exists: bool
    handler: dict[str, str] | None


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
