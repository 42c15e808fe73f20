"""API shapes for users and departments."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field
from pydantic_core import PydanticCustomError

from baomi.api.inputs import NOT_BLANK, WHITESPACE, StrictInput, rule
from baomi.security.roles import CUSTOMER_ROLES, SEPARATED_ROLES, Role

# A plain address: no spaces or line breaks (nothing can be smuggled into a mail header). The
# whitespace is spelt out: Python's `\s` also takes U+001C-U+001F and U+0085, ECMA-262's (the
# document's) does not, so an address the document allowed was refused.
_ADDRESS_PART = f"[^@{WHITESPACE}]+"
EMAIL_PATTERN = f"^{_ADDRESS_PART}@{_ADDRESS_PART}\\.{_ADDRESS_PART}$"
USERNAME_PATTERN = r"^[a-z][a-z0-9_.-]*$"


def _matching(pattern: str, message: str) -> AfterValidator:
    """Check `pattern` with a message a person can act on, not the raw regex (issue 19); the
    OpenAPI document still states the pattern, and the error keeps pydantic's type.

    The whole value must match, as in JSON Schema: Python's `$` also matches before a final
    line break, so `re.match` let `name@example.com\n` through where the document refuses it.
    """
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise PydanticCustomError("string_pattern_mismatch", message)
        return value

    return AfterValidator(check)


Username = Annotated[
    str,
    Field(min_length=2, max_length=64, json_schema_extra={"pattern": USERNAME_PATTERN}),
    _matching(
        USERNAME_PATTERN,
        "start with a lowercase letter, then use lowercase letters, digits, '.', '_' or '-'",
    ),
]
Email = Annotated[
    str,
    Field(max_length=254, json_schema_extra={"pattern": EMAIL_PATTERN}),
    _matching(EMAIL_PATTERN, "not an e-mail address: one address like name@example.com"),
]


def role_sets(schema: dict[str, Any]) -> None:
    """Say in a JSON schema of roles the sets 三员分立 allows (security/roles.py): at least one
    role, and either roles that work with customers only or one of the separated roles alone."""
    schema["minItems"] = 1
    schema["anyOf"] = [
        {"items": {"enum": sorted(role.value for role in CUSTOMER_ROLES)}},
        *({"items": {"const": role.value}} for role in sorted(SEPARATED_ROLES)),
    ]


# A person's roles. The document states the rule; the users service enforces it
# (changes.check_roles: `role_required`, `separation_of_duties`), not this model, so that the
# refusal is on record (C1.3) for the web form, which reads into UserIn, as for the API.
Roles = Annotated[list[Role], Field(max_length=5, json_schema_extra=role_sets)]


class EmploymentType(StrEnum):
    FULL_TIME = "full_time"
    PART_TIME = "part_time"
    SALES_SUPPORT = "sales_support"


class ChangeKind(StrEnum):
    ROLES = "roles"
    HEAD = "head"
    DEPARTMENT = "department"
    # A department moves under another parent (C1.3: the heads above it change); about
    # `department_id`, with no user. department_before/after are the parents, NULL the top.
    PARENT = "parent"
    # A disabled account with customer data gets its access back (C4.2.1).
    ENABLE = "enable"


class ChangeStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"  # replaced by a newer request of the same kind


class UserIn(StrictInput):
    """A new account. No password: the person sets their own with the activation code the
    answer carries (三员分立: the administrator never knows a working password). Roles that
    add access wait for the security officer's approval."""

    username: Username
    display_name: str = Field(min_length=1, max_length=100)
    employment_type: EmploymentType = EmploymentType.FULL_TIME
    department_id: str | None = None
    roles: Roles
    # Where notifications are mailed (optional; C4.3.1). One address, no display name.
    email: Email | None = None

    @classmethod
    def document_rules(cls, schema: dict[str, Any]) -> None:
        # Whoever works with customers belongs to a department (users/placement.py,
        # `department_required`): roles of the separated duties only, or a department.
        separated = sorted(role.value for role in SEPARATED_ROLES)
        schema["anyOf"] = [
            {"properties": {"roles": {"items": {"enum": separated}}}},
            {"properties": {"department_id": {"type": "string"}}, "required": ["department_id"]},
        ]


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
    """A change that would let an account reach more, and the officer's decision on it.

    Kind "parent" is about a department, not a person: `user_id` is null, `department_id` names
    the department, and `department_before` / `department_after` are its old and new parent,
    null meaning the top level. Every parent change moves somewhere, so a null there is never
    "unknown": it is the top.
    """

    id: str
    user_id: str | None = Field(description="the person; null for a change of kind parent")
    department_id: str | None = Field(
        default=None, description="kind parent: the department that moves"
    )
    kind: str = Field(
        description="roles, head (of department_after), department (a person's move), parent "
        "(a department's move under department_after; null: to the top level) or enable (a "
        "disabled account with customer data, enabled again)"
    )
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
    roles: Roles


class MoveIn(StrictInput):
    # null: out of any department (refused, `department_required`, for whoever works with
    # customers).
    department_id: str | None


class UserEditIn(StrictInput):
    """What the administrator corrects on an account at once: nothing here reaches customer data.
    A field left out stays as it is; `email: null` removes the address."""

    display_name: str | None = Field(
        default=None, min_length=1, max_length=100, json_schema_extra=rule(NOT_BLANK)
    )
    email: Email | None = None
    employment_type: EmploymentType | None = None


class HeadIn(StrictInput):
    user_id: str


class ChangeDecisionIn(StrictInput):
    comment: str | None = Field(default=None, max_length=1000)


class ActivateIn(StrictInput):
    username: str = Field(min_length=1, max_length=64)
    code: str = Field(min_length=1, max_length=64)
    # No min_length: the password rule (users/passwords.py, 12 characters and more) says it.
    password: str = Field(max_length=256)


class DepartmentIn(StrictInput):
    # The service refuses a blank name (`name_blank`); the document says so too.
    name: str = Field(min_length=1, max_length=100, json_schema_extra=rule(NOT_BLANK))
    parent_id: str | None = None
    head_user_id: str | None = None


class DepartmentRenameIn(StrictInput):
    name: str = Field(min_length=1, max_length=100, json_schema_extra=rule(NOT_BLANK))


class ParentIn(StrictInput):
    """Where a department goes: under `parent_id`, or to the top level with null."""

    parent_id: str | None


class DepartmentOut(BaseModel):
    id: str
    name: str
    parent_id: str | None
    head_user_id: str | None
