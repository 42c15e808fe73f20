"""Organisation routes for the system administrator (no customer data here, 三员分立)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from baomi.api.deps import Conn, Ctx, require_permission
from baomi.auth import lockout
from baomi.security.actor import Actor
from baomi.security.roles import Permission
from baomi.users import service
from baomi.users.schemas import DepartmentIn, DepartmentOut, UserIn, UserOut

router = APIRouter(prefix="/api/v1", tags=["organisation"])
Admin = Annotated[Actor, Depends(require_permission(Permission.USER_MANAGE))]
Officer = Annotated[Actor, Depends(require_permission(Permission.USER_UNLOCK))]


@router.get("/users", response_model=list[UserOut])
def get_users(conn: Conn, actor: Admin) -> list[UserOut]:
    return service.list_users(conn)


@router.post("/users", response_model=UserOut, status_code=201)
def post_user(body: UserIn, conn: Conn, ctx: Ctx, actor: Admin) -> UserOut:
    user_id = service.create_user(
        conn,
        actor=actor,
        ctx=ctx,
        username=body.username,
        display_name=body.display_name,
        password=body.password,
        employment_type=body.employment_type,
        department_id=body.department_id,
        roles=body.roles,
        email=body.email,
    )
    return next(u for u in service.list_users(conn) if u.id == user_id)


@router.post("/users/{user_id}/disable", status_code=204)
def post_disable(user_id: str, conn: Conn, ctx: Ctx, actor: Admin) -> None:
    service.disable_user(conn, actor=actor, ctx=ctx, user_id=user_id)


@router.post("/users/{user_id}/unlock", status_code=204)
def post_unlock(user_id: str, conn: Conn, ctx: Ctx, actor: Officer) -> None:
    """Unlock an account locked by failed logins (the security officer, C4.2.4)."""
    lockout.unlock(conn, actor=actor, ctx=ctx, user_id=user_id)


@router.get("/departments", response_model=list[DepartmentOut])
def get_departments(conn: Conn, actor: Admin) -> list[DepartmentOut]:
    return service.list_departments(conn)


@router.post("/departments", response_model=DepartmentOut, status_code=201)
def post_department(body: DepartmentIn, conn: Conn, ctx: Ctx, actor: Admin) -> DepartmentOut:
    department_id = service.create_department(
        conn, actor=actor, ctx=ctx, name=body.name, parent_id=body.parent_id
    )
    if body.head_user_id:
        service.set_department_head(
            conn, actor=actor, ctx=ctx, department_id=department_id, user_id=body.head_user_id
        )
    return next(d for d in service.list_departments(conn) if d.id == department_id)
