"""The administrator's forms: names of roles, permissions and employment types, and the
new-user form read into the API's UserIn, with every problem said next to its field.

三员分立 (MLPS 2.0): the users service refuses a person holding two of administrator, security
officer and auditor, or one of them together with customer work; the form shows that refusal
inline, under the roles, and keeps everything typed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import ValidationError

from baomi.errors import BaomiError, Conflict, NotFound, ValidationFailed
from baomi.security.roles import SEPARATED_ROLES, Permission, Role, separation_violation
from baomi.users.placement import works_with_customers
from baomi.users.schemas import EmploymentType, UserIn
from baomi.web.i18n import N_

ROLE_LABELS = {
    Role.SALESPERSON: N_("Salesperson"),
    Role.DEPARTMENT_HEAD: N_("Department head"),
    Role.SECURITY_OFFICER: N_("Security officer (保密员)"),
    Role.AUDITOR: N_("Auditor (审计员)"),
    Role.ADMINISTRATOR: N_("System administrator"),
}
ROLE_ORDER = list(ROLE_LABELS)
SEPARATED = [r for r in ROLE_ORDER if r in SEPARATED_ROLES]
PERMISSION_LABELS = {
    Permission.CUSTOMER_WORK: N_("Work with the customers they may see"),
    Permission.CUSTOMER_CHECK: N_("Duplicate check (查重)"),
    Permission.GRANT_MANAGE: N_("Grant and revoke access"),
    Permission.GRANT_READ: N_("See the list of grants"),
    Permission.USER_MANAGE: N_("Manage users and departments"),
    Permission.USER_UNLOCK: N_("Unlock locked accounts"),
    Permission.ACCOUNT_APPROVE: N_("Approve account changes (dual control)"),
    Permission.AUDIT_READ: N_("Read and verify the audit log"),
    Permission.KEY_MANAGE: N_("Look after the keys"),
}
EMPLOYMENT_LABELS = {
    EmploymentType.FULL_TIME: N_("Full-time"),
    EmploymentType.PART_TIME: N_("Part-time"),
    EmploymentType.SALES_SUPPORT: N_("Sales support"),
}
MESSAGES = {
    "username": N_(
        "2 to 64 characters: small letters, digits, dot, dash or underscore, starting with a "
        "letter."
    ),
    "username_taken": N_("This username is taken."),
    "display_name": N_("Give the person's name, up to 100 characters."),
    "email": N_("One e-mail address, like name@example.com, or leave it empty."),
    "employment_type": N_("Choose the employment type."),
    "department_id": N_("Choose a department from the list."),
    "department_required": N_(
        "Whoever works with customers (salesperson, department head) belongs to a department: "
        "choose one."
    ),
    "roles": N_("Choose at least one role."),
    "separation": N_(
        "三员分立: the system administrator, the security officer and the auditor must be three "
        "different people, and none of them may also work with customers."
    ),
}


@dataclass
class UserForm:
    """The new-user form as typed (no password: the person sets their own, 三员分立)."""

    username: str = ""
    display_name: str = ""
    employment_type: str = EmploymentType.FULL_TIME.value
    department_id: str = ""
    roles: list[str] = field(default_factory=list)
    email: str = ""
    # Field → msgid of our own message, or the service's own words (password strength).
    errors: dict[str, str] = field(default_factory=dict)
    service_errors: dict[str, str] = field(default_factory=dict)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or self.service_errors)


def read(form: UserForm) -> UserIn | None:
    """The API's UserIn from the form, or None with the form's errors filled."""
    roles = [r for r in form.roles if r in set(Role)]
    if not roles:
        form.errors["roles"] = MESSAGES["roles"]
    employment = EmploymentType.FULL_TIME
    if form.employment_type in set(EmploymentType):
        employment = EmploymentType(form.employment_type)
    else:
        form.errors["employment_type"] = MESSAGES["employment_type"]
    user_in: UserIn | None = None
    try:
        user_in = UserIn(
            username=form.username.strip(),
            display_name=form.display_name.strip(),
            employment_type=employment,
            department_id=form.department_id or None,
            roles=[Role(r) for r in roles],
            email=form.email.strip() or None,
        )
    except ValidationError as invalid:
        for problem in invalid.errors():
            name = str(problem["loc"][0]) if problem["loc"] else "username"
            form.errors.setdefault(name, MESSAGES.get(name, MESSAGES["username"]))
    if user_in is not None and not form.has_errors:
        return user_in
    # The form goes back anyway: say 三员分立 now too, so that every problem shows at once. (A
    # form without other problems goes to the users service, which refuses it by the same rule.)
    if roles and separation_violation({Role(r) for r in roles}):
        form.errors["roles"] = MESSAGES["separation"]
    if not form.department_id and works_with_customers(roles):
        form.errors.setdefault("department_id", MESSAGES["department_required"])
    return None


def refused(form: UserForm, error: BaomiError) -> bool:
    """Put a service refusal under its field; False when it belongs to no field."""
    if isinstance(error, ValidationFailed):
        for item in error.extra.get("errors", []):
            name = item.get("field", "")
            if name == "roles":
                separation = item.get("code") == "separation_of_duties"
                form.errors["roles"] = MESSAGES["separation" if separation else "roles"]
            elif item.get("code") == "department_required":
                form.errors["department_id"] = MESSAGES["department_required"]
            elif name in MESSAGES:
                form.errors[name] = MESSAGES[name]
            else:
                return False
        return True
    if isinstance(error, Conflict):
        form.errors["username"] = MESSAGES["username_taken"]
        return True
    if isinstance(error, NotFound):
        form.errors["department_id"] = MESSAGES["department_id"]
        return True
    return False
