"""Department names (issue 19): the rule every name keeps, and a rename by the administrator.

A name is what people pick a department by (on the pages, in `baomi department …`), so it is
never blank and never another department's. A rename changes no one's access: it applies at once
and is audited with the name before and after.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from baomi.audit.context import RequestContext
from baomi.audit.service import actor_event, append
from baomi.audit.tags import Action
from baomi.errors import Conflict, NotFound, ValidationFailed
from baomi.ids import is_id
from baomi.security.actor import AnyActor
from baomi.users.guard import require_manager
from baomi.users.models import departments
from baomi.users.schemas import DepartmentOut


def checked_name(conn: Connection, name: str, *, department_id: str | None = None) -> str:
    """The name without surrounding spaces, refused when blank (`name_blank`) or when another
    department has it (409)."""
    name = name.strip()
    if not name:  # issue 19: a blank name was accepted
        raise ValidationFailed(
            [{"field": "name", "code": "name_blank", "message": "a department needs a name"}]
        )
    taken = select(departments.c.id).where(departments.c.name == name)
    if department_id is not None:
        taken = taken.where(departments.c.id != department_id)
    if conn.execute(taken).first():
        raise Conflict(f"department {name!r} already exists")
    return name


def rename_department(
    conn: Connection, *, actor: AnyActor, ctx: RequestContext, department_id: str, name: str
) -> DepartmentOut:
    """Give a department another name (the administrator, at once, audited)."""
    require_manager(actor, ctx, Action.DEPARTMENT_RENAME)
    row = None
    if is_id(department_id):
        row = conn.execute(select(departments).where(departments.c.id == department_id)).first()
    if row is None:
        raise NotFound("no such department")
    new_name = checked_name(conn, name, department_id=row.id)
    if new_name != row.name:
        conn.execute(update(departments).where(departments.c.id == row.id).values(name=new_name))
        details = {"name_before": row.name, "name_after": new_name}
        append(
            conn,
            actor_event(
                ctx=ctx,
                actor=actor,
                action=Action.DEPARTMENT_RENAME,
                object_id=row.id,
                details=details,
            ),
        )
    return DepartmentOut(
        id=row.id, name=new_name, parent_id=row.parent_id, head_user_id=row.head_user_id
    )
