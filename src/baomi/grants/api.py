"""Grant routes: the security officer's emergency grants, revocation, and the heads' review."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from baomi.api.deps import Conn, Ctx, CurrentActor, require_permission
from baomi.api.unit import api_router
from baomi.grants.review import emergency_grants, review_emergency_grant
from baomi.grants.schemas import GrantIn, GrantOut, GrantReviewIn
from baomi.grants.service import create_emergency_grant, list_grants, revoke_grant
from baomi.notifications.api import mail_on
from baomi.security.actor import Actor
from baomi.security.roles import Permission

router = api_router(prefix="/api/v1/grants", tags=["grants"])
Officer = Annotated[Actor, Depends(require_permission(Permission.GRANT_MANAGE))]


@router.post("", response_model=GrantOut, status_code=201)
def post_grant(body: GrantIn, request: Request, conn: Conn, ctx: Ctx, actor: Officer) -> GrantOut:
    """Give an emergency grant (C4.3.1): outside the approval process, for a stated reason, at
    most BAOMI_EMERGENCY_GRANT_MAX_HOURS; the customer's handler and heads are told at once."""
    max_hours = request.app.state.settings.emergency_grant_max_hours
    return create_emergency_grant(
        conn,
        actor=actor,
        ctx=ctx,
        grant_in=body,
        levels=request.app.state.vault.levels,
        tags=request.app.state.vault.tags,
        max_hours=max_hours,
        mail=mail_on(request),
    )


@router.get("", response_model=list[GrantOut])
def get_grants(
    conn: Conn, ctx: Ctx, actor: Officer, user_id: str | None = None, active: bool = False
) -> list[GrantOut]:
    return list_grants(conn, actor=actor, ctx=ctx, user_id=user_id, active_only=active)


@router.get("/emergency", response_model=list[GrantOut])
def get_emergency_grants(
    conn: Conn, actor: CurrentActor, unreviewed: bool = False
) -> list[GrantOut]:
    """Emergency grants: all for the security officer, their departments' for a head."""
    return emergency_grants(conn, actor=actor, unreviewed_only=unreviewed)


@router.post("/{grant_id}/review", response_model=GrantOut)
def post_review(
    grant_id: str, body: GrantReviewIn, conn: Conn, ctx: Ctx, actor: CurrentActor
) -> GrantOut:
    """A head of the customer's department reviews an emergency grant (C3.2, C4.3.1)."""
    return review_emergency_grant(conn, actor=actor, ctx=ctx, grant_id=grant_id, note=body.note)


@router.post("/{grant_id}/revoke", response_model=GrantOut)
def post_revoke(
    grant_id: str, request: Request, conn: Conn, ctx: Ctx, actor: CurrentActor
) -> GrantOut:
    """End a grant now: the officer, or early by its grantee or its request's approvers."""
    return revoke_grant(
        conn,
        actor=actor,
        ctx=ctx,
        grant_id=grant_id,
        mail=mail_on(request),
        tags=request.app.state.vault.tags,
    )
