"""Whoever works with customers belongs to a department (C1.3, C3.2, issue 19).

A salesperson's customers are supervised by the heads of their department and of every department
above it; without a department nobody would be, and the person could not be made a customer's
handler (service.handler_placement). So an account with a role that works with customers
(salesperson, department head) is never created, moved out of its department, given such a role,
or enabled again without one: refused with code `department_required`, and the refusal is on
record (C1.3).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from baomi.audit.context import RequestContext
from baomi.audit.service import actor_event
from baomi.audit.tags import Action
from baomi.errors import Conflict, FieldError
from baomi.security.actor import AnyActor
from baomi.security.roles import CUSTOMER_ROLES, Role

MESSAGE = "whoever works with customers (salesperson, department head) belongs to a department"
DEPARTMENT_REQUIRED: FieldError = {
    "field": "department_id",
    "code": "department_required",
    "message": MESSAGE,
}


def works_with_customers(roles: Iterable[Role | str]) -> bool:
    return any(Role(r) in CUSTOMER_ROLES for r in roles)


def department_refusal(
    actor: AnyActor, ctx: RequestContext, action: Action, *, object_id: str | None = None
) -> dict[str, Any]:
    """The deny event of leaving someone who works with customers without a department."""
    return actor_event(
        ctx=ctx,
        actor=actor,
        action=action,
        allowed=False,
        reason="department_required",
        object_id=object_id,
    )


def require_department(
    actor: AnyActor,
    ctx: RequestContext,
    action: Action,
    *,
    roles: Iterable[Role | str],
    department_id: str | None,
    object_id: str | None = None,
) -> None:
    """Refuse (409, `department_required`) an account that would work with customers without a
    department: the account as it stands conflicts with the change, not the request's form."""
    if department_id is None and works_with_customers(roles):
        refusal = department_refusal(actor, ctx, action, object_id=object_id)
        raise Conflict(MESSAGE, code="department_required").with_audit(refusal)


def head_role_required() -> Conflict:
    """The refusal (409, `head_role_required`) of a department head without the department_head
    role: the person's roles as they stand conflict with the change, whatever the request says
    (a role added waits for the security officer, so the same request may pass tomorrow)."""
    return Conflict("the head must hold the department_head role", code="head_role_required")
