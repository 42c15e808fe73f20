"""Carry out an account change once it may take effect (三员分立, C1.3): the roles, the head of
a department, the department, a department's parent, or an account enabled again; audited naming
the user (or department), before and after, and the approver. The person's sessions end so that
every next request runs under the new account. What the request checked is checked again: the
organisation may have changed while the change waited.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from baomi.audit.context import RequestContext
from baomi.audit.service import actor_event, append
from baomi.audit.tags import Action
from baomi.auth import sessions
from baomi.errors import Conflict, ValidationFailed
from baomi.security.actor import Actor
from baomi.security.roles import Role, separation_violation
from baomi.users.actors import roles_of
from baomi.users.department_moves import move_department
from baomi.users.enable import enable_account
from baomi.users.guard import separation_refusal
from baomi.users.models import departments, user_roles, users
from baomi.users.placement import require_department
from baomi.users.schemas import AccountChangeOut, ChangeKind


def apply_change(
    conn: Connection, *, ctx: RequestContext, change: AccountChangeOut, approver: Actor
) -> None:
    if change.kind == ChangeKind.PARENT:
        assert change.department_id is not None
        move_department(
            conn,
            ctx=ctx,
            department_id=change.department_id,
            parent_id=change.department_after,
            approver=approver,
            change_id=change.id,
        )
        return
    subject = conn.execute(
        select(users.c.id, users.c.username, users.c.department_id).where(
            users.c.id == change.user_id
        )
    ).one()
    if change.kind == ChangeKind.ENABLE:
        enable_account(conn, ctx=ctx, user=subject, by=approver, change_id=change.id)
        return
    if change.kind == ChangeKind.ROLES:
        roles = {Role(r) for r in change.roles_after or []}
        # The account may have changed since the request: 三员分立 is checked again, and the
        # refusal is on record like the request's would have been (C1.3).
        if problem := separation_violation(roles):
            error = ValidationFailed(
                [{"field": "roles", "code": "separation_of_duties", "message": problem}]
            )
            refusal = separation_refusal(
                approver, ctx, Action.ACCOUNT_CHANGE_APPROVE, roles, object_id=change.id
            )
            raise error.with_audit(refusal) if refusal else error
        added = roles - roles_of(conn, subject.id)
        require_department(
            approver, ctx, Action.ACCOUNT_CHANGE_APPROVE, roles=added,
            department_id=subject.department_id, object_id=change.id,
        )  # fmt: skip
        apply_roles(conn, ctx=ctx, user=subject, roles=roles, by=approver, approver=approver)
        return
    target = change.department_after
    assert target is not None
    details: dict[str, Any] = {"user": subject.username, "change": change.id}
    if change.kind == ChangeKind.HEAD:
        if Role.DEPARTMENT_HEAD not in roles_of(conn, subject.id):
            raise Conflict("the person no longer holds the department_head role", code="stale")
        previous = conn.execute(
            select(departments.c.head_user_id).where(departments.c.id == target)
        ).scalar()
        conn.execute(
            update(departments).where(departments.c.id == target).values(head_user_id=subject.id)
        )
        action = Action.DEPARTMENT_HEAD_CHANGE
        details.update(department=target, previous_head=previous)
    else:
        conn.execute(update(users).where(users.c.id == subject.id).values(department_id=target))
        action = Action.USER_MOVE
        details.update(department_before=change.department_before, department_after=target)
    append(
        conn,
        actor_event(ctx=ctx, actor=approver, action=action, object_id=subject.id, details=details),
    )
    sessions.end_all(
        conn, ctx=ctx, user_id=subject.id, reason=sessions.EndReason.ACCOUNT_CHANGED, by=approver
    )


def apply_move_out(conn: Connection, *, ctx: RequestContext, user: Any, by: Actor) -> None:
    """Take a person out of any department at once (nothing opens; placement.py says who may)."""
    conn.execute(update(users).where(users.c.id == user.id).values(department_id=None))
    details = {
        "user": user.username,
        "department_before": user.department_id,
        "department_after": None,
    }
    append(
        conn,
        actor_event(ctx=ctx, actor=by, action=Action.USER_MOVE, object_id=user.id, details=details),
    )
    sessions.end_all(
        conn, ctx=ctx, user_id=user.id, reason=sessions.EndReason.ACCOUNT_CHANGED, by=by
    )


def apply_roles(
    conn: Connection,
    *,
    ctx: RequestContext,
    user: Any,
    roles: set[Role],
    by: Actor,
    approver: Actor | None,
) -> None:
    before = sorted(r.value for r in roles_of(conn, user.id))
    conn.execute(delete(user_roles).where(user_roles.c.user_id == user.id))
    conn.execute(insert(user_roles), [{"user_id": user.id, "role": r.value} for r in roles])
    if Role.DEPARTMENT_HEAD not in roles:
        # A head without the role heads nothing (C1.3: a named, current head).
        conn.execute(
            update(departments)
            .where(departments.c.head_user_id == user.id)
            .values(head_user_id=None)
        )
    append(
        conn,
        actor_event(
            ctx=ctx,
            actor=by,
            action=Action.USER_ROLES_CHANGE,
            object_id=user.id,
            reason="approved" if approver else ("bootstrap" if roles - set(before) else "ok"),
            details={
                "user": user.username,
                "roles_before": before,
                "roles_after": sorted(r.value for r in roles),
                "approved_by": approver.username if approver else None,
            },
        ),
    )
    # What the person may do changed: every session starts again under the new roles.
    sessions.end_all(
        conn, ctx=ctx, user_id=user.id, reason=sessions.EndReason.ACCOUNT_CHANGED, by=by
    )
