"""Login, logout and MFA enrolment for API clients (the one public route is login)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, Field

from baomi.api.deps import Conn, Ctx, CurrentActor, VaultDep, bearer_scheme
from baomi.api.inputs import StrictInput
from baomi.auth.lockout import Policy
from baomi.auth.mfa import begin_enrolment, confirm_enrolment
from baomi.auth.service import login, logout

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class LoginIn(StrictInput):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    # A TOTP code or a recovery code, for accounts with MFA (C4.2.4).
    otp: str | None = Field(default=None, min_length=1, max_length=32)


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - a scheme name, not a secret
    expires_at: datetime
    # The role needs MFA and the account has none yet: enrol now (POST /api/v1/auth/mfa/enrol).
    mfa_enrolment_required: bool = False


class EnrolOut(BaseModel):
    secret: str
    otpauth_uri: str
    qr_svg: str


class ConfirmIn(StrictInput):
    otp: str = Field(min_length=1, max_length=32)


class RecoveryCodesOut(BaseModel):
    recovery_codes: list[str]


class MeOut(BaseModel):
    id: str
    username: str
    display_name: str
    roles: list[str]
    department_id: str | None


@router.post("/login", response_model=TokenOut)
def post_login(body: LoginIn, conn: Conn, ctx: Ctx, vault: VaultDep, request: Request) -> TokenOut:
    """Exchange a username, password and (with MFA) a one-time code for a bearer token.

    401 `mfa_required` when the account has MFA and no code was sent; 401 `invalid_credentials`
    for every other failure; 429 `throttled` with Retry-After after repeated failures.
    """
    settings = request.app.state.settings
    issued = login(
        conn,
        ctx=ctx,
        username=body.username,
        password=body.password,
        otp=body.otp,
        ttl=timedelta(minutes=settings.token_ttl_minutes),
        provider=vault.provider,
        policy=Policy.from_settings(settings),
    )
    return TokenOut(
        access_token=issued.access_token,
        expires_at=issued.expires_at,
        mfa_enrolment_required=issued.mfa_enrolment_required,
    )


@router.post("/mfa/enrol", response_model=EnrolOut)
def post_mfa_enrol(conn: Conn, ctx: Ctx, vault: VaultDep, actor: CurrentActor) -> EnrolOut:
    """Start TOTP enrolment: a new secret, its otpauth:// URI and a QR code (SVG)."""
    enrolment = begin_enrolment(conn, actor=actor, ctx=ctx, provider=vault.provider)
    return EnrolOut(
        secret=enrolment.secret, otpauth_uri=enrolment.otpauth_uri, qr_svg=enrolment.qr_svg
    )


@router.post("/mfa/confirm", response_model=RecoveryCodesOut)
def post_mfa_confirm(
    body: ConfirmIn, conn: Conn, ctx: Ctx, vault: VaultDep, actor: CurrentActor
) -> RecoveryCodesOut:
    """Activate MFA with a code from the app; returns ten single-use recovery codes, once."""
    codes = confirm_enrolment(conn, actor=actor, ctx=ctx, provider=vault.provider, otp=body.otp)
    return RecoveryCodesOut(recovery_codes=codes)


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
