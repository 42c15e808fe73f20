"""Account changes under dual control (三员分立, C4.2.1, C1.3).

The administrator manages accounts but must never end up holding customer data through them.
So what would let an account reach more (a role added, a head of department named, a move to
another department; a department moved under another parent, users/department_moves.py; a
disabled account enabled again, users/enable.py) is a request that takes effect only when a
security officer approves it; the department's current head is told. What takes access away (a
role removed) applies at once. Every step is audited naming the user, the roles before and
after, and who approved. Filing is users/filing.py, carrying out users/apply.py.

Before any security officer exists (a fresh installation), the roles without customer data
(administrator, security officer, auditor) apply at once so that the company can be set up;
roles with customer data always wait for an officer.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from baomi import clock
from baomi.audit.context import RequestContext
from baomi.audit.service import actor_event, append
from baomi.audit.tags import Action
from baomi.errors import Conflict, FieldError, Forbidden, ValidationFailed
from baomi.notifications import triggers
from baomi.security.actor import Actor
from baomi.security.roles import CUSTOMER_ROLES, Permission, Role, separation_violation
from baomi.users.actors import roles_of
from baomi.users.apply import apply_change, apply_move_out, apply_roles
from baomi.users.filing import (
    active_user,
    change_details,
    change_out,
    file_change,
    get_change,
    known_department,
    subject_name,
)
from baomi.users.guard import require_approver, require_manager, separation_refusal
from baomi.users.models import account_changes
from baomi.users.placement import head_role_required, require_department
from baomi.users.schemas import AccountChangeOut, ChangeKind, ChangeStatus
from baomi.users.service import active_user_ids_with_role


def list_changes(
    conn: Connection, *, actor: Actor, ctx: RequestContext, status: ChangeStatus | None = None
) -> list[AccountChangeOut]:
    """The administrator's and the security officer's list, newest first."""
    if not actor.can(Permission.USER_MANAGE):
        require_approver(actor, ctx, Action.ACCOUNT_CHANGE_APPROVE)
    query = select(account_changes).order_by(account_changes.c.requested_at.desc())
    if status is not None:
        query = query.where(account_changes.c.status == status.value)
    return [change_out(r) for r in conn.execute(query)]


def officer_exists(conn: Connection) -> bool:
    return bool(active_user_ids_with_role(conn, Role.SECURITY_OFFICER))


def request_roles(
    conn: Connection,
    *,
    actor: Actor,
    ctx: RequestContext,
    user_id: str,
    roles: Iterable[Role],
    mail: bool,
) -> AccountChangeOut | None:
    """Change a user's roles: removals apply now; anything added waits for the officer.

    Returns the pending change, or None when everything applied at once.
    """
    require_manager(actor, ctx, Action.ACCOUNT_CHANGE_REQUEST)
    wanted = set(roles)
    check_roles(actor, ctx, wanted)
    user = active_user(conn, user_id)
    if user.id == actor.user_id:
        refusal = actor_event(
            ctx=ctx, actor=actor, action=Action.ACCOUNT_CHANGE_REQUEST, allowed=False,
            reason="own_account", object_id=user.id,
        )  # fmt: skip
        raise Forbidden("nobody changes their own roles", code="own_account").with_audit(refusal)
    before = set(roles_of(conn, user.id))
    added = wanted - before
    if not added:
        if wanted != before:
            apply_roles(conn, ctx=ctx, user=user, roles=wanted, by=actor, approver=None)
        return None
    require_department(
        actor, ctx, Action.ACCOUNT_CHANGE_REQUEST, roles=added,
        department_id=user.department_id, object_id=user.id,
    )  # fmt: skip
    return submit_roles(conn, actor=actor, ctx=ctx, user_id=user.id, roles=wanted, mail=mail)


def check_roles(actor: Actor, ctx: RequestContext, roles: set[Role]) -> None:
    """Refuse a role set that breaks 三员分立 or is empty; the refusal is on record (C1.3)."""
    errors: list[FieldError] = []
    if problem := separation_violation(roles):
        errors.append({"field": "roles", "code": "separation_of_duties", "message": problem})
    if not roles:
        errors.append(
            {"field": "roles", "code": "role_required", "message": "a user needs at least one role"}
        )
    if errors:
        action = Action.ACCOUNT_CHANGE_REQUEST
        refusal = separation_refusal(actor, ctx, action, roles) or actor_event(
            ctx=ctx, actor=actor, action=action, allowed=False, reason="no_role",
            details={"roles": []},
        )  # fmt: skip
        raise ValidationFailed(errors).with_audit(refusal)


def submit_roles(
    conn: Connection,
    *,
    actor: Actor,
    ctx: RequestContext,
    user_id: str,
    roles: set[Role],
    mail: bool,
) -> AccountChangeOut | None:
    """File roles that add to an account (a new one too); apply at once only at bootstrap."""
    user = active_user(conn, user_id)
    before = sorted(r.value for r in roles_of(conn, user.id))
    if not (roles & CUSTOMER_ROLES) and not officer_exists(conn):
        # A fresh installation: nobody could approve yet, and these roles hold no customer data.
        apply_roles(conn, ctx=ctx, user=user, roles=roles, by=actor, approver=None)
        return None
    return file_change(
        conn,
        actor=actor,
        ctx=ctx,
        user=user,
        kind=ChangeKind.ROLES,
        now=clock.utcnow(),
        mail=mail,
        roles_before=before,
        roles_after=sorted(r.value for r in roles),
    )


def request_head(
    conn: Connection,
    *,
    actor: Actor,
    ctx: RequestContext,
    department_id: str,
    user_id: str,
    mail: bool,
) -> AccountChangeOut:
    """Name a department's head (C1.3, C3.2): it takes effect when the officer approves."""
    require_manager(actor, ctx, Action.ACCOUNT_CHANGE_REQUEST)
    user = active_user(conn, user_id)
    dept = known_department(conn, department_id)
    if Role.DEPARTMENT_HEAD not in roles_of(conn, user.id):
        raise head_role_required()
    if dept.head_user_id == user.id:
        raise Conflict("this person already heads the department", code="already_head")
    return file_change(
        conn,
        actor=actor,
        ctx=ctx,
        user=user,
        kind=ChangeKind.HEAD,
        now=clock.utcnow(),
        mail=mail,
        department_after=dept.id,
    )


def request_move(
    conn: Connection,
    *,
    actor: Actor,
    ctx: RequestContext,
    user_id: str,
    department_id: str | None,
    mail: bool,
) -> AccountChangeOut | None:
    """Move a person to another department: it takes effect when the officer approves.

    Out of any department (`department_id` None) applies at once, since it opens nothing, and
    only for someone who does not work with customers (`department_required`); returns None.
    """
    require_manager(actor, ctx, Action.ACCOUNT_CHANGE_REQUEST)
    user = active_user(conn, user_id)
    if department_id is None:
        if user.department_id is None:
            raise Conflict("the person is in no department", code="already_there")
        require_department(
            actor, ctx, Action.ACCOUNT_CHANGE_REQUEST, roles=roles_of(conn, user.id),
            department_id=None, object_id=user.id,
        )  # fmt: skip
        apply_move_out(conn, ctx=ctx, user=user, by=actor)
        return None
    dept = known_department(conn, department_id)
    if user.department_id == dept.id:
        raise Conflict("the person is already in that department", code="already_there")
    return file_change(
        conn,
        actor=actor,
        ctx=ctx,
        user=user,
        kind=ChangeKind.DEPARTMENT,
        now=clock.utcnow(),
        mail=mail,
        department_before=user.department_id,
        department_after=dept.id,
    )


def decide(
    conn: Connection,
    *,
    actor: Actor,
    ctx: RequestContext,
    change_id: str,
    approve: bool,
    mail: bool,
    comment: str | None = None,
) -> AccountChangeOut:
    """The security officer approves (the change applies now) or rejects a pending change;
    whoever asked for it is told (by mail too when `mail`)."""
    action = Action.ACCOUNT_CHANGE_APPROVE if approve else Action.ACCOUNT_CHANGE_REJECT
    require_approver(actor, ctx, action)
    change = get_change(conn, change_id)
    name = subject_name(conn, change)
    if change.user_id == actor.user_id or change.requested_by == actor.user_id:
        refusal = actor_event(
            ctx=ctx, actor=actor, action=action, allowed=False, reason="own_change",
            object_id=change.id,
        )  # fmt: skip
        raise Forbidden(
            "nobody approves a change of their own account or one they asked for",
            code="own_change",
        ).with_audit(refusal)
    if change.status != ChangeStatus.PENDING:
        raise Conflict("this change has already been decided", code="change_not_pending")
    now = clock.utcnow()
    status = ChangeStatus.APPROVED if approve else ChangeStatus.REJECTED
    conn.execute(
        update(account_changes)
        .where(account_changes.c.id == change.id)
        .values(status=status.value, decided_by=actor.user_id, decided_at=now, comment=comment)
    )
    details = {**change_details(change, name), "approved_by": actor.username}
    append(
        conn,
        actor_event(ctx=ctx, actor=actor, action=action, object_id=change.id, details=details),
    )
    if approve:
        apply_change(conn, ctx=ctx, change=change, approver=actor)
    triggers.account_change_decided(
        conn,
        change_id=change.id,
        kind=change.kind,
        username=name if change.user_id is not None else None,
        department=name if change.user_id is None else None,
        requester_id=change.requested_by,
        decider=actor,
        approved=approve,
        now=now,
        mail=mail,
    )
    return get_change(conn, change.id)
