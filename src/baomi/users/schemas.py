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


class ChangeKind(StrEnum):
    ROLES = "roles"
    HEAD = "head"
    DEPARTMENT = "department"


class ChangeStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"  # replaced by a newer request of the same kind


class UserIn(StrictInput):
    """A new account. No password: the person sets their own with the activation code the
    answer carries (三员分立: the administrator never knows a working password). Roles that
    add access wait for the security officer's approval."""

    username: str = Field(min_length=2, max_length=64, pattern=r"^[a-z][a-z0-9_.-]*$")
    display_name: str = Field(min_length=1, max_length=100)
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
    # The person has not set a password yet (a new account, or after a reset).
    activation_pending: bool = False


class AccountChangeOut(BaseModel):
    """A change that would let an account reach more, and the officer's decision on it."""

    id: str
    user_id: str
    kind: str = Field(description="roles, head (of department_after) or department (a move)")
    roles_before: list[str] | None
    roles_after: list[str] | None
    department_before: str | None
    department_after: str | None
    status: str = Field(description="pending, approved, rejected or withdrawn")
    requested_by: str | None
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    comment: str | None


class ActivationOut(BaseModel):
    """A one-time code for the person to set their own password, shown once."""

    activation_code: str
    activation_expires_at: datetime
    # After a reset of an account with customer data, sign-in waits until the security officer
    # confirms with the person and unlocks it (三员分立: the administrator held the code).
    locked_until_officer_unlocks: bool = False


class InvitationOut(ActivationOut):
    user: UserOut
    # The roles wait for the security officer (None: they applied at once, see the docs).
    pending_change: AccountChangeOut | None


class RolesIn(StrictInput):
    roles: list[Role] = Field(min_length=1, max_length=5)


class MoveIn(StrictInput):
    department_id: str


class HeadIn(StrictInput):
    user_id: str


class ChangeDecisionIn(StrictInput):
    comment: str | None = Field(default=None, max_length=1000)


class ActivateIn(StrictInput):
    username: str = Field(min_length=1, max_length=64)
    code: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class DepartmentIn(StrictInput):
    name: str = Field(min_length=1, max_length=100)
    parent_id: str | None = None
    head_user_id: str | None = None


class DepartmentOut(BaseModel):
    id: str
    name: str
    parent_id: str | None
    head_user_id: str | None
