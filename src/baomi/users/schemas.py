"""API shapes for users and departments."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from baomi.api.inputs import StrictInput
from baomi.security.roles import Role


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


class DepartmentIn(StrictInput):
    name: str = Field(min_length=1, max_length=100)
    parent_id: str | None = None
    head_user_id: str | None = None


class DepartmentOut(BaseModel):
    id: str
    name: str
    parent_id: str | None
    head_user_id: str | None
