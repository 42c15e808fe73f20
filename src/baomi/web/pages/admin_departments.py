"""The administrator's department tree (C1.3, C3.2): add a department, name its head.

/admin/departments   the tree with each department's people and supervising head; add one

A head takes office once the security officer approves (users/changes.py, 三员分立). No customer
data here (C4.2.1).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import Response

from baomi.access.routing import nearest_head
from baomi.api.deps import Conn, Ctx
from baomi.errors import BaomiError
from baomi.notifications.api import mail_on
from baomi.users import changes, service
from baomi.users.schemas import DepartmentOut
from baomi.web.forms import attempt
from baomi.web.pages.admin import admin_error, admin_page
from baomi.web.permits import AdminViewer
from baomi.web.routing import page_router, redirect
from baomi.web.templating import N_
from baomi.web.viewer import Viewer

router = page_router()

PATH = "/admin/departments"
NOTICES = {
    "department": N_("The department has been added."),
    "head": N_(
        "The new head has been put to the security officer; it takes effect once approved. "
        "The department's current head has been told."
    ),
}
HEAD_ROLE = N_("The head must hold the department-head role.")


def tree(departments: list[DepartmentOut]) -> list[tuple[DepartmentOut, int]]:
    """The departments in tree order, each with its depth (parents before their children)."""
    children: dict[str | None, list[DepartmentOut]] = {}
    known = {d.id for d in departments}
    for d in departments:
        parent = d.parent_id if d.parent_id in known else None
        children.setdefault(parent, []).append(d)
    out: list[tuple[DepartmentOut, int]] = []
    stack = [(d, 0) for d in reversed(children.get(None, []))]
    seen: set[str] = set()
    while stack:
        node, depth = stack.pop()
        if node.id in seen:
            continue
        seen.add(node.id)
        out.append((node, depth))
        stack.extend((c, depth + 1) for c in reversed(children.get(node.id, [])))
    return out


def _departments_page(
    request: Request, conn: Conn, viewer: Viewer, *, status: int = 200, **context: Any
) -> Response:
    users = service.list_users(conn)
    departments = service.list_departments(conn)
    members: dict[str, int] = {}
    for u in users:
        if u.department_id and u.is_active:
            members[u.department_id] = members.get(u.department_id, 0) + 1
    parents = {d.id: d.parent_id for d in departments}
    heads = {d.id: d.head_user_id for d in departments}
    context.setdefault("values", {"name": "", "parent_id": "", "head_user_id": ""})
    context.setdefault("notice", NOTICES.get(request.query_params.get("done", "")))
    return admin_page(
        request,
        viewer,
        "admin_departments.html",
        tab=PATH,
        status=status,
        tree=tree(departments),
        departments=departments,
        members=members,
        # C1.3: a department without its own head is supervised by the nearest one above it.
        supervisors={d.id: nearest_head(d.id, parents, heads) for d in departments},
        names={u.id: u for u in users},
        heads=[u for u in users if u.is_active and "department_head" in u.roles],
        **context,
    )


@router.get(PATH)
def get_departments(request: Request, conn: Conn, viewer: AdminViewer) -> Response:
    return _departments_page(request, conn, viewer)


def _set_head(
    request: Request, conn: Conn, ctx: Ctx, viewer: Viewer, department_id: str, user_id: str
) -> None:
    changes.request_head(
        conn,
        actor=viewer.actor,
        ctx=ctx,
        department_id=department_id,
        user_id=user_id,
        mail=mail_on(request),
    )


@router.post(PATH)
def post_department(
    request: Request,
    conn: Conn,
    ctx: Ctx,
    viewer: AdminViewer,
    name: Annotated[str, Form(max_length=200)] = "",
    parent_id: Annotated[str, Form(max_length=64)] = "",
    head_user_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Add a department under an optional parent, with an optional head (as the API does)."""
    values = {"name": name, "parent_id": parent_id, "head_user_id": head_user_id}
    trimmed = name.strip()
    if not 1 <= len(trimmed) <= 100:
        return _departments_page(request, conn, viewer, status=422, values=values, name_error=True)

    def create() -> None:
        department_id = service.create_department(
            conn, actor=viewer.actor, ctx=ctx, name=trimmed, parent_id=parent_id or None
        )
        if head_user_id:
            _set_head(request, conn, ctx, viewer, department_id, head_user_id)

    outcome = attempt(conn, create)
    if outcome.error is None:
        return redirect(request, f"{PATH}?done=department")
    return _departments_page(
        request,
        conn,
        viewer,
        status=outcome.error.status,
        values=values,
        **_head_error(outcome.error),
    )


def _head_error(error: BaomiError) -> dict[str, Any]:
    if error.code == "validation_failed":
        return {"error": HEAD_ROLE, "error_code": error.code}
    return admin_error(error)


@router.post(PATH + "/{department_id}/head")
def post_head(
    request: Request,
    conn: Conn,
    ctx: Ctx,
    viewer: AdminViewer,
    department_id: str,
    user_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Make a department head the supervising head of a department (C1.3, C3.2)."""
    outcome = attempt(conn, lambda: _set_head(request, conn, ctx, viewer, department_id, user_id))
    if outcome.error is None:
        return redirect(request, f"{PATH}?done=head")
    return _departments_page(
        request, conn, viewer, status=outcome.error.status, **_head_error(outcome.error)
    )
