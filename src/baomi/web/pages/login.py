"""Logging in and out of the web UI: /login (password, then the one-time code for MFA
accounts), /login/unlock (an account locked by failures from unknown devices, unlocked by its
owner with password and code at once: issue 17.7, C4.2.4), /logout, /session-expired, and the
language switch before login.

A login that passed every factor leaves a device cookie (auth/devices.py): from then on, failed
logins by others never hold this browser back.

The public pages of the UI. Their forms carry a pre-login CSRF token (a random value in a
SameSite=Strict cookie, repeated in the form) and must come from this site, so that no other
site can log a browser in or switch its language (login CSRF).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import Response

from baomi import clock
from baomi.api.deps import Conn, Ctx, VaultDep
from baomi.auth import browser, devices, sessions
from baomi.auth.holds import standing
from baomi.auth.lockout import Policy
from baomi.auth.service import IssuedToken, complete_login, login
from baomi.auth.sessions import EndReason, Kind, Lifetimes
from baomi.errors import BaomiError
from baomi.users.service import user_id_by_username
from baomi.web import i18n, pending_login
from baomi.web.forms import Outcome, attempt
from baomi.web.prelogin import (
    prelogin_name,
    prelogin_ok,
    prelogin_token,
    set_language_cookie,
    with_prelogin_cookie,
)
from baomi.web.render import page
from baomi.web.routing import page_router, redirect, safe_next, with_next
from baomi.web.templating import N_
from baomi.web.viewer import MFA_ENROL_PATH, LockedViewer

router = page_router()

ERRORS = {
    "invalid_credentials": N_("Wrong username or password."),
    "locked": N_(
        "This account is locked after too many failed attempts from devices it does not know. "
        "If it is yours and you use an authenticator app, unlock it below; otherwise ask the "
        "security officer (保密员) to unlock it."
    ),
    "throttled": N_("Too many failed attempts. Try again in %(seconds)s seconds."),
    "bad_otp": N_(
        "That code is not valid. Use the current code from your app, or a recovery code."
    ),
    "pending_expired": N_("The sign-in took too long. Please sign in again."),
    "csrf_failed": N_("The form is out of date. Please try again."),
}


def _login_page(
    request: Request,
    *,
    next_path: str,
    username: str = "",
    error: str | None = None,
    error_args: dict[str, object] | None = None,
    status: int = 200,
    template: str = "login.html",
    pending: str = "",
    notice: str | None = None,
) -> Response:
    token = prelogin_token(request)
    response = page(
        request,
        None,
        template,
        status=status,
        csrf_token=token,
        next=next_path,
        username=username,
        error=ERRORS.get(error or "", ""),
        error_args=error_args or {},
        pending=pending,
        notice=notice,
        # Issue 17.7: a locked account's owner unlocks it with password and code (login.html).
        unlock=error == "locked",
    )
    return with_prelogin_cookie(response, request, token)


@router.get("/login")
def get_login(
    request: Request, next: str | None = None, logged_out: bool = False, activated: bool = False
) -> Response:
    notice = N_("You have logged out.") if logged_out else None
    if activated:
        notice = N_("Your password is set. Sign in with it now.")
    return _login_page(request, next_path=safe_next(next), notice=notice)


def _failure(
    request: Request, conn: Conn, ctx: Ctx, vault: VaultDep, username: str, exc: BaomiError
) -> tuple[str, dict[str, object]]:
    """Which message a refused login shows. Locked is told apart from wrong only by the
    counters, which unknown names have too, so it reveals nothing about who exists; a known
    device is never told "locked" (others' failures do not hold it back)."""
    if exc.code == "throttled":
        return "throttled", {"seconds": exc.headers.get("Retry-After", "60")}
    now_standing = standing(
        conn,
        policy=Policy.from_settings(request.app.state.settings),
        provider=vault.provider,
        username=username,
        client_addr=ctx.client_addr,
        device_token=devices.from_cookie(request),
    )
    return ("locked" if now_standing.locked else "invalid_credentials"), {}


def _attempt_login(
    request: Request,
    conn: Conn,
    ctx: Ctx,
    vault: VaultDep,
    *,
    username: str,
    password: str,
    otp: str | None = None,
) -> Outcome[IssuedToken]:
    settings = request.app.state.settings
    return attempt(
        conn,
        lambda: login(
            conn,
            ctx=ctx,
            username=username,
            password=password,
            otp=otp,
            lifetimes=Lifetimes.from_settings(settings),
            provider=vault.provider,
            policy=Policy.from_settings(settings),
            kind=Kind.BROWSER,
            user_agent=request.headers.get("user-agent"),
            device_token=devices.from_cookie(request),
        ),
    )


def _logged_in(
    request: Request, conn: Conn, ctx: Ctx, issued: IssuedToken, next_path: str
) -> Response:
    # Every login is a new session; the one this browser held before ends (fixation defence).
    if (previous := browser.session_secret_from(request)) is not None:
        sessions.end_presented(
            conn, ctx=ctx, secret=previous, kind=Kind.BROWSER, reason=EndReason.REPLACED
        )
    target = MFA_ENROL_PATH if issued.mfa_enrolment_required else safe_next(next_path)
    response = redirect(request, target)
    browser.set_session_cookie(response, request, issued.access_token)
    days = Policy.from_settings(request.app.state.settings).device_days
    devices.keep(response, request, issued.device_token, lifetime=timedelta(days=days))
    response.delete_cookie(prelogin_name(request), path="/")
    return response


@router.post("/login")
def post_login(
    request: Request,
    conn: Conn,
    ctx: Ctx,
    vault: VaultDep,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Step one: username and password. MFA accounts go on to the code (login_otp.html)."""
    next_path = safe_next(next)
    username = username.strip()
    if not prelogin_ok(request, csrf_token):
        return _login_page(
            request, next_path=next_path, username=username, error="csrf_failed", status=403
        )
    if not username or not password:
        return _login_page(
            request, next_path=next_path, username=username, error="invalid_credentials", status=401
        )
    outcome = _attempt_login(request, conn, ctx, vault, username=username, password=password)
    if outcome.value is not None:
        return _logged_in(request, conn, ctx, outcome.value, next_path)
    assert outcome.error is not None
    if outcome.error.code == "mfa_required":
        # The password was right (login checks it before asking for the code): carry that
        # fact, not the password, to the second step.
        pending = pending_login.seal(
            vault.provider,
            pending_login.PendingLogin(
                user_id=user_id_by_username(conn, username), username=username, next=next_path
            ),
            now=clock.utcnow(),
        )
        return _login_page(
            request,
            next_path=next_path,
            username=username,
            template="login_otp.html",
            pending=pending,
        )
    error, args = _failure(request, conn, ctx, vault, username, outcome.error)
    status = 429 if error == "throttled" else 401
    return _login_page(
        request,
        next_path=next_path,
        username=username,
        error=error,
        error_args=args,
        status=status,
    )


@router.post("/login/unlock")
def post_login_unlock(
    request: Request,
    conn: Conn,
    ctx: Ctx,
    vault: VaultDep,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    otp: Annotated[str, Form(max_length=32)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Unlock one's own account, locked by failures from unknown devices, and sign in: the
    password and a code from the authenticator app at once (issue 17.7, C4.2.4). The code is
    checked first; the unlock is audited as the person's own."""
    next_path = safe_next(next)
    username = username.strip()
    if not prelogin_ok(request, csrf_token):
        return _login_page(
            request, next_path=next_path, username=username, error="csrf_failed", status=403
        )
    outcome = None
    if username and password and otp.strip():
        outcome = _attempt_login(
            request, conn, ctx, vault, username=username, password=password, otp=otp.strip()
        )
        if outcome.value is not None:
            return _logged_in(request, conn, ctx, outcome.value, next_path)
    error, args = "locked", dict[str, object]()
    if outcome is not None and outcome.error is not None:
        error, args = _failure(request, conn, ctx, vault, username, outcome.error)
    status = 429 if error == "throttled" else 401
    return _login_page(
        request,
        next_path=next_path,
        username=username,
        error=error,
        error_args=args,
        status=status,
    )


@router.post("/login/otp")
def post_login_otp(
    request: Request,
    conn: Conn,
    ctx: Ctx,
    vault: VaultDep,
    pending: Annotated[str, Form(max_length=2000)] = "",
    otp: Annotated[str, Form(max_length=32)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """Step two: the TOTP code or a recovery code (C4.2.4)."""
    opened = pending_login.open_token(vault.provider, pending, now=clock.utcnow())
    if opened is None:
        return _login_page(request, next_path="/", error="pending_expired", status=401)
    if not prelogin_ok(request, csrf_token):
        return _login_page(request, next_path=opened.next, error="csrf_failed", status=403)
    if not otp.strip():
        return _login_page(
            request,
            next_path=opened.next,
            username=opened.username,
            error="bad_otp",
            status=401,
            template="login_otp.html",
            pending=pending,
        )
    settings = request.app.state.settings
    outcome = attempt(
        conn,
        lambda: complete_login(
            conn,
            ctx=ctx,
            user_id=opened.user_id,
            otp=otp.strip(),
            lifetimes=Lifetimes.from_settings(settings),
            provider=vault.provider,
            policy=Policy.from_settings(settings),
            kind=Kind.BROWSER,
            user_agent=request.headers.get("user-agent"),
            device_token=devices.from_cookie(request),
        ),
    )
    if outcome.value is not None:
        return _logged_in(request, conn, ctx, outcome.value, opened.next)
    assert outcome.error is not None
    error, args = _failure(request, conn, ctx, vault, opened.username, outcome.error)
    if error == "invalid_credentials":
        # The password was right a moment ago: only the code can be wrong. Ask again.
        return _login_page(
            request,
            next_path=opened.next,
            username=opened.username,
            error="bad_otp",
            status=401,
            template="login_otp.html",
            pending=pending,
        )
    status = 429 if error == "throttled" else 401
    return _login_page(
        request,
        next_path=opened.next,
        username=opened.username,
        error=error,
        error_args=args,
        status=status,
    )


@router.post("/logout")
def post_logout(request: Request, conn: Conn, ctx: Ctx, viewer: LockedViewer) -> Response:
    """End this session (CSRF-checked by CurrentActor) and forget the cookie."""
    if viewer.actor.session_id is not None:
        sessions.end(
            conn,
            ctx=ctx,
            session_id=viewer.actor.session_id,
            reason=EndReason.LOGOUT,
            by=viewer.actor,
        )
    response = redirect(request, "/login?logged_out=1")
    browser.clear_session_cookie(response, request)
    return response


@router.get("/session-expired")
def get_session_expired(request: Request, next: str | None = None) -> Response:
    """C4.2.4: the session ended after the idle time; sign in again to go on."""
    response = page(
        request,
        None,
        "session_expired.html",
        status=401,
        login_url=with_next("/login", next),
    )
    browser.clear_session_cookie(response, request)
    return response


@router.post("/language")
def post_language(
    request: Request,
    locale: Annotated[str, Form(max_length=16)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Switch the language before login (a cookie); logged in, /account/language stores it."""
    target = with_next("/login", next)
    response = redirect(request, target)
    if prelogin_ok(request, csrf_token) and i18n.supported(locale):
        set_language_cookie(response, request, locale)
    return response
