"""The actor of a request: an active user with their roles and the department subtree they head.

Loaded on every request (api/deps.py, api/unit.py), so its statements are compiled once and run
on the driver's cursor on SQLite (db_direct).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from baomi.db_direct import DirectStatement
from baomi.security.actor import Actor
from baomi.security.roles import Role
from baomi.users.models import departments, user_roles, users

_ROLES = DirectStatement(
    select(user_roles.c.role).where(user_roles.c.user_id == bindparam("user_id"))
)
_ACTIVE_USER = DirectStatement(
    select(
        users.c.id,
        users.c.username,
        users.c.display_name,
        users.c.department_id,
        users.c.employment_type,
        users.c.totp_enabled_at,
    ).where(users.c.id == bindparam("user_id"), users.c.is_active.is_(True))
)


def roles_of(conn: Connection, user_id: str) -> frozenset[Role]:
    return frozenset(Role(r.role) for r in _ROLES.all(conn, {"user_id": user_id}))


def department_subtree(conn: Connection, roots: Iterable[str]) -> frozenset[str]:
    """Return the given departments with all their descendants."""
    edges = conn.execute(select(departments.c.id, departments.c.parent_id)).all()
    children: dict[str, list[str]] = {}
    for dept_id, parent_id in edges:
        if parent_id is not None:
            children.setdefault(parent_id, []).append(dept_id)
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(children.get(current, ()))
    return frozenset(seen)


def load_actor(conn: Connection, user_id: str) -> Actor | None:
    """Build the Actor for an active user, with the department subtree they head."""
    row = _ACTIVE_USER.first(conn, {"user_id": user_id})
    if row is None:
        return None
    roles = roles_of(conn, user_id)
    headed: frozenset[str] = frozenset()
    if Role.DEPARTMENT_HEAD in roles:
        heads = conn.execute(select(departments.c.id).where(departments.c.head_user_id == user_id))
        headed = department_subtree(conn, [d for (d,) in heads])
    return Actor(
        user_id=str(row.id),
        username=row.username,
        display_name=row.display_name,
        roles=roles,
        department_id=row.department_id,
        employment_type=row.employment_type,
        headed_departments=headed,
        mfa_enrolled=row.totp_enabled_at is not None,
    )
