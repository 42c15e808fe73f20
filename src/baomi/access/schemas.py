"""API shapes for access requests (C4.3.1)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from baomi.api.inputs import StrictInput

MAX_CUSTOMERS = 50
MAX_HOURS = 24 * 90


class RequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    REVOKED = "revoked"
    EXPIRED = "expired"


class AccessRequestIn(StrictInput):
    customer_ids: list[str] = Field(min_length=1, max_length=MAX_CUSTOMERS)
    fields: list[str] | None = Field(default=None, description="null: the whole record")
    purpose: str = Field(min_length=2, max_length=1000, description="the work need (C4.3.1)")
    duration_hours: int = Field(ge=1, le=MAX_HOURS)


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
    status: RequestStatus
    customer_ids: list[str]
    fields: list[str] | None
    purpose: str
    duration_hours: int
    requester: str
    approvals: list[ApprovalOut]
    created_at: datetime
    grant_id: str | None
    grant_ids: list[str]
