"""API shapes for access requests (C4.3.1)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from baomi.api.inputs import PYDANTIC_TWO_NOT_BLANK, Id, LevelText, PurposeCode, StrictInput, one_of
from baomi.customers.fields import SENSITIVITY
from baomi.security.levels import MAX_GRANT_HOURS

MAX_CUSTOMERS = 50
# The form's outer bound; each level's rule sets its own, lower, limit (max_grant_hours).
MAX_HOURS = MAX_GRANT_HOURS


class RequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    REVOKED = "revoked"
    EXPIRED = "expired"


class KindCode(StrEnum):
    """The codes of the kinds the product ships; a kind added later brings its own."""

    ACCESS = "access"  # C4.3.1: time-bound access to customers
    LEVEL_CHANGE = "level_change"  # C2.2: lowering a customer's level


# A field of the record, by name (access/kind_access.py refuses others: `fields_unknown`).
FieldName = Annotated[str, Field(json_schema_extra=one_of(SENSITIVITY))]


class AccessRequestIn(StrictInput):
    customer_ids: list[Id] = Field(min_length=1, max_length=MAX_CUSTOMERS)
    # Not empty (`fields_unknown` too), said in the document only: the service's code stays.
    fields: Annotated[list[FieldName], Field(json_schema_extra={"minItems": 1})] | None = Field(
        default=None, description="null: the whole record"
    )
    purpose: str = Field(min_length=2, max_length=1000, description="the work need (C4.3.1)")
    purpose_code: PurposeCode = Field(
        description="the processing purpose (GET /api/v1/purposes) each customer's consents and "
        "lawful bases must cover for the fields asked (C4.3.4)",
    )
    duration_hours: int = Field(ge=1, le=MAX_HOURS)


class LevelChangeIn(StrictInput):
    """C2.2: ask to lower a customer's level; its current level's rule names the approvers."""

    level: LevelText = Field(description="the lower level asked for: a code or its Chinese label")
    reason: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=2, max_length=1000),
        Field(json_schema_extra={"pattern": PYDANTIC_TWO_NOT_BLANK}),
    ] = Field(description="why the customer no longer needs its current level")


class DecisionIn(StrictInput):
    comment: str | None = Field(default=None, max_length=1000)


class ApprovalOut(BaseModel):
    approver: str | None = Field(
        description="user id of the head, or of the officer who decided; null: any officer"
    )
    role: str
    decision: str | None
    decided_at: datetime | None
    comment: str | None


class AccessRequestOut(BaseModel):
    id: str
    # A plain string, not an enum: a kind registers itself (access.catalog), and the shape of a
    # request must not change when one is added.
    kind: str = Field(
        default=KindCode.ACCESS.value,
        description="access (C4.3.1), level_change (C2.2), or another registered kind",
    )
    status: RequestStatus
    customer_ids: list[str]
    fields: list[str] | None
    purpose: str = Field(description="the work need; for a level change, the reason given")
    duration_hours: int = Field(description="hours of access asked for; 0 for a level change")
    from_level: str | None = Field(default=None, description="level change: the level then")
    target_level: str | None = Field(default=None, description="level change: the level asked")
    requester: str
    approvals: list[ApprovalOut]
    created_at: datetime
    grant_id: str | None
    grant_ids: list[str]
