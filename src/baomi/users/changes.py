"""Account changes under dual control (三员分立, C4.2.1, C1.3).

The administrator manages accounts but must never end up holding customer data through them.
So what would let an account reach more (a role added, a head of department named, a move to
another department) is a request that takes effect only when a security officer approves it;
the department's current head is told. What takes access away (a role removed) applies at once.
Every step is audited naming the user, the roles before and after, and who approved.

Before any security officer exists (a fresh installation), the roles without customer data
(administrator, security officer, auditor) apply at once so that the company can be set up;
roles with customer data always wait for an officer.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from baomi import clock
from baomi.audit.context import RequestContext
from baomi.audit.service import actor_event, append
from baomi.audit.tags import Action
from baomi.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from baomi.ids import is_id, new_id
from baomi.notifications import triggers
from baomi.security.actor import Actor
from baomi.security.roles import CUSTOMER_ROLES, Permission, Role, separation_violation
from baomi.users.actors import roles_of
from baomi.users.apply import apply_change, apply_roles
from baomi.users.guard import require_approver, require_manager, separation_refusal
from baomi.users.models import account_changes, departments, users
from baomi.users.schemas import AccountChangeOut, ChangeKind, ChangeStatus
from baomi.users.service import active_user_ids_with_role


def _user(conn: Connection, user_id: str) -> Any:
    row = None
    if is_id(user_id):
        row = conn.execute(
            select(users.c.id, users.c.username, users.c.department_id).where(
                users.c.id == user_id, users.c.is_active.is_(True)
            )
        ).first()
    if row is None:
        raise NotFound("no active user with that id")
    return row


def _department(conn: Connection, department_id: str) -> Any:
    row = None
    if is_id(department_id):
        row = conn.execute(
            select(departments.c.id, departments.c.name, departments.c.head_user_id).where(
                departments.c.id == department_id
            )
        ).first()
    if row is None:
        raise ValidationFailed(
            [
                {
                    "field": "department_id",
                    "code": "department_unknown",
                    "message": "no such department",
                }
            ]
        )
    return row


def _out(row: Any) -> AccountChangeOut:
    return AccountChangeOut(
        id=row.id,
        user_id=row.user_id,
        kind=row.kind,
        roles_before=row.roles_before,
        roles_after=row.roles_after,
        department_before=row.department_before,
        department_after=row.department_after,
        status=row.status,
        requested_by=row.requested_by,
        requested_at=row.requested_at,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        comment=row.comment,
    )


def get_change(conn: Connection, change_id: str) -> AccountChangeOut:
    row = None
    if is_id(change_id):
        row = conn.execute(select(account_changes).where(account_changes.c.id == change_id)).first()
    if row is None:
        raise NotFound("no such account change")
    return _out(row)


def list_changes(
    conn: Connection, *, actor: Actor, ctx: RequestContext, status: ChangeStatus | None = None
) -> list[AccountChangeOut]:
    """The administrator's and the security officer's list, newest first."""
    if not actor.can(Permission.USER_MANAGE):
        require_approver(actor, ctx, Action.ACCOUNT_CHANGE_APPROVE)
    query = select(account_changes).order_by(account_changes.c.requested_at.desc())
    if status is not None:
        query = query.where(account_changes.c.status == status.value)
    return [_out(r) for r in conn.execute(query)]


def officer_exists(conn: Connection) -> bool:
    return bool(active_user_ids_with_role(conn, Role.SECURITY_OFFICER))


def _file(
    conn: Connection,
    *,
    actor: Actor,
    ctx: RequestContext,
    user: Any,
    kind: ChangeKind,
    now: datetime,
    mail: bool,
    **values: Any,
) -> AccountChangeOut:
    """Record a pending change (withdrawing an older pending one of the same kind), audit it,
    and tell the officers and the heads concerned (by mail too when `mail`)."""
    conn.execute(
        update(account_changes)
        .where(
            account_changes.c.user_id == user.id,
            account_changes.c.kind == kind.value,
            account_changes.c.status == ChangeStatus.PENDING.value,
        )
        .values(status=ChangeStatus.WITHDRAWN.value, decided_at=now)
    )
    change_id = new_id()
    conn.execute(
        insert(account_changes).values(
            id=change_id,
            user_id=user.id,
            kind=kind.value,
            status=ChangeStatus.PENDING.value,
            requested_by=actor.user_id,
            requested_at=now,
            **values,
        )
    )
    change = get_change(conn, change_id)
    append(
        conn,
        actor_event(
            ctx=ctx,
            actor=actor,
            action=Action.ACCOUNT_CHANGE_REQUEST,
            object_id=change_id,
            details=_details(change, user.username),
        ),
    )
    triggers.account_change_filed(
        conn,
        change_id=change_id,
        kind=kind.value,
        username=user.username,
        requester=actor,
        heads=_heads_concerned(conn, change),
        now=now,
        mail=mail,
    )
    return change


def _details(change: AccountChangeOut, username: str) -> dict[str, Any]:
    """What the audit log says of a change: who, and what before and after (ids and codes)."""
    details: dict[str, Any] = {"user": username, "kind": change.kind}
    if change.roles_after is not None:
        details.update(roles_before=change.roles_before, roles_after=change.roles_after)
    if change.department_after is not None:
        details.update(
            department_before=change.department_before, department_after=change.department_after
        )
    return details


def _heads_concerned(conn: Connection, change: AccountChangeOut) -> list[str]:
    """The current heads of the departments a head change or a move touches."""
    ids = [change.department_before, change.department_after]
    if change.kind == ChangeKind.HEAD:
        ids = [change.department_after]
    heads = conn.execute(
        select(departments.c.head_user_id).where(
            departments.c.id.in_([i for i in ids if i]), departments.c.head_user_id.is_not(None)
        )
    )
    return [str(h) for (h,) in heads if h != change.user_id]


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
    user = _user(conn, user_id)
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
    user = _user(conn, user_id)
    before = sorted(r.value for r in roles_of(conn, user.id))
    if not (roles & CUSTOMER_ROLES) and not officer_exists(conn):
        # A fresh installation: nobody could approve yet, and these roles hold no customer data.
        apply_roles(conn, ctx=ctx, user=user, roles=roles, by=actor, approver=None)
        return None
    return _file(
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
    user = _user(conn, user_id)
    dept = _department(conn, department_id)
    if Role.DEPARTMENT_HEAD not in roles_of(conn, user.id):
        raise ValidationFailed(
            [
                {
                    "field": "user_id",
                    "code": "head_role_required",
                    "message": "the head must hold the department_head role",
                }
            ]
        )
    if dept.head_user_id == user.id:
        raise Conflict("this person already heads the department", code="already_head")
    return _file(
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
    department_id: str,
    mail: bool,
) -> AccountChangeOut:
    """Move a person to another department: it takes effect when the officer approves."""
    require_manager(actor, ctx, Action.ACCOUNT_CHANGE_REQUEST)
    user = _user(conn, user_id)
    dept = _department(conn, department_id)
    if user.department_id == dept.id:
        raise Conflict("the person is already in that department", code="already_there")
    return _file(
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
    user = conn.execute(select(users.c.id, users.c.username).where(users.c.id == change.user_id))
    subject = user.one()
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
    details = {**_details(change, subject.username), "approved_by": actor.username}
    append(
        conn,
        actor_event(ctx=ctx, actor=actor, action=action, object_id=change.id, details=details),
    )
    if approve:
        apply_change(conn, ctx=ctx, change=change, subject=subject, approver=actor)
    triggers.account_change_decided(
        conn,
        change_id=change.id,
        kind=change.kind,
        username=subject.username,
        requester_id=change.requested_by,
        decider=actor,
        approved=approve,
        now=now,
        mail=mail,
    )
    return get_change(conn, change.id)
