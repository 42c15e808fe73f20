"""API shapes for access grants."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from baomi.api.inputs import StrictInput


class GrantIn(StrictInput):
    user_id: str
    customer_id: str
    fields: list[str] | None = Field(default=None, description="null: the whole record")
    starts_at: datetime | None = Field(default=None, description="default: now")
    ends_at: datetime | None = None
    duration_hours: int | None = Field(default=None, ge=1, le=24 * 90)
    purpose: str = Field(min_length=2, max_length=1000)


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
