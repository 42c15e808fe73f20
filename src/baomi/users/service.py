"""Organisation use cases: departments, users, roles, authentication (the actor of a request
is users/actors.py)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from baomi import clock
from baomi.audit.context import RequestContext
from baomi.audit.service import actor_event, append
from baomi.audit.tags import Action
from baomi.auth import sessions
from baomi.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from baomi.ids import new_id
from baomi.security.actor import Actor, AnyActor, SystemActor
from baomi.security.roles import Permission, Role, permissions_of, separation_violation
from baomi.users.actors import roles_of
from baomi.users.departments import checked_name
from baomi.users.guard import require_manager, separation_refusal
from baomi.users.models import departments, user_roles, users
from baomi.users.passwords import NO_PASSWORD, hash_password, password_problem, verify_password
from baomi.users.placement import (
    DEPARTMENT_REQUIRED,
    department_refusal,
    head_role_required,
    works_with_customers,
)
from baomi.users.schemas import DepartmentOut, EmploymentType, UserOut

# 三员分立: each duty needs at least one active holder.
DUTIES = frozenset({Role.ADMINISTRATOR, Role.SECURITY_OFFICER, Role.AUDITOR})


def _audit(
    conn: Connection,
    actor: AnyActor,
    ctx: RequestContext,
    action: Action,
    object_id: str,
    details: dict[str, object] | None = None,
) -> None:
    append(
        conn,
        actor_event(ctx=ctx, actor=actor, action=action, object_id=object_id, details=details),
    )


def create_department(
    conn: Connection,
    *,
    actor: AnyActor,
    ctx: RequestContext,
    name: str,
    parent_id: str | None = None,
    head_user_id: str | None = None,
) -> str:
    """Create a department under an optional parent; return its id."""
    require_manager(actor, ctx, Action.DEPARTMENT_CREATE)
    name = checked_name(conn, name)
    if parent_id is not None:
        _department_row(conn, parent_id)
    department_id = new_id()
    conn.execute(
        insert(departments).values(
            id=department_id,
            name=name,
            parent_id=parent_id,
            head_user_id=head_user_id,
            created_at=clock.utcnow(),
        )
    )
    _audit(conn, actor, ctx, Action.DEPARTMENT_CREATE, department_id)
    return department_id


def set_department_head(
    conn: Connection, *, actor: SystemActor, ctx: RequestContext, department_id: str, user_id: str
) -> None:
    """Make a user the supervising head of a department at once (C1.3, C3.2).

    For seeding only (the demo company, tests), hence a SystemActor: a person (the
    administrator) names a head through users/changes.request_head, which waits for the
    security officer's approval.
    """
    require_manager(actor, ctx, Action.DEPARTMENT_HEAD_CHANGE)
    _department_row(conn, department_id)
    if Role.DEPARTMENT_HEAD not in roles_of(conn, user_id):
        raise head_role_required()
    conn.execute(
        update(departments).where(departments.c.id == department_id).values(head_user_id=user_id)
    )
    _audit(
        conn,
        actor,
        ctx,
        Action.DEPARTMENT_HEAD_CHANGE,
        department_id,
        {"department": department_id, "head": user_id},
    )


def create_user(
    conn: Connection,
    *,
    actor: AnyActor,
    ctx: RequestContext,
    username: str,
    display_name: str,
    employment_type: EmploymentType,
    department_id: str | None,
    roles: Iterable[Role],
    email: str | None = None,
    password: str | None = None,
    grant_roles: bool = True,
) -> str:
    """Create a user, enforcing the password rules and 三员分立; return the id.

    Without a password the account waits for its person to set one (users/activation.py).
    The administrator's path is users/invite.py, which grants no role itself (`grant_roles`
    False): roles go through the officer's approval (users/changes.py). Seeding (the demo
    company, tests) passes a password and grants the roles directly.
    """
    require_manager(actor, ctx, Action.USER_CREATE)
    if grant_roles and not isinstance(actor, SystemActor):
        # F1 of issue 10: a person's new account gets its roles through the officer's approval
        # (users/changes.py); only seeding and the first administrator get them directly.
        unapproved = actor_event(
            ctx=ctx,
            actor=actor,
            action=Action.USER_CREATE,
            allowed=False,
            reason="roles_need_approval",
            details={"username": username},
        )
        raise Forbidden(
            "roles of a new account wait for the security officer's approval",
            code="roles_need_approval",
        ).with_audit(unapproved)
    role_set = set(roles)
    errors: list[FieldError] = []
    if password is not None and (problem := password_problem(password, [username, display_name])):
        errors.append({"field": "password", "code": "password_weak", "message": problem})
    if problem := separation_violation(role_set):
        errors.append({"field": "roles", "code": "separation_of_duties", "message": problem})
    if not role_set:
        errors.append(
            {"field": "roles", "code": "role_required", "message": "a user needs at least one role"}
        )
    homeless = department_id is None and works_with_customers(role_set)
    if homeless:
        errors.append(DEPARTMENT_REQUIRED)
    if errors:
        error = ValidationFailed(errors)
        # 三员分立 and placement refusals are on record (C1.3), as in users/changes.check_roles.
        if refusal := separation_refusal(actor, ctx, Action.USER_CREATE, role_set):
            error.with_audit(refusal)
        elif homeless:
            error.with_audit(department_refusal(actor, ctx, Action.USER_CREATE))
        raise error
    if department_id is not None:
        _department_row(conn, department_id)
    if conn.execute(select(users.c.id).where(users.c.username == username)).first():
        raise Conflict(f"username {username!r} is taken", code="username_taken")
    user_id = new_id()
    conn.execute(
        insert(users).values(
            id=user_id,
            username=username,
            display_name=display_name,
            password_hash=hash_password(password) if password is not None else NO_PASSWORD,
            employment_type=employment_type.value,
            department_id=department_id,
            is_active=True,
            created_at=clock.utcnow(),
            email=email,
        )
    )
    if grant_roles:
        conn.execute(insert(user_roles), [{"user_id": user_id, "role": r.value} for r in role_set])
    details: dict[str, object] = {"user": username}
    details["roles" if grant_roles else "roles_requested"] = sorted(role_set)
    _audit(conn, actor, ctx, Action.USER_CREATE, user_id, details)
    return user_id


def disable_user(conn: Connection, *, actor: AnyActor, ctx: RequestContext, user_id: str) -> None:
    """Disable a user: they can no longer log in; their record stays for audit (C4.5.3).

    The last active holder of a duty of 三员分立 (administrator, security officer, auditor) is
    not disabled: nobody could then manage accounts, approve, or read the log (issue 19).
    """
    require_manager(actor, ctx, Action.USER_DISABLE)
    for duty in sorted(roles_of(conn, user_id) & DUTIES):
        if active_user_ids_with_role(conn, duty) == [user_id]:
            refusal = actor_event(
                ctx=ctx,
                actor=actor,
                action=Action.USER_DISABLE,
                allowed=False,
                reason="last_holder_of_duty",
                object_id=user_id,
                details={"duty": duty.value},
            )
            raise Conflict(
                f"this is the only active {duty.value.replace('_', ' ')}: name another one "
                "before disabling this account",
                code="last_holder_of_duty",
            ).with_audit(refusal)
    result = conn.execute(
        update(users)
        .where(users.c.id == user_id, users.c.is_active.is_(True))
        .values(is_active=False, disabled_at=clock.utcnow())
    )
    if result.rowcount == 0:
        raise NotFound("no active user with that id")
    _audit(conn, actor, ctx, Action.USER_DISABLE, user_id)
    # C4.5.2: every session of the person ends at once, not at its next timeout.
    sessions.end_all(
        conn, ctx=ctx, user_id=user_id, reason=sessions.EndReason.USER_DISABLED, by=actor
    )


def set_password(conn: Connection, *, user_id: str, password: str, field: str = "password") -> None:
    """Store a new password for a user once it meets the rules (ASVS V6.2; C4.2.4)."""
    row = conn.execute(
        select(users.c.username, users.c.display_name).where(users.c.id == user_id)
    ).first()
    if row is None:
        raise NotFound("no user with that id")
    if problem := password_problem(password, [row.username, row.display_name]):
        raise ValidationFailed([{"field": field, "code": "password_weak", "message": problem}])
    conn.execute(
        update(users).where(users.c.id == user_id).values(password_hash=hash_password(password))
    )


def authenticate(conn: Connection, *, username: str, password: str) -> str | None:
    """Return the id of the active user with these credentials, or None."""
    row = conn.execute(
        select(users.c.id, users.c.password_hash, users.c.is_active).where(
            users.c.username == username
        )
    ).first()
    ok = verify_password(row.password_hash if row else None, password)
    if row is None or not ok or not row.is_active:
        return None
    return str(row.id)


def user_id_by_username(conn: Connection, username: str) -> str:
    row = conn.execute(select(users.c.id).where(users.c.username == username)).first()
    if row is None:
        raise NotFound(f"no user named {username!r}")
    return str(row.id)


def department_id_by_name(conn: Connection, name: str) -> str:
    row = conn.execute(select(departments.c.id).where(departments.c.name == name)).first()
    if row is None:
        raise NotFound(f"no department named {name!r}")
    return str(row.id)


def list_users(conn: Connection) -> list[UserOut]:
    """Return all users with their roles and department names."""
    role_map: dict[str, list[Role]] = {}
    for user_id, role in conn.execute(select(user_roles.c.user_id, user_roles.c.role)):
        role_map.setdefault(user_id, []).append(Role(role))
    rows = conn.execute(
        select(users, departments.c.name.label("department_name"))
        .select_from(users.outerjoin(departments, users.c.department_id == departments.c.id))
        .order_by(users.c.username)
    )
    return [
        UserOut(
            id=r.id,
            username=r.username,
            display_name=r.display_name,
            employment_type=EmploymentType(r.employment_type),
            department_id=r.department_id,
            department_name=r.department_name,
            roles=sorted(role_map.get(r.id, [])),
            is_active=r.is_active,
            created_at=r.created_at,
            email=r.email,
            activation_pending=r.password_hash == NO_PASSWORD,
        )
        for r in rows
    ]


def list_departments(conn: Connection) -> list[DepartmentOut]:
    rows = conn.execute(select(departments).order_by(departments.c.name))
    return [
        DepartmentOut(id=r.id, name=r.name, parent_id=r.parent_id, head_user_id=r.head_user_id)
        for r in rows
    ]


def heads_of(conn: Connection, department_id: str | None) -> list[str]:
    """Return the heads of a department and of every department above it, nearest first."""
    depts = {d.id: d for d in list_departments(conn)}
    out: list[str] = []
    seen: set[str] = set()  # a cycle would be a data error; never loop on it
    current = department_id
    while current is not None and current in depts and current not in seen:
        seen.add(current)
        head = depts[current].head_user_id
        if head and head not in out:
            out.append(head)
        current = depts[current].parent_id
    return out


def handler_placement(conn: Connection, user_id: str) -> tuple[str, str]:
    """Return (user id, department id) of a person who may handle customers (C1.3, 三员分立):
    404 for an id of nobody, as for an unknown customer; 422 for someone who may not."""
    row = conn.execute(
        select(users.c.id, users.c.department_id, users.c.is_active).where(users.c.id == user_id)
    ).first()
    if row is None:
        raise NotFound("no user with that id")
    works = Permission.CUSTOMER_WORK in permissions_of(roles_of(conn, user_id))
    if not row.is_active or row.department_id is None or not works:
        raise ValidationFailed(
            [
                {
                    "field": "handler_id",
                    "code": "handler_not_eligible",
                    "message": "the handler must be an active salesperson or head in a department",
                }
            ]
        )
    return str(row.id), str(row.department_id)


def _department_row(conn: Connection, department_id: str) -> None:
    if not conn.execute(select(departments.c.id).where(departments.c.id == department_id)).first():
        raise NotFound("no such department")


def locale_of(conn: Connection, user_id: str) -> str | None:
    """Return the web UI language a user chose, or None to follow the browser."""
    row = conn.execute(select(users.c.locale).where(users.c.id == user_id)).first()
    return row.locale if row is not None else None


def set_locale(
    conn: Connection,
    *,
    actor: Actor,
    ctx: RequestContext,
    locale: str | None,
    supported: frozenset[str],
) -> None:
    """Store the actor's own web UI language (None: follow the browser again)."""
    if locale is not None and locale not in supported:
        raise ValidationFailed(
            [
                {
                    "field": "locale",
                    "code": "locale_unsupported",
                    "message": f"one of {', '.join(sorted(supported))}",
                }
            ]
        )
    conn.execute(update(users).where(users.c.id == actor.user_id).values(locale=locale))
    _audit(conn, actor, ctx, Action.USER_PREFERENCES, actor.user_id, {"locale": locale})


def notification_addresses(conn: Connection, user_ids: Iterable[str]) -> dict[str, str | None]:
    """Return the active users among `user_ids`, each with their e-mail address or None."""
    wanted = sorted(set(user_ids))
    if not wanted:
        return {}
    rows = conn.execute(
        select(users.c.id, users.c.email).where(users.c.id.in_(wanted), users.c.is_active.is_(True))
    )
    return {str(r.id): r.email for r in rows}


def active_user_ids_with_role(conn: Connection, role: Role) -> list[str]:
    """Return the ids of the active users holding a role (e.g. every security officer)."""
    rows = conn.execute(
        select(users.c.id)
        .join(user_roles, user_roles.c.user_id == users.c.id)
        .where(user_roles.c.role == role.value, users.c.is_active.is_(True))
        .order_by(users.c.id)
    )
    return [str(user_id) for (user_id,) in rows]
