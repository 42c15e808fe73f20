"""Grant routes for the security officer (create, list, revoke now)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from baomi.api.deps import Conn, Ctx, CurrentActor, require_permission
from baomi.grants.schemas import GrantIn, GrantOut
from baomi.grants.service import create_grant, list_grants, revoke_grant
from baomi.security.actor import Actor
from baomi.security.roles import Permission

router = APIRouter(prefix="/api/v1/grants", tags=["grants"])
Officer = Annotated[Actor, Depends(require_permission(Permission.GRANT_MANAGE))]


@router.post("", response_model=GrantOut, status_code=201)
def post_grant(body: GrantIn, conn: Conn, ctx: Ctx, actor: Officer) -> GrantOut:
    """Give a user time-bound access to a customer (C4.3.1)."""
    return create_grant(conn, actor=actor, ctx=ctx, grant_in=body)


@router.get("", response_model=list[GrantOut])
def get_grants(
    conn: Conn, actor: Officer, user_id: str | None = None, active: bool = False
) -> list[GrantOut]:
    return list_grants(conn, actor=actor, user_id=user_id, active_only=active)


@router.post("/{grant_id}/revoke", response_model=GrantOut)
def post_revoke(grant_id: str, conn: Conn, ctx: Ctx, actor: CurrentActor) -> GrantOut:
    """End a grant now: the officer, or early by its grantee or its request's approvers."""
    return revoke_grant(conn, actor=actor, ctx=ctx, grant_id=grant_id)
