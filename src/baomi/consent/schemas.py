"""API shapes of consent records and purposes (C4.1.2; PIPL art. 13-17)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from baomi.api.inputs import Id, Moment, PurposeCode, StrictInput


class Basis(StrEnum):
    """PIPL art. 13: consent, or one of the other grounds (customers.schemas.LawfulBasis)."""

    CONSENT = "consent"
    CONTRACT = "contract"
    LEGAL_OBLIGATION = "legal_obligation"
    EMERGENCY = "emergency"
    NEWS_REPORTING = "news_reporting"
    PUBLIC_INFORMATION = "public_information"
    OTHER_LAW = "other_law"


class DataKind(StrEnum):
    """C2.1 (a)-(e): the kinds of customer data a record covers."""

    IDENTITY = "identity"
    TRANSACTION = "transaction"
    NEEDS = "needs"
    SENSITIVE = "sensitive"
    COMMUNICATION = "communication"


class Method(StrEnum):
    WRITTEN = "written"
    ELECTRONIC = "electronic"
    RECORDED_CALL = "recorded_call"


class Channel(StrEnum):
    """How a withdrawal reached the company."""

    PHONE = "phone"
    VISIT = "visit"
    EMAIL = "email"
    WECHAT = "wechat"
    LETTER = "letter"
    OTHER = "other"


class Status(StrEnum):
    IN_FORCE = "in_force"
    NOT_YET = "not_yet"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"
    SUPERSEDED = "superseded"


class PurposeOut(BaseModel):
    code: str
    label_zh: str
    label_en: str


class ConsentIn(StrictInput):
    """A consent the customer gave, or another lawful basis the company relies on."""

    basis: Basis = Field(default=Basis.CONSENT, description="consent, or a PIPL art. 13 basis")
    purposes: list[PurposeCode] = Field(
        min_length=1, max_length=32, description="purpose codes (GET /api/v1/purposes)"
    )
    scope: list[DataKind] = Field(min_length=1, description="the kinds of data covered (C2.1)")
    method: Method | None = Field(default=None, description="how consent was given (consent only)")
    given_at: Moment | None = Field(default=None, description="default: now; never in the future")
    expires_at: Moment | None = Field(default=None, description="after given_at; none: no end")
    evidence_attachment_id: Id | None = Field(
        default=None, description="an attachment of this customer that shows it (C4.1.2)"
    )

    @classmethod
    def document_rules(cls, schema: dict[str, Any]) -> None:
        # A consent says how it was given (`method_required`); another basis says no method
        # (`method_only_for_consent`). The service checks both; the document states them too.
        schema["allOf"] = [
            {
                "if": {"properties": {"basis": {"const": Basis.CONSENT.value}}},
                "then": {"required": ["method"], "properties": {"method": {"type": "string"}}},
            },
            {
                "if": {
                    "required": ["basis"],
                    "properties": {"basis": {"not": {"const": Basis.CONSENT.value}}},
                },
                "then": {"properties": {"method": {"type": "null"}}},
            },
        ]


class WithdrawIn(StrictInput):
    channel: Channel = Field(description="how the withdrawal reached the company")
    withdrawn_at: Moment | None = Field(default=None, description="default: now")


class ConsentOut(BaseModel):
    id: str
    customer_id: str
    basis: str
    purposes: list[str]
    scope: list[str]
    method: str | None
    evidence_attachment_id: str | None
    given_at: datetime
    expires_at: datetime | None
    taken_by: str | None = Field(description="the username of who recorded it")
    created_at: datetime
    withdrawn_at: datetime | None
    withdrawn_channel: str | None
    status: Status
