"""API shapes for users and departments."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from baomi.api.inputs import StrictInput
from baomi.security.roles import Role

# A plain address: no spaces or line breaks (nothing can be smuggled into a mail header).
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class EmploymentType(StrEnum):
    FULL_TIME = "full_time"
    PART_TIME = "part_time"
    SALES_SUPPORT = "sales_support"


class UserIn(StrictInput):
    username: str = Field(min_length=2, max_length=64, pattern=r"^[a-z][a-z0-9_.-]*$")
    display_name: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=256)
    employment_type: EmploymentType = EmploymentType.FULL_TIME
    department_id: str | None = None
    roles: list[Role] = Field(default_factory=list)
    # Where notifications are mailed (optional; C4.3.1). One address, no display name.
    email: str | None = Field(default=None, max_length=254, pattern=EMAIL_PATTERN)


class UserOut(BaseModel):
    id: str
    username: str
    display_name: str
    employment_type: EmploymentType
    department_id: str | None
    department_name: str | None
    roles: list[Role]
    is_active: bool
    created_at: datetime
    email: str | None = None


class DepartmentIn(StrictInput):
    name: str = Field(min_length=1, max_length=100)
    parent_id: str | None = None
    head_user_id: str | None = None


class DepartmentOut(BaseModel):
    id: str
    name: str
    parent_id: str | None
    head_user_id: str | None
