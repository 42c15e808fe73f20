"""A department moves under another parent, or to the top level (C1.3, 三员分立, issue 19).

A head sees their department's whole subtree (users/actors.department_subtree), so moving a
department changes who supervises its people and their customers: the heads above its new place
gain them. Like a person's move, it is an account change (kind "parent", about the department,
with no user) that takes effect when the security officer approves; the heads concerned are told.

The change row keeps the old parent in `department_before` and the new one in
`department_after`; NULL is the top level. Every parent change moves the department somewhere,
so a NULL there never means "not given": `ParentIn` makes `parent_id` a required key whose null
is the top, and a request that changes nothing is refused (`already_there`).

A move that would put a department below itself (under itself or one of its own descendants) is
refused with `department_cycle`, when it is asked for and again when it is approved: another move
may have been approved in between.
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
from baomi.users.actors import department_subtree
from baomi.users.filing import file_change
from baomi.users.guard import require_manager
from baomi.users.models import departments
from baomi.users.schemas import AccountChangeOut, ChangeKind


def _department(conn: Connection, department_id: str | None) -> Any:
    row = None
    if department_id is not None and is_id(department_id):
        row = conn.execute(
            select(departments.c.id, departments.c.name, departments.c.parent_id).where(
                departments.c.id == department_id
            )
        ).first()
    if row is None:
        raise NotFound("no such department")
    return row


def _refuse_cycle(
    conn: Connection,
    *,
    actor: Actor,
    ctx: RequestContext,
    action: Action,
    department: Any,
    parent_id: str | None,
    object_id: str,
) -> None:
    """Refuse, on record, a parent that is the department itself or below it."""
    if parent_id is None or parent_id not in department_subtree(conn, [department.id]):
        return
    refusal = actor_event(
        ctx=ctx,
        actor=actor,
        action=action,
        allowed=False,
        reason="department_cycle",
        object_id=object_id,
        details={"department": department.id, "parent_after": parent_id},
    )
    raise Conflict(
        f"{department.name} cannot move under itself or a department below it",
        code="department_cycle",
    ).with_audit(refusal)


def request_parent(
    conn: Connection,
    *,
    actor: Actor,
    ctx: RequestContext,
    department_id: str,
    parent_id: str | None,
    mail: bool,
) -> AccountChangeOut:
    """Move a department under `parent_id` (None: to the top level) once the officer approves."""
    require_manager(actor, ctx, Action.ACCOUNT_CHANGE_REQUEST)
    department = _department(conn, department_id)
    parent = _department(conn, parent_id).id if parent_id is not None else None
    if department.parent_id == parent:
        where = "at the top level" if parent is None else "under that department"
        raise Conflict(f"{department.name} is already {where}", code="already_there")
    _refuse_cycle(
        conn,
        actor=actor,
        ctx=ctx,
        action=Action.ACCOUNT_CHANGE_REQUEST,
        department=department,
        parent_id=parent,
        object_id=department.id,
    )
    return file_change(
        conn,
        actor=actor,
        ctx=ctx,
        department=department,
        kind=ChangeKind.PARENT,
        now=clock.utcnow(),
        mail=mail,
        department_before=department.parent_id,
        department_after=parent,
    )


def move_department(
    conn: Connection,
    *,
    ctx: RequestContext,
    department_id: str,
    parent_id: str | None,
    approver: Actor,
    change_id: str,
) -> None:
    """Carry out an approved parent change, checking the tree again (apply.py)."""
    department = _department(conn, department_id)
    _refuse_cycle(
        conn,
        actor=approver,
        ctx=ctx,
        action=Action.ACCOUNT_CHANGE_APPROVE,
        department=department,
        parent_id=parent_id,
        object_id=change_id,
    )
    conn.execute(
        update(departments).where(departments.c.id == department.id).values(parent_id=parent_id)
    )
    details = {
        "department": department.name,
        "parent_before": department.parent_id,
        "parent_after": parent_id,
        "change": change_id,
        "approved_by": approver.username,
    }
    append(
        conn,
        actor_event(
            ctx=ctx,
            actor=approver,
            action=Action.DEPARTMENT_MOVE,
            object_id=department.id,
            details=details,
        ),
    )
