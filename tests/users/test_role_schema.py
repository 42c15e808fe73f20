"""The document states 三员分立 as the users service enforces it (issue 18 item 9): a role set
is valid by the JSON schema of RolesIn and UserIn exactly when the service takes it, so that a
client that keeps to the document is never refused for its roles, nor told a refused set is
fine; likewise a department for whoever works with customers. And the e-mail and username
patterns read alike in the document and in Python."""

from __future__ import annotations

from itertools import combinations

import jsonschema_rs
import pytest
from pydantic import ValidationError

from baomi.security.roles import Role, separation_violation
from baomi.users.placement import works_with_customers
from baomi.users.schemas import EMAIL_PATTERN, USERNAME_PATTERN, RolesIn, UserIn

SUBSETS = [set(c) for n in range(len(Role) + 1) for c in combinations(Role, n)]


def _service_takes(roles: set[Role]) -> bool:
    # users/changes.check_roles: at least one role (`role_required`) and 三员分立
    # (`separation_of_duties`).
    return bool(roles) and separation_violation(roles) is None


@pytest.mark.parametrize("model", [RolesIn, UserIn])
def test_the_schema_allows_the_role_sets_the_service_takes(model: type) -> None:
    roles_schema = model.model_json_schema()
    schema = {**roles_schema["properties"]["roles"], "$defs": roles_schema["$defs"]}
    validator = jsonschema_rs.Draft202012Validator(schema)
    for roles in SUBSETS:
        sent = sorted(role.value for role in roles)
        assert validator.is_valid(sent) == _service_takes(roles), sent


def test_the_schema_of_a_new_account_wants_a_department_for_customer_work() -> None:
    """users/placement.py: whoever works with customers belongs to a department."""
    validator = jsonschema_rs.Draft202012Validator(UserIn.model_json_schema())
    for roles in SUBSETS:
        for department in ({}, {"department_id": None}, {"department_id": "d1"}):
            body = {"username": "zhoujiu", "display_name": "周九", **department}
            body["roles"] = sorted(role.value for role in roles)
            placed = bool(department.get("department_id")) or not works_with_customers(roles)
            assert validator.is_valid(body) == (_service_takes(roles) and placed), body


@pytest.mark.parametrize(
    ("pattern", "value", "valid"),
    [
        (EMAIL_PATTERN, "name@example.com", True),
        (EMAIL_PATTERN, "name@example.com\n", False),  # Python's `$` took this
        (EMAIL_PATTERN, "na\x1cme@example.com", False),  # Python's `\s` only
        (EMAIL_PATTERN, "na\x85me@example.com", False),
        (EMAIL_PATTERN, "name@exa mple.com", False),
        (USERNAME_PATTERN, "zhangsan", True),
        (USERNAME_PATTERN, "zhangsan\n", False),
    ],
)
def test_patterns_read_alike_in_the_document_and_in_python(
    pattern: str, value: str, valid: bool
) -> None:
    document = jsonschema_rs.Draft202012Validator({"type": "string", "pattern": pattern})
    assert document.is_valid(value) is valid
    field = "email" if pattern == EMAIL_PATTERN else "username"
    body = {"username": "zhangsan", "display_name": "张三", "roles": ["salesperson"], field: value}
    try:
        UserIn.model_validate(body)
        accepted = True
    except ValidationError:
        accepted = False
    assert accepted is valid
