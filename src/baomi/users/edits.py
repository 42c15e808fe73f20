"""The administrator corrects an account at once (issue 19): the display name, the e-mail address
notifications go to, the employment type (C1.2).

None of these reaches customer data (access follows roles, departments and grants; the
employment type is a record, not a permission), so none of it waits for the security officer. If
the employment type ever tightens the controls a person works under, loosening it must become an
account change instead. Each edit is audited naming the fields that changed, and the employment
type before and after; addresses stay out of the log.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from baomi.audit.context import RequestContext
from baomi.audit.service import actor_event, append
from baomi.audit.tags import Action
from baomi.errors import NotFound, ValidationFailed
from baomi.ids import is_id
from baomi.security.actor import AnyActor
from baomi.users.guard import require_manager
from baomi.users.models import users
from baomi.users.schemas import UserEditIn


def edit_user(
    conn: Connection, *, actor: AnyActor, ctx: RequestContext, user_id: str, edit: UserEditIn
) -> None:
    """Apply the fields `edit` carries; a field it leaves out stays, `email` None removes it."""
    require_manager(actor, ctx, Action.USER_EDIT)
    row = None
    if is_id(user_id):
        row = conn.execute(
            select(users.c.id, users.c.username, users.c.display_name, users.c.email,
                   users.c.employment_type).where(users.c.id == user_id)
        ).first()  # fmt: skip
    if row is None:
        raise NotFound("no user with that id")
    wanted: dict[str, Any] = {}
    if edit.display_name is not None:
        wanted["display_name"] = edit.display_name.strip()
        if not wanted["display_name"]:
            raise ValidationFailed(
                [{"field": "display_name", "code": "name_blank", "message": "give a name"}]
            )
    if "email" in edit.model_fields_set:
        wanted["email"] = edit.email
    if edit.employment_type is not None:
        wanted["employment_type"] = edit.employment_type.value
    changed = {k: v for k, v in wanted.items() if getattr(row, k) != v}
    if not changed:
        return
    conn.execute(update(users).where(users.c.id == row.id).values(**changed))
    details: dict[str, Any] = {"user": row.username, "fields": sorted(changed)}
    if "employment_type" in changed:
        details.update(employment_before=row.employment_type, employment_after=edit.employment_type)
    if "display_name" in changed:
        details.update(name_before=row.display_name, name_after=changed["display_name"])
    append(
        conn,
        actor_event(
            ctx=ctx, actor=actor, action=Action.USER_EDIT, object_id=row.id, details=details
        ),
    )
