"""The system administrator's pages: users, departments, roles. No customer data (C4.2.1).

/admin               users: list, add (employment type, department, roles), edit, disable
                     (C4.5.3), enable again (with customer data: once the officer approves)
/admin/departments   the department tree (admin_departments.py, on this page's layout)
/admin/roles         what each role may do and who holds it (三员分立, MLPS 2.0)
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import Response
from pydantic import ValidationError

from baomi.api.deps import Conn, Ctx
from baomi.audit.context import RequestContext
from baomi.errors import BaomiError
from baomi.notifications.api import mail_on
from baomi.security.roles import ROLE_PERMISSIONS, Role
from baomi.users import activation, changes, edits, service
from baomi.users.enable import request_enable
from baomi.users.invite import Invitation, invite_user
from baomi.users.schemas import ChangeStatus, UserEditIn, UserOut
from baomi.web import admin_forms
from baomi.web.admin_forms import UserForm
from baomi.web.forms import attempt
from baomi.web.permits import AdminViewer
from baomi.web.render import page
from baomi.web.routing import page_router, redirect
from baomi.web.templating import N_
from baomi.web.viewer import Viewer

router = page_router()

TABS = (
    ("/admin", N_("Users")),
    ("/admin/departments", N_("Departments")),
    ("/admin/roles", N_("Roles")),
)
NOTICES = {
    "created": N_(
        "The user has been added. Their roles take effect once the security officer approves."
    ),
    "reset": N_(
        "The password has been reset: the person's sessions have ended and they were told."
    ),
    "roles": N_("Roles removed have ended; roles added wait for the security officer."),
    "moved": N_("The move has been put to the security officer; it takes effect once approved."),
    "disabled": N_(
        "The account is disabled and all its sessions have ended. It stays on record for the "
        "audit log."
    ),
    "edited": N_("The changes have been saved."),
    "enabled": N_("The account is enabled again: the person signs in with the password they had."),
    "enable_pending": N_(
        "This account works with customer data: enabling it has been put to the security "
        "officer and takes effect once approved."
    ),
    "left": N_("The person is in no department now."),
}
ERRORS = {
    "not_found": N_("There is no such user or department, or it is already disabled."),
    "conflict": N_("A department with this name already exists."),
    "validation_failed": N_("Some of the form is not right; see the messages below."),
    "department_required": N_(
        "Whoever works with customers (salesperson, department head) belongs to a department."
    ),
    "already_there": N_("The person is already there."),
    "already_active": N_("The account is not disabled."),
}
OTHER_ERROR = N_("The action was refused (code %(code)s).")


def admin_page(
    request: Request,
    viewer: Viewer,
    template: str,
    *,
    tab: str,
    status: int = 200,
    **context: Any,
) -> Response:
    """Render one of the administrator's pages: their tabs, and the notice `?done=` names."""
    context.setdefault("notice", NOTICES.get(request.query_params.get("done", "")))
    context.setdefault("error", None)
    context.setdefault("error_code", "")
    return page(
        request,
        viewer,
        template,
        status=status,
        tabs=TABS,
        tab_current=tab,
        role_labels=admin_forms.ROLE_LABELS,
        **context,
    )


def admin_error(error: BaomiError) -> dict[str, Any]:
    """The page's error line for a refusal: our words for its code, or the code itself."""
    return {"error": ERRORS.get(error.code, OTHER_ERROR), "error_code": error.code}


# --- Users --------------------------------------------------------------------------------


def _users_page(
    request: Request,
    conn: Conn,
    viewer: Viewer,
    *,
    form: UserForm | None = None,
    status: int = 200,
    **context: Any,
) -> Response:
    return admin_page(
        request,
        viewer,
        "admin_users.html",
        tab="/admin",
        status=status,
        users=service.list_users(conn),
        departments=service.list_departments(conn),
        # 三员分立: what waits for the security officer, so the administrator sees it pending.
        pending_changes=changes.list_changes(
            conn,
            actor=viewer.actor,
            ctx=RequestContext(request_id=getattr(request.state, "request_id", None)),
            status=ChangeStatus.PENDING,
        ),
        form=form or UserForm(),
        activation=context.pop("activation", None),
        roles=admin_forms.ROLE_ORDER,
        separated=admin_forms.SEPARATED,
        employment_labels=admin_forms.EMPLOYMENT_LABELS,
        **context,
    )


@router.get("/admin")
def get_users(request: Request, conn: Conn, viewer: AdminViewer) -> Response:
    return _users_page(request, conn, viewer)


@router.post("/admin/users")
def post_user(
    request: Request,
    conn: Conn,
    ctx: Ctx,
    viewer: AdminViewer,
    username: Annotated[str, Form(max_length=200)] = "",
    display_name: Annotated[str, Form(max_length=400)] = "",
    employment_type: Annotated[str, Form(max_length=32)] = "",
    department_id: Annotated[str, Form(max_length=64)] = "",
    roles: Annotated[list[str] | None, Form()] = None,
    email: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    """Add a user: no password (the page shows the activation code once, for the person); the
    roles wait for the security officer. 三员分立 is the service's rule, shown inline."""
    form = UserForm(
        username=username,
        display_name=display_name,
        employment_type=employment_type,
        department_id=department_id,
        roles=list(roles or [])[:10],
        email=email,
    )
    user_in = admin_forms.read(form)
    if user_in is None:
        return _users_page(request, conn, viewer, form=form, status=422)
    outcome = attempt(
        conn,
        lambda: invite_user(
            conn,
            actor=viewer.actor,
            ctx=ctx,
            username=user_in.username,
            display_name=user_in.display_name,
            employment_type=user_in.employment_type,
            department_id=user_in.department_id,
            roles=user_in.roles,
            mail=mail_on(request),
            email=user_in.email,
        ),
    )
    if outcome.error is None and isinstance(outcome.value, Invitation):
        # Shown once, on this answer only: it is not kept anywhere it could be read again.
        return _users_page(
            request,
            conn,
            viewer,
            notice=NOTICES["created"],
            activation={"username": user_in.username, "code": outcome.value.activation},
            pending=outcome.value.pending_change is not None,
        )
    assert outcome.error is not None
    context = {} if admin_forms.refused(form, outcome.error) else admin_error(outcome.error)
    return _users_page(request, conn, viewer, form=form, status=outcome.error.status, **context)


@router.post("/admin/users/{user_id}/reset-password")
def post_reset_password(
    request: Request, conn: Conn, ctx: Ctx, viewer: AdminViewer, user_id: str
) -> Response:
    """Reset a password: the page shows the person's new activation code, once."""
    outcome = attempt(
        conn,
        lambda: activation.reset_password(
            conn, actor=viewer.actor, ctx=ctx, user_id=user_id, mail=mail_on(request)
        ),
    )
    if outcome.error is not None or outcome.value is None:
        assert outcome.error is not None
        error = outcome.error
        return _users_page(request, conn, viewer, status=error.status, **admin_error(error))
    username = next(u.username for u in service.list_users(conn) if u.id == user_id)
    return _users_page(
        request,
        conn,
        viewer,
        notice=NOTICES["reset"],
        activation={"username": username, "code": outcome.value},
    )


@router.post("/admin/users/{user_id}/roles")
def post_roles(
    request: Request,
    conn: Conn,
    ctx: Ctx,
    viewer: AdminViewer,
    user_id: str,
    roles: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Change a person's roles: removals now, additions once the security officer approves."""
    chosen = [Role(r) for r in (roles or [])[:10] if r in set(Role)]
    outcome = attempt(
        conn,
        lambda: changes.request_roles(
            conn,
            actor=viewer.actor,
            ctx=ctx,
            user_id=user_id,
            roles=chosen,
            mail=mail_on(request),
        ),
    )
    if outcome.error is None:
        return redirect(request, "/admin?done=roles")
    error = outcome.error
    context = admin_error(error)
    if error.code == "validation_failed":
        context["error"] = admin_forms.MESSAGES["separation" if chosen else "roles"]
    return _users_page(request, conn, viewer, status=error.status, **context)


@router.post("/admin/users/{user_id}/department")
def post_move(
    request: Request,
    conn: Conn,
    ctx: Ctx,
    viewer: AdminViewer,
    user_id: str,
    department_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Move a person to another department, once the security officer approves; "" takes them
    out of any department at once (refused for whoever works with customers)."""
    outcome = attempt(
        conn,
        lambda: changes.request_move(
            conn,
            actor=viewer.actor,
            ctx=ctx,
            user_id=user_id,
            department_id=department_id or None,
            mail=mail_on(request),
        ),
    )
    if outcome.error is None:
        return redirect(request, "/admin?done=" + ("left" if not department_id else "moved"))
    error = outcome.error
    return _users_page(request, conn, viewer, status=error.status, **admin_error(error))


@router.post("/admin/users/{user_id}/disable")
def post_disable(
    request: Request, conn: Conn, ctx: Ctx, viewer: AdminViewer, user_id: str
) -> Response:
    """Disable an account: no more sign-in, sessions end now, the record stays (C4.5.3)."""
    outcome = attempt(
        conn, lambda: service.disable_user(conn, actor=viewer.actor, ctx=ctx, user_id=user_id)
    )
    if outcome.error is None:
        return redirect(request, "/admin?done=disabled")
    return _users_page(
        request, conn, viewer, status=outcome.error.status, **admin_error(outcome.error)
    )


@router.post("/admin/users/{user_id}/edit")
def post_edit(
    request: Request,
    conn: Conn,
    ctx: Ctx,
    viewer: AdminViewer,
    user_id: str,
    display_name: Annotated[str, Form(max_length=400)] = "",
    email: Annotated[str, Form(max_length=400)] = "",
    employment_type: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """Correct a person's name, e-mail address (empty removes it) and employment type, at once."""
    try:
        edit = UserEditIn(
            display_name=display_name.strip(),
            email=email.strip() or None,
            employment_type=employment_type,
        )
    except ValidationError as invalid:
        field = str(invalid.errors()[0]["loc"][0])
        message = admin_forms.MESSAGES.get(field, ERRORS["validation_failed"])
        return _users_page(request, conn, viewer, status=422, error=message, error_code=field)
    outcome = attempt(
        conn, lambda: edits.edit_user(conn, actor=viewer.actor, ctx=ctx, user_id=user_id, edit=edit)
    )
    if outcome.error is None:
        return redirect(request, "/admin?done=edited")
    return _users_page(
        request, conn, viewer, status=outcome.error.status, **admin_error(outcome.error)
    )


@router.post("/admin/users/{user_id}/enable")
def post_enable(
    request: Request, conn: Conn, ctx: Ctx, viewer: AdminViewer, user_id: str
) -> Response:
    """Enable a disabled account: at once, or (with customer data) once the officer approves."""
    outcome = attempt(
        conn,
        lambda: request_enable(
            conn, actor=viewer.actor, ctx=ctx, user_id=user_id, mail=mail_on(request)
        ),
    )
    if outcome.error is None:
        done = "enabled" if outcome.value is None else "enable_pending"
        return redirect(request, f"/admin?done={done}")
    return _users_page(
        request, conn, viewer, status=outcome.error.status, **admin_error(outcome.error)
    )


# --- Roles --------------------------------------------------------------------------------


def holders(users: list[UserOut]) -> dict[str, list[UserOut]]:
    """Active users by role."""
    out: dict[str, list[UserOut]] = {}
    for u in users:
        if u.is_active:
            for role in u.roles:
                out.setdefault(role.value, []).append(u)
    return out


@router.get("/admin/roles")
def get_roles(request: Request, conn: Conn, viewer: AdminViewer) -> Response:
    """Each role's permissions and holders; the three separated roles are marked (三员分立)."""
    return admin_page(
        request,
        viewer,
        "admin_roles.html",
        tab="/admin/roles",
        roles=admin_forms.ROLE_ORDER,
        separated=admin_forms.SEPARATED,
        role_permissions=ROLE_PERMISSIONS,
        permission_labels=admin_forms.PERMISSION_LABELS,
        holders=holders(service.list_users(conn)),
    )
