"""API shapes of data-subject requests (issue 12 item 4; PIPL art. 44-47, GB/T 35273 §8.7)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from baomi.api.inputs import PYDANTIC_NOT_BLANK, Id, Moment, StrictInput
from baomi.consent.schemas import Channel

# GB/T 35273-2020 §8.7: answer within 30 days at most; the company's default is 15 (configurable
# per request, within that bound).
DEFAULT_DUE_DAYS, MAX_DUE_DAYS = 15, 30


class RequestKind(StrEnum):
    ACCESS = "access"  # a copy of what the company holds (PIPL art. 45)
    CORRECTION = "correction"  # PIPL art. 46
    DELETION = "deletion"  # PIPL art. 47
    WITHDRAWAL = "withdrawal"  # of a consent (PIPL art. 15)


class IdentityMethod(StrEnum):
    """How the handler made sure the requester is the person the data describes."""

    ID_DOCUMENT = "id_document"  # an identity document seen in person or by video
    KNOWN_CONTACT = "known_contact"  # called back on a phone or address on file
    SIGNED_LETTER = "signed_letter"  # a signed, stamped letter (a company customer)
    OTHER = "other"


class Status(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    REJECTED = "rejected"


Note = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=500),
    Field(json_schema_extra={"pattern": r"^[\s\S]*$"}),
]
Outcome = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2000),
    Field(json_schema_extra={"pattern": PYDANTIC_NOT_BLANK}),
]


class SubjectRequestIn(StrictInput):
    customer_id: Id
    kind: RequestKind
    channel: Channel = Field(description="how the request reached the company")
    received_at: Moment | None = Field(default=None, description="default: now; not ahead")
    identity_method: IdentityMethod = Field(description="the identity check done")
    identity_note: Note = Field(
        default="", description="what was checked, in a few words; never the document's number"
    )
    due_days: int = Field(
        default=DEFAULT_DUE_DAYS,
        ge=1,
        le=MAX_DUE_DAYS,
        description="days from receipt to answer (GB/T 35273: at most 30)",
    )


class CloseIn(StrictInput):
    status: Status = Field(
        description="completed or rejected",
        json_schema_extra={"enum": [Status.COMPLETED.value, Status.REJECTED.value]},
    )
    outcome: Outcome = Field(description="what was done, or why it was refused")
    consent_id: Id | None = Field(
        default=None,
        description="completing a withdrawal: the consent record withdrawn (consent/)",
    )


class SubjectRequestOut(BaseModel):
    id: str
    customer_id: str
    kind: RequestKind
    channel: str
    received_at: datetime
    identity_method: str
    identity_note: str
    due_at: datetime
    overdue: bool
    handler: str = Field(description="the handler's username")
    officer: str = Field(description="the security officer's username")
    status: Status
    outcome: str | None
    consent_id: str | None
    created_at: datetime
    closed_at: datetime | None
