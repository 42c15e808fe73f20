"""Login and logout for API clients (the one public route is login)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, Field

from baomi.api.deps import Conn, Ctx, CurrentActor, bearer_scheme
from baomi.api.inputs import StrictInput
from baomi.auth.service import login, logout

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class LoginIn(StrictInput):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - a scheme name, not a secret
    expires_at: datetime


class MeOut(BaseModel):
    id: str
    username: str
    display_name: str
    roles: list[str]
    department_id: str | None


@router.post("/login", response_model=TokenOut)
def post_login(body: LoginIn, conn: Conn, ctx: Ctx, request: Request) -> TokenOut:
    """Exchange a username and password for a bearer token."""
    ttl = timedelta(minutes=request.app.state.settings.token_ttl_minutes)
    issued = login(conn, ctx=ctx, username=body.username, password=body.password, ttl=ttl)
    return TokenOut(access_token=issued.access_token, expires_at=issued.expires_at)


@router.post("/logout", status_code=204)
def post_logout(
    conn: Conn,
    actor: CurrentActor,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> None:
    """End the token used for this request."""
    if credentials is not None:
        logout(conn, token=credentials.credentials)


@router.get("/me", response_model=MeOut)
def get_me(actor: CurrentActor) -> MeOut:
    return MeOut(
        id=actor.user_id,
        username=actor.username,
        display_name=actor.display_name,
        roles=sorted(r.value for r in actor.roles),
        department_id=actor.department_id,
    )
