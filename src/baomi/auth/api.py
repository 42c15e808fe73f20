"""Login, sessions, password change, step-up and MFA enrolment (the public routes are the logins).

API clients log in with `POST /login` and send `Authorization: Bearer <access_token>`. A browser
script may use `POST /browser-login` instead: the session secret then travels only in an
HttpOnly cookie, and state-changing requests carry the returned `csrf_token` as `X-CSRF-Token`
(auth/browser.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from fastapi import Request, Response
from pydantic import BaseModel, Field

from baomi.api.deps import Conn, Ctx, CurrentActor, VaultDep
from baomi.api.inputs import StrictInput
from baomi.api.unit import api_router
from baomi.audit.service import event
from baomi.audit.tags import Action, Decision
from baomi.auth import browser, devices, reauth, sessions
from baomi.auth.lockout import Policy
from baomi.auth.mfa import begin_enrolment, confirm_enrolment
from baomi.auth.service import IssuedToken, login
from baomi.auth.sessions import EndReason, Kind, Lifetimes
from baomi.errors import Forbidden
from baomi.security.actor import Actor
from baomi.users import activation
from baomi.users.schemas import ActivateIn

router = api_router(prefix="/api/v1/auth", tags=["auth"])


class LoginIn(StrictInput):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    # A TOTP code or a recovery code, for accounts with MFA (C4.2.4).
    otp: str | None = Field(default=None, min_length=1, max_length=32)
    # The `device_token` of an earlier login from this client (issue 17.7): others' failed
    # logins then never hold this client back.
    device_token: str | None = Field(default=None, min_length=1, max_length=devices.TOKEN_LENGTH)


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - a scheme name, not a secret
    expires_at: datetime
    # The role needs MFA and the account has none yet: enrol now (POST /api/v1/auth/mfa/enrol).
    mfa_enrolment_required: bool = False
    session_id: str
    # Keep it and send it with the next login from this client: it makes the client a known
    # device of the account, which nobody else's failed logins can lock out (issue 17.7).
    device_token: str | None = None


class BrowserLoginOut(BaseModel):
    """A browser session: the secret is in the cookie only, never in a body a script reads."""

    session_id: str
    expires_at: datetime
    mfa_enrolment_required: bool = False
    # Send as the X-CSRF-Token header (or form field csrf_token) on every unsafe request.
    csrf_token: str


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
    session_id: str | None
    # When this session last passed a second factor (login with MFA, or POST /step-up).
    mfa_verified_at: datetime | None


class SessionOut(BaseModel):
    id: str
    kind: Kind
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    client_addr: str | None
    user_agent: str | None
    current: bool


class EndedOut(BaseModel):
    ended: int


class PasswordIn(StrictInput):
    current_password: str = Field(min_length=1, max_length=256)
    # No min_length: the password rule (users/passwords.py, 12 characters and more) says it.
    new_password: str = Field(max_length=256)


class StepUpIn(StrictInput):
    otp: str = Field(min_length=1, max_length=32)


class StepUpOut(BaseModel):
    mfa_verified_at: datetime


def _lifetimes(request: Request) -> Lifetimes:
    return Lifetimes.from_settings(request.app.state.settings)


def _login(
    body: LoginIn,
    conn: Conn,
    ctx: Ctx,
    vault: VaultDep,
    request: Request,
    kind: Kind,
    device_token: str | None,
) -> IssuedToken:
    settings = request.app.state.settings
    return login(
        conn,
        ctx=ctx,
        username=body.username,
        password=body.password,
        otp=body.otp,
        lifetimes=_lifetimes(request),
        provider=vault.provider,
        policy=Policy.from_settings(settings),
        kind=kind,
        user_agent=request.headers.get("user-agent"),
        device_token=device_token,
    )


@router.post("/login", response_model=TokenOut)
def post_login(body: LoginIn, conn: Conn, ctx: Ctx, vault: VaultDep, request: Request) -> TokenOut:
    """Exchange a username, password and (with MFA) a one-time code for a bearer token.

    Every login starts a new session. 401 `mfa_required` when the account has MFA and no code
    was sent; 401 `invalid_credentials` for every other failure; 429 `throttled` with
    Retry-After after repeated failures.

    Send the `device_token` of your last login: failures from clients the account does not
    know (a stranger guessing) then never hold you back. An account locked by such failures
    is unlocked by its owner with the password and a one-time code sent together (C4.2.4).
    """
    issued = _login(body, conn, ctx, vault, request, Kind.API, body.device_token)
    return TokenOut(
        access_token=issued.access_token,
        expires_at=issued.expires_at,
        mfa_enrolment_required=issued.mfa_enrolment_required,
        session_id=issued.session_id,
        device_token=issued.device_token,
    )


@router.post("/activate", status_code=204)
def post_activate(body: ActivateIn, conn: Conn, ctx: Ctx) -> None:
    """Set your own password with the one-time code the administrator gave you (a new account,
    or after a reset). Then log in; a role that must use MFA enrols it first (C4.2.4).

    401 `activation_invalid` for a wrong, used or expired code; 422 for a weak password.
    """
    activation.activate(
        conn, ctx=ctx, username=body.username, code=body.code, password=body.password
    )


@router.post("/browser-login", response_model=BrowserLoginOut)
def post_browser_login(
    body: LoginIn, conn: Conn, ctx: Ctx, vault: VaultDep, request: Request, response: Response
) -> BrowserLoginOut:
    """Log in a browser: the session secret is set as an HttpOnly cookie, never returned.

    The session the browser presented before, if any, ends: each login is a new session
    (fixation defence). Errors as for /login; 403 `csrf_failed` from another origin.
    """
    if not browser.same_site_origin(request):
        # Login CSRF: another site must not log this browser into someone else's account.
        refusal = event(
            ctx=ctx,
            actor_id=None,
            actor_username=None,
            action=Action.AUTH_CSRF,
            decision=Decision.DENY,
            reason="cross_origin_login",
        )
        raise Forbidden("log in from this site", code="csrf_failed").with_audit(refusal)
    # A browser's device token is its cookie (auth/devices.py), never a field a script holds.
    presented = devices.from_cookie(request)
    issued = _login(body, conn, ctx, vault, request, Kind.BROWSER, presented)
    if (previous := browser.session_secret_from(request)) is not None:
        sessions.end_presented(
            conn, ctx=ctx, secret=previous, kind=Kind.BROWSER, reason=EndReason.REPLACED
        )
    browser.set_session_cookie(response, request, issued.access_token)
    days = Policy.from_settings(request.app.state.settings).device_days
    devices.keep(response, request, issued.device_token, lifetime=timedelta(days=days))
    return BrowserLoginOut(
        session_id=issued.session_id,
        expires_at=issued.expires_at,
        mfa_enrolment_required=issued.mfa_enrolment_required,
        csrf_token=browser.csrf_token_for(issued.access_token),
    )


def _forget_cookie_if_current(
    request: Request, response: Response, actor: Actor, session_id: str
) -> None:
    if session_id == actor.session_id and request.state.session_kind is Kind.BROWSER:
        browser.clear_session_cookie(response, request)


@router.post("/logout", status_code=204)
def post_logout(
    conn: Conn, ctx: Ctx, actor: CurrentActor, request: Request, response: Response
) -> None:
    """End the session used for this request (and clear a browser's cookie)."""
    if actor.session_id is not None:
        sessions.end(conn, ctx=ctx, session_id=actor.session_id, reason=EndReason.LOGOUT, by=actor)
        _forget_cookie_if_current(request, response, actor, actor.session_id)


@router.get("/me", response_model=MeOut)
def get_me(actor: CurrentActor) -> MeOut:
    return MeOut(
        id=actor.user_id,
        username=actor.username,
        display_name=actor.display_name,
        roles=sorted(r.value for r in actor.roles),
        department_id=actor.department_id,
        session_id=actor.session_id,
        mfa_verified_at=actor.mfa_verified_at,
    )


@router.get("/sessions", response_model=list[SessionOut])
def get_sessions(conn: Conn, actor: CurrentActor, request: Request) -> list[SessionOut]:
    """Your own live sessions, newest first (ASVS V7.5.2); never a secret."""
    live = sessions.list_live(conn, user_id=actor.user_id, lifetimes=_lifetimes(request))
    return [
        SessionOut(
            id=s.id,
            kind=s.kind,
            created_at=s.created_at,
            last_seen_at=s.last_seen_at,
            expires_at=s.expires_at,
            client_addr=s.client_addr,
            user_agent=s.user_agent,
            current=s.id == actor.session_id,
        )
        for s in live
    ]


@router.delete("/sessions/{session_id}", status_code=204)
def delete_session(
    session_id: str,
    conn: Conn,
    ctx: Ctx,
    actor: CurrentActor,
    request: Request,
    response: Response,
) -> None:
    """End one of your own sessions; anyone else's, or an unknown one, is 404."""
    sessions.end_own(
        conn, ctx=ctx, actor=actor, session_id=session_id, lifetimes=_lifetimes(request)
    )
    _forget_cookie_if_current(request, response, actor, session_id)


@router.post("/sessions/end-others", response_model=EndedOut)
def post_end_others(conn: Conn, ctx: Ctx, actor: CurrentActor) -> EndedOut:
    """End all your sessions except this one (a lost phone, a forgotten browser)."""
    ended = sessions.end_others(conn, ctx=ctx, actor=actor, reason=EndReason.ENDED_BY_USER)
    return EndedOut(ended=ended)


@router.post("/password", status_code=204)
def post_password(
    body: PasswordIn, conn: Conn, ctx: Ctx, actor: CurrentActor, request: Request
) -> None:
    """Change your password: the current one is checked, the new one must meet the rules
    (422 `validation_failed`), and every other session of yours ends.

    401 `invalid_credentials` when the current password is wrong (counted like a failed login).
    """
    reauth.change_password(
        conn,
        ctx=ctx,
        actor=actor,
        policy=Policy.from_settings(request.app.state.settings),
        current_password=body.current_password,
        new_password=body.new_password,
    )


@router.post("/step-up", response_model=StepUpOut)
def post_step_up(
    body: StepUpIn, conn: Conn, ctx: Ctx, vault: VaultDep, actor: CurrentActor, request: Request
) -> StepUpOut:
    """Prove the second factor again (TOTP or a recovery code) for this session.

    401 `invalid_otp` when the code is wrong (counted like a failed login); 409
    `mfa_not_enabled` when the account has no MFA.
    """
    verified_at = reauth.step_up(
        conn,
        ctx=ctx,
        actor=actor,
        provider=vault.provider,
        policy=Policy.from_settings(request.app.state.settings),
        otp=body.otp,
    )
    return StepUpOut(mfa_verified_at=verified_at)


@router.post("/mfa/recovery-codes", response_model=RecoveryCodesOut)
def post_recovery_codes(
    body: StepUpIn, conn: Conn, ctx: Ctx, vault: VaultDep, actor: CurrentActor, request: Request
) -> RecoveryCodesOut:
    """Replace all recovery codes with ten new ones (shown once) after a fresh code from the
    app or an old recovery code; 401 `invalid_otp` otherwise (counted like a failed login)."""
    codes = reauth.regenerate_recovery_codes(
        conn,
        ctx=ctx,
        actor=actor,
        provider=vault.provider,
        policy=Policy.from_settings(request.app.state.settings),
        otp=body.otp,
    )
    return RecoveryCodesOut(recovery_codes=codes)


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
    """Activate MFA with a code from the app; returns ten single-use recovery codes, once.

    Every other session of yours ends: they began before the second factor existed.
    """
    codes = confirm_enrolment(conn, actor=actor, ctx=ctx, provider=vault.provider, otp=body.otp)
    return RecoveryCodesOut(recovery_codes=codes)
