"""API shapes for access grants."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from baomi.access.schemas import FieldName
from baomi.api.inputs import Id, Moment, StrictInput


class GrantIn(StrictInput):
    """An emergency grant (C4.3.1): access outside the approval process, for a stated reason.

    It lasts at most BAOMI_EMERGENCY_GRANT_MAX_HOURS (24); the customer's handler and heads are
    told at once and a head reviews it afterwards. Ordinary access goes through
    POST /api/v1/access-requests.
    """

    user_id: Id
    customer_id: Id
    # Not empty (`fields_unknown`), said in the document only: the service's code stays.
    fields: Annotated[list[FieldName], Field(json_schema_extra={"minItems": 1})] | None = Field(
        default=None, description="null: the whole record"
    )
    starts_at: Moment | None = Field(default=None, description="default: now")
    ends_at: Moment | None = None
    duration_hours: int | None = Field(default=None, ge=1, le=24 * 90)
    purpose: str = Field(
        min_length=2, max_length=1000, description="why access cannot wait for approval"
    )

    @classmethod
    def document_rules(cls, schema: dict[str, Any]) -> None:
        # The end is `ends_at` or `duration_hours`, one of them (`end_required`, `end_given_twice`).
        schema["oneOf"] = [
            {"properties": {"ends_at": {"type": "string"}}, "required": ["ends_at"]},
            {"properties": {"duration_hours": {"type": "integer"}}, "required": ["duration_hours"]},
        ]


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
