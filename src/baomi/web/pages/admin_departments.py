"""The administrator's department tree (C1.3, C3.2): add, rename and move a department, name its
head.

/admin/departments   the tree with each department's people and supervising head; add one

A rename applies at once. A head takes office, and a department moves under another parent (the
heads above it then supervise its people), once the security officer approves (users/changes.py,
users/department_moves.py, 三员分立). No customer data here (C4.2.1).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import Response

from baomi.access.routing import nearest_head
from baomi.api.deps import Conn, Ctx
from baomi.audit.context import RequestContext
from baomi.errors import BaomiError
from baomi.notifications.api import mail_on
from baomi.users import changes, department_moves, departments, service
from baomi.users.schemas import ChangeKind, ChangeStatus, DepartmentOut
from baomi.web.forms import attempt
from baomi.web.pages.admin import admin_error, admin_page
from baomi.web.permits import AdminViewer
from baomi.web.routing import page_router, redirect
from baomi.web.templating import N_
from baomi.web.viewer import Viewer

router = page_router()

PATH = "/admin/departments"
PENDING = ChangeStatus.PENDING
NOTICES = {
    "department": N_("The department has been added."),
    "head": N_(
        "The new head has been put to the security officer; it takes effect once approved. "
        "The department's current head has been told."
    ),
    "renamed": N_("The department has been renamed."),
    "parent": N_(
        "The move has been put to the security officer; it takes effect once approved. The "
        "heads concerned have been told."
    ),
}
HEAD_ROLE = N_("The head must hold the department-head role.")
NAME_BLANK = N_("Give the department a name, up to 100 characters.")
MOVE_ERRORS = {
    "department_cycle": N_("A department cannot go under itself or under a department below it."),
    "already_there": N_("The department is already there."),
    "not_found": N_("There is no such department."),
}


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


def below(departments: list[DepartmentOut]) -> dict[str, set[str]]:
    """Each department with itself and everything below it: where it cannot move (C1.3)."""
    ordered = tree(departments)
    out: dict[str, set[str]] = {}
    for i, (node, depth) in enumerate(ordered):
        out[node.id] = {node.id}
        for other, other_depth in ordered[i + 1 :]:
            if other_depth <= depth:
                break
            out[node.id].add(other.id)
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
    # 三员分立: a move waits for the security officer; the page says which are waiting.
    waiting = {
        c.department_id: c
        for c in changes.list_changes(
            conn,
            actor=viewer.actor,
            ctx=RequestContext(request_id=getattr(request.state, "request_id", None)),
            status=PENDING,
        )
        if c.kind == ChangeKind.PARENT and c.department_id
    }
    cannot_go = below(departments)
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
        # Where each department may move: not under itself, nor under one below it.
        parent_choices={
            d.id: [p for p in departments if p.id not in cannot_go[d.id]] for d in departments
        },
        waiting_moves=waiting,
        dept_names={d.id: d.name for d in departments},
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
    if error.code == "head_role_required":
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


@router.post(PATH + "/{department_id}/name")
def post_rename(
    request: Request,
    conn: Conn,
    ctx: Ctx,
    viewer: AdminViewer,
    department_id: str,
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Rename a department at once (the name rules of the service: not blank, not taken)."""
    if not 1 <= len(name.strip()) <= 100:
        return _departments_page(
            request, conn, viewer, status=422, error=NAME_BLANK, error_code="name_blank"
        )
    outcome = attempt(
        conn,
        lambda: departments.rename_department(
            conn, actor=viewer.actor, ctx=ctx, department_id=department_id, name=name
        ),
    )
    if outcome.error is None:
        return redirect(request, f"{PATH}?done=renamed")
    return _departments_page(
        request, conn, viewer, status=outcome.error.status, **admin_error(outcome.error)
    )


@router.post(PATH + "/{department_id}/parent")
def post_parent(
    request: Request,
    conn: Conn,
    ctx: Ctx,
    viewer: AdminViewer,
    department_id: str,
    parent_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Put a department's move under another parent ("" the top level) to the security officer
    (C1.3: the heads above it supervise its people)."""
    outcome = attempt(
        conn,
        lambda: department_moves.request_parent(
            conn,
            actor=viewer.actor,
            ctx=ctx,
            department_id=department_id,
            parent_id=parent_id or None,
            mail=mail_on(request),
        ),
    )
    if outcome.error is None:
        return redirect(request, f"{PATH}?done=parent")
    error = outcome.error
    context = admin_error(error)
    if error.code in MOVE_ERRORS:
        context["error"] = MOVE_ERRORS[error.code]
    return _departments_page(request, conn, viewer, status=error.status, **context)
