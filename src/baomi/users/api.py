"""Organisation routes (三员分立, C4.2.1): the administrator manages accounts, the security
officer approves what would let an account reach customer data, and the person sets their own
password with an activation code. No customer data here."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.responses import JSONResponse

from baomi.api.deps import Conn, Ctx, CurrentActor, require_permission
from baomi.api.unit import api_router
from baomi.auth import lockout
from baomi.notifications.api import mail_on
from baomi.security.actor import Actor
from baomi.security.roles import Permission
from baomi.users import activation, changes, department_moves, departments, edits, service
from baomi.users.enable import request_enable
from baomi.users.invite import invite_user
from baomi.users.schemas import (
    AccountChangeOut,
    ActivationOut,
    ChangeDecisionIn,
    ChangeStatus,
    DepartmentIn,
    DepartmentOut,
    DepartmentRenameIn,
    HeadIn,
    InvitationOut,
    MoveIn,
    ParentIn,
    RolesIn,
    UserEditIn,
    UserIn,
    UserOut,
)

router = api_router(prefix="/api/v1", tags=["organisation"])
Admin = Annotated[Actor, Depends(require_permission(Permission.USER_MANAGE))]
Officer = Annotated[Actor, Depends(require_permission(Permission.USER_UNLOCK))]


def _user(conn: Conn, user_id: str) -> UserOut:
    return next(u for u in service.list_users(conn) if u.id == user_id)


@router.get("/users", response_model=list[UserOut])
def get_users(conn: Conn, actor: Admin) -> list[UserOut]:
    return service.list_users(conn)


@router.post("/users", response_model=InvitationOut, status_code=201)
def post_user(body: UserIn, request: Request, conn: Conn, ctx: Ctx, actor: Admin) -> InvitationOut:
    """Add a person: no password (they set it with the activation code in the answer, valid
    72 hours); the roles wait for the security officer's approval."""
    invitation = invite_user(
        conn,
        actor=actor,
        ctx=ctx,
        username=body.username,
        display_name=body.display_name,
        employment_type=body.employment_type,
        department_id=body.department_id,
        roles=body.roles,
        mail=mail_on(request),
        email=body.email,
    )
    return InvitationOut(
        user=_user(conn, invitation.user_id),
        activation_code=invitation.activation.code,
        activation_expires_at=invitation.activation.expires_at,
        pending_change=invitation.pending_change,
    )


@router.post("/users/{user_id}/disable", status_code=204)
def post_disable(user_id: str, conn: Conn, ctx: Ctx, actor: Admin) -> None:
    service.disable_user(conn, actor=actor, ctx=ctx, user_id=user_id)


@router.patch("/users/{user_id}", response_model=UserOut)
def patch_user(user_id: str, body: UserEditIn, conn: Conn, ctx: Ctx, actor: Admin) -> UserOut:
    """Correct a person's display name, e-mail address (null removes it) or employment type
    (C1.2): at once, audited; a field left out stays as it is."""
    edits.edit_user(conn, actor=actor, ctx=ctx, user_id=user_id, edit=body)
    return _user(conn, user_id)


@router.post(
    "/users/{user_id}/enable",
    status_code=204,
    responses={202: {"model": AccountChangeOut, "description": "waits for the security officer"}},
)
def post_enable(user_id: str, request: Request, conn: Conn, ctx: Ctx, actor: Admin) -> Response:
    """Enable a disabled account. One with a role that works with customers gets its access
    back once the security officer approves (202, the pending change); any other at once (204)."""
    change = request_enable(conn, actor=actor, ctx=ctx, user_id=user_id, mail=mail_on(request))
    if change is None:
        return Response(status_code=204)
    return JSONResponse(change.model_dump(mode="json"), status_code=202)


@router.post("/users/{user_id}/reset-password", response_model=ActivationOut)
def post_reset_password(
    user_id: str, request: Request, conn: Conn, ctx: Ctx, actor: Admin
) -> ActivationOut:
    """Reset a password: the old one stops working, the person's sessions end and they are
    told; the answer's one-time code lets them set a new one (MFA stays as it was). An account
    with customer data stays locked until the security officer unlocks it."""
    code = activation.reset_password(
        conn, actor=actor, ctx=ctx, user_id=user_id, mail=mail_on(request)
    )
    return ActivationOut(
        activation_code=code.code,
        activation_expires_at=code.expires_at,
        locked_until_officer_unlocks=code.locked_until_officer_unlocks,
    )


@router.put("/users/{user_id}/roles", responses={202: {"model": AccountChangeOut}})
def put_roles(
    user_id: str,
    body: RolesIn,
    request: Request,
    conn: Conn,
    ctx: Ctx,
    actor: Admin,
    response: Response,
) -> AccountChangeOut | UserOut:
    """Set a person's roles: roles removed end at once (200, the user); roles added wait for
    the security officer (202, the pending change)."""
    change = changes.request_roles(
        conn, actor=actor, ctx=ctx, user_id=user_id, roles=body.roles, mail=mail_on(request)
    )
    if change is None:
        return _user(conn, user_id)
    response.status_code = 202
    return change


@router.put(
    "/users/{user_id}/department",
    response_model=AccountChangeOut,
    status_code=202,
    responses={200: {"model": UserOut, "description": "out of any department, at once"}},
)
def put_department(
    user_id: str, body: MoveIn, request: Request, conn: Conn, ctx: Ctx, actor: Admin
) -> AccountChangeOut | JSONResponse:
    """Move a person to another department, once the security officer approves (202). With
    `department_id` null, out of any department at once (200, the user): refused with
    `department_required` for whoever works with customers."""
    change = changes.request_move(
        conn,
        actor=actor,
        ctx=ctx,
        user_id=user_id,
        department_id=body.department_id,
        mail=mail_on(request),
    )
    if change is None:
        return JSONResponse(_user(conn, user_id).model_dump(mode="json"))
    return change


@router.post("/users/{user_id}/unlock", status_code=204)
def post_unlock(user_id: str, conn: Conn, ctx: Ctx, actor: Officer) -> None:
    """Unlock an account locked by failed logins (the security officer, C4.2.4)."""
    lockout.unlock(conn, actor=actor, ctx=ctx, user_id=user_id)


@router.get("/departments", response_model=list[DepartmentOut])
def get_departments(conn: Conn, actor: Admin) -> list[DepartmentOut]:
    return service.list_departments(conn)


@router.post("/departments", response_model=DepartmentOut, status_code=201)
def post_department(
    body: DepartmentIn, request: Request, conn: Conn, ctx: Ctx, actor: Admin
) -> DepartmentOut:
    """Create a department; a head named here waits for the security officer's approval."""
    department_id = service.create_department(
        conn, actor=actor, ctx=ctx, name=body.name, parent_id=body.parent_id
    )
    if body.head_user_id:
        changes.request_head(
            conn,
            actor=actor,
            ctx=ctx,
            department_id=department_id,
            user_id=body.head_user_id,
            mail=mail_on(request),
        )
    return next(d for d in service.list_departments(conn) if d.id == department_id)


@router.patch("/departments/{department_id}", response_model=DepartmentOut)
def patch_department(
    department_id: str, body: DepartmentRenameIn, conn: Conn, ctx: Ctx, actor: Admin
) -> DepartmentOut:
    """Rename a department: at once, audited; blank names and another's name are refused."""
    return departments.rename_department(
        conn, actor=actor, ctx=ctx, department_id=department_id, name=body.name
    )


@router.put("/departments/{department_id}/parent", response_model=AccountChangeOut, status_code=202)
def put_parent(
    department_id: str, body: ParentIn, request: Request, conn: Conn, ctx: Ctx, actor: Admin
) -> AccountChangeOut:
    """Move a department under another (`parent_id`), or to the top level (null), once the
    security officer approves (C1.3: the heads above it supervise its people). Refused when the
    department would end up below itself (`department_cycle`) or is already there."""
    return department_moves.request_parent(
        conn,
        actor=actor,
        ctx=ctx,
        department_id=department_id,
        parent_id=body.parent_id,
        mail=mail_on(request),
    )


@router.put("/departments/{department_id}/head", response_model=AccountChangeOut, status_code=202)
def put_head(
    department_id: str, body: HeadIn, request: Request, conn: Conn, ctx: Ctx, actor: Admin
) -> AccountChangeOut:
    """Name a department's head (C1.3, C3.2), once the security officer approves; the
    department's current head is told."""
    return changes.request_head(
        conn,
        actor=actor,
        ctx=ctx,
        department_id=department_id,
        user_id=body.user_id,
        mail=mail_on(request),
    )


@router.get("/account-changes", response_model=list[AccountChangeOut])
def get_account_changes(
    conn: Conn, ctx: Ctx, actor: CurrentActor, status: ChangeStatus | None = None
) -> list[AccountChangeOut]:
    """Account changes, newest first (the administrator and the security officer)."""
    return changes.list_changes(conn, actor=actor, ctx=ctx, status=status)


@router.post("/account-changes/{change_id}/approve", response_model=AccountChangeOut)
def post_approve_change(
    change_id: str,
    body: ChangeDecisionIn,
    request: Request,
    conn: Conn,
    ctx: Ctx,
    actor: CurrentActor,
) -> AccountChangeOut:
    """The security officer approves: the change takes effect now (dual control)."""
    return changes.decide(
        conn,
        actor=actor,
        ctx=ctx,
        change_id=change_id,
        approve=True,
        mail=mail_on(request),
        comment=body.comment,
    )


@router.post("/account-changes/{change_id}/reject", response_model=AccountChangeOut)
def post_reject_change(
    change_id: str,
    body: ChangeDecisionIn,
    request: Request,
    conn: Conn,
    ctx: Ctx,
    actor: CurrentActor,
) -> AccountChangeOut:
    """The security officer rejects: nothing changes."""
    return changes.decide(
        conn,
        actor=actor,
        ctx=ctx,
        change_id=change_id,
        approve=False,
        mail=mail_on(request),
        comment=body.comment,
    )
