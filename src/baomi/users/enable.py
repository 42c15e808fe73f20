"""A disabled account enabled again (C4.5.3 keeps it on record; C4.2.1, 三员分立, issue 19).

Giving an account back its access to customer data is like giving it a role: an account holding a
role that works with customers (salesperson, department head) is enabled only when the security
officer approves (an account change of kind "enable"), and only with a department
(users/placement.py). Any other account is enabled by the administrator at once. Either way the
person signs in with the password and second factor they had; the step is audited.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from baomi import clock
from baomi.audit.context import RequestContext
from baomi.audit.service import actor_event, append
from baomi.audit.tags import Action
from baomi.errors import Conflict, NotFound
from baomi.ids import is_id
from baomi.security.actor import Actor
from baomi.users.actors import roles_of
from baomi.users.filing import file_change
from baomi.users.guard import require_manager
from baomi.users.models import users
from baomi.users.placement import require_department, works_with_customers
from baomi.users.schemas import AccountChangeOut, ChangeKind


def _disabled_user(conn: Connection, user_id: str) -> Any:
    row = None
    if is_id(user_id):
        row = conn.execute(
            select(users.c.id, users.c.username, users.c.department_id, users.c.is_active).where(
                users.c.id == user_id
            )
        ).first()
    if row is None:
        raise NotFound("no user with that id")
    if row.is_active:
        raise Conflict("the account is not disabled", code="already_active")
    return row


def request_enable(
    conn: Connection, *, actor: Actor, ctx: RequestContext, user_id: str, mail: bool
) -> AccountChangeOut | None:
    """Enable a disabled account: at once (None), or as a change for the officer (C4.2.1)."""
    require_manager(actor, ctx, Action.USER_ENABLE)
    user = _disabled_user(conn, user_id)
    roles = roles_of(conn, user.id)
    if not works_with_customers(roles):
        enable_account(conn, ctx=ctx, user=user, by=actor)
        return None
    require_department(
        actor, ctx, Action.USER_ENABLE, roles=roles, department_id=user.department_id,
        object_id=user.id,
    )  # fmt: skip
    return file_change(
        conn,
        actor=actor,
        ctx=ctx,
        user=user,
        kind=ChangeKind.ENABLE,
        now=clock.utcnow(),
        mail=mail,
    )


def enable_account(
    conn: Connection, *, ctx: RequestContext, user: Any, by: Actor, change_id: str | None = None
) -> None:
    """Let the person sign in again; `change_id` names the officer's approval (apply.py)."""
    current = _disabled_user(conn, user.id)
    # The account may have changed while the change waited: the rule is checked again.
    require_department(
        by, ctx, Action.USER_ENABLE, roles=roles_of(conn, user.id),
        department_id=current.department_id, object_id=user.id,
    )  # fmt: skip
    conn.execute(
        update(users).where(users.c.id == user.id).values(is_active=True, disabled_at=None)
    )
    details: dict[str, Any] = {"user": user.username}
    if change_id is not None:
        details.update(change=change_id, approved_by=by.username)
    append(
        conn,
        actor_event(
            ctx=ctx, actor=by, action=Action.USER_ENABLE, object_id=user.id, details=details
        ),
    )
