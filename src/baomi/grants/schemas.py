"""API shapes for access grants."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from baomi.api.inputs import StrictInput


class GrantIn(StrictInput):
    """An emergency grant (C4.3.1): access outside the approval process, for a stated reason.

    It lasts at most BAOMI_EMERGENCY_GRANT_MAX_HOURS (24); the customer's handler and heads are
    told at once and a head reviews it afterwards. Ordinary access goes through
    POST /api/v1/access-requests.
    """

    user_id: str
    customer_id: str
    fields: list[str] | None = Field(default=None, description="null: the whole record")
    starts_at: datetime | None = Field(default=None, description="default: now")
    ends_at: datetime | None = None
    duration_hours: int | None = Field(default=None, ge=1, le=24 * 90)
    purpose: str = Field(
        min_length=2, max_length=1000, description="why access cannot wait for approval"
    )


class GrantReviewIn(StrictInput):
    """A head's review of an emergency grant given in their department (C3.2, C4.3.1)."""

    note: str = Field(min_length=2, max_length=1000)


class GrantOut(BaseModel):
    id: str
    user_id: str
    customer_id: str
    fields: list[str] | None
    starts_at: datetime
    ends_at: datetime
    purpose: str
    created_by: str | None
    created_at: datetime
    revoked_at: datetime | None
    active: bool
    request_id: str | None = None
    # C4.3.1: given outside the approval process (no request behind it).
    emergency: bool = False
    reviewed_at: datetime | None = None
    reviewed_by: str | None = None
    review_note: str | None = None
