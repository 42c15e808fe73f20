"""Filing an account change for the security officer's decision (三员分立, C4.2.1, C1.3).

A change is about a person (roles, head, department, enable) or about a department (parent: it
moves under another, which changes who supervises it). Filing records the pending row, withdraws
an older pending one of the same kind about the same subject, audits the request with what is
before and after, and tells the officers and the heads concerned. The kinds are asked for in
users/changes.py, users/department_moves.py and users/enable.py, and carried out in apply.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from baomi.audit.context import RequestContext
from baomi.audit.service import actor_event, append
from baomi.audit.tags import Action
from baomi.errors import NotFound
from baomi.ids import is_id, new_id
from baomi.notifications import triggers
from baomi.security.actor import Actor
from baomi.users.models import account_changes, departments, users
from baomi.users.schemas import AccountChangeOut, ChangeKind, ChangeStatus


def active_user(conn: Connection, user_id: str) -> Any:
    """The active user (id, username, department_id), or NotFound."""
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


def known_department(conn: Connection, department_id: str) -> Any:
    """The department (id, name, parent_id, head_user_id), or NotFound: an id of nothing, in the
    path or in the body, is a 404 as everywhere in the API (a 422 says the request is malformed,
    and the document cannot know which ids exist)."""
    row = None
    if is_id(department_id):
        row = conn.execute(
            select(
                departments.c.id,
                departments.c.name,
                departments.c.parent_id,
                departments.c.head_user_id,
            ).where(departments.c.id == department_id)
        ).first()
    if row is None:
        raise NotFound("no such department")
    return row


def change_out(row: Any) -> AccountChangeOut:
    return AccountChangeOut(
        id=row.id,
        user_id=row.user_id,
        department_id=row.department_id,
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
    return change_out(row)


def subject_name(conn: Connection, change: AccountChangeOut) -> str:
    """Whom a change is about, by name: the username, or the department's name (kind parent)."""
    if change.user_id is not None:
        return str(
            conn.execute(select(users.c.username).where(users.c.id == change.user_id)).one()[0]
        )
    name = conn.execute(
        select(departments.c.name).where(departments.c.id == change.department_id)
    ).one()[0]
    return str(name)


def file_change(
    conn: Connection,
    *,
    actor: Actor,
    ctx: RequestContext,
    kind: ChangeKind,
    now: datetime,
    mail: bool,
    user: Any = None,
    department: Any = None,
    **values: Any,
) -> AccountChangeOut:
    """Record a pending change about `user` or (kind parent) `department`, withdrawing an older
    pending one of the same kind about the same subject; audit it and tell the officers and the
    heads concerned (by mail too when `mail`)."""
    assert (user is None) != (department is None), "a change is about a person or a department"
    about = (
        account_changes.c.user_id == user.id
        if user is not None
        else account_changes.c.department_id == department.id
    )
    conn.execute(
        update(account_changes)
        .where(
            about,
            account_changes.c.kind == kind.value,
            account_changes.c.status == ChangeStatus.PENDING.value,
        )
        .values(status=ChangeStatus.WITHDRAWN.value, decided_at=now)
    )
    change_id = new_id()
    conn.execute(
        insert(account_changes).values(
            id=change_id,
            user_id=user.id if user is not None else None,
            department_id=department.id if department is not None else None,
            kind=kind.value,
            status=ChangeStatus.PENDING.value,
            requested_by=actor.user_id,
            requested_at=now,
            **values,
        )
    )
    change = get_change(conn, change_id)
    name = user.username if user is not None else department.name
    append(
        conn,
        actor_event(
            ctx=ctx,
            actor=actor,
            action=Action.ACCOUNT_CHANGE_REQUEST,
            object_id=change_id,
            details=change_details(change, name),
        ),
    )
    triggers.account_change_filed(
        conn,
        change_id=change_id,
        kind=kind.value,
        username=user.username if user is not None else None,
        department=department.name if department is not None else None,
        requester=actor,
        heads=heads_concerned(conn, change),
        now=now,
        mail=mail,
    )
    return change


def change_details(change: AccountChangeOut, name: str) -> dict[str, Any]:
    """What the audit log says of a change: whom, and what before and after (ids and codes)."""
    if change.kind == ChangeKind.PARENT:
        # Parents by id; None is the top level (C1.3: whose heads supervise the department).
        return {
            "department": name,
            "kind": change.kind,
            "parent_before": change.department_before,
            "parent_after": change.department_after,
        }
    details: dict[str, Any] = {"user": name, "kind": change.kind}
    if change.roles_after is not None:
        details.update(roles_before=change.roles_before, roles_after=change.roles_after)
    if change.department_after is not None:
        details.update(
            department_before=change.department_before, department_after=change.department_after
        )
    return details


def heads_concerned(conn: Connection, change: AccountChangeOut) -> list[str]:
    """The current heads of the departments a change touches: the one a head is named to; the
    old and new department of a move; the department that moves and its old and new parent."""
    ids = [change.department_before, change.department_after, change.department_id]
    if change.kind == ChangeKind.HEAD:
        ids = [change.department_after]
    if change.kind == ChangeKind.ENABLE and change.user_id is not None:
        ids = [
            conn.execute(select(users.c.department_id).where(users.c.id == change.user_id))
            .one()
            .department_id
        ]
    heads = conn.execute(
        select(departments.c.head_user_id).where(
            departments.c.id.in_([i for i in ids if i]), departments.c.head_user_id.is_not(None)
        )
    )
    return sorted({str(h) for (h,) in heads if h != change.user_id})
