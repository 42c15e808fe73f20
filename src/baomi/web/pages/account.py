"""My account: language, password, MFA (enrolment with a QR code, recovery codes shown once),
and my sessions with end-one / end-all-others (ASVS V7.4, V7.5; C4.2.4)."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import Response

from baomi.api.deps import Conn, Ctx, VaultDep
from baomi.auth import browser, reauth, sessions
from baomi.auth.lockout import Policy
from baomi.auth.mfa import (
    begin_enrolment,
    confirm_enrolment,
    mfa_enabled,
    mfa_expected,
    unused_recovery_codes,
)
from baomi.auth.sessions import EndReason, Lifetimes
from baomi.errors import BaomiError
from baomi.users.service import locale_of, set_locale
from baomi.web import i18n
from baomi.web.forms import attempt
from baomi.web.prelogin import set_language_cookie
from baomi.web.render import page
from baomi.web.routing import is_htmx, page_router, redirect
from baomi.web.templating import N_
from baomi.web.viewer import EnrollingViewer, PageViewer, Viewer

router = page_router()

NOTICES = {
    "language": N_("Language saved."),
    "password": N_("Password changed. Your other sessions have been ended."),
    "session": N_("The session has been ended."),
    "sessions": N_("All your other sessions have been ended."),
    "mfa": N_("Two-step verification is on."),
}
PASSWORD_ERRORS = {
    "invalid_credentials": N_("The current password is not right."),
    "throttled": N_("Too many failed attempts. Try again in %(seconds)s seconds."),
    "mismatch": N_("The two new passwords are not the same."),
}


def _sessions(request: Request, conn: Conn, viewer: Viewer) -> list[sessions.Session]:
    lifetimes = Lifetimes.from_settings(request.app.state.settings)
    return sessions.list_live(conn, user_id=viewer.actor.user_id, lifetimes=lifetimes)


def _account_page(
    request: Request, conn: Conn, viewer: Viewer, *, status: int = 200, **context: Any
) -> Response:
    values: dict[str, Any] = {
        "stored_locale": locale_of(conn, viewer.actor.user_id),
        "mfa_on": mfa_enabled(conn, viewer.actor.user_id),
        "mfa_required": mfa_expected(viewer.actor.roles),
        "sessions": _sessions(request, conn, viewer),
        "notice": None,
        "password_error": "",
        "password_error_args": {},
        "password_field_errors": {},
        **context,
    }
    return page(request, viewer, "account.html", status=status, **values)


@router.get("/account")
def get_account(
    request: Request, conn: Conn, viewer: PageViewer, done: str | None = None
) -> Response:
    return _account_page(request, conn, viewer, notice=NOTICES.get(done or ""))


@router.post("/account/language")
def post_language(
    request: Request,
    conn: Conn,
    ctx: Ctx,
    viewer: PageViewer,
    locale: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """Store the language for this person (empty: follow the browser)."""
    chosen = i18n.supported(locale)
    set_locale(conn, actor=viewer.actor, ctx=ctx, locale=chosen, supported=i18n.SUPPORTED)
    response = redirect(request, "/account?done=language")
    if chosen:
        set_language_cookie(response, request, chosen)
    else:
        response.delete_cookie(i18n.LANGUAGE_COOKIE, path="/")
    return response


@router.post("/account/password")
def post_password(
    request: Request,
    conn: Conn,
    ctx: Ctx,
    viewer: PageViewer,
    current_password: Annotated[str, Form(max_length=256)] = "",
    new_password: Annotated[str, Form(max_length=256)] = "",
    confirm_password: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    """Change the password; every other session ends (reauth.change_password)."""
    if new_password != confirm_password:
        return _account_page(
            request, conn, viewer, status=422, password_error=PASSWORD_ERRORS["mismatch"]
        )
    outcome = attempt(
        conn,
        lambda: reauth.change_password(
            conn,
            ctx=ctx,
            actor=viewer.actor,
            policy=Policy.from_settings(request.app.state.settings),
            current_password=current_password,
            new_password=new_password,
        ),
    )
    if outcome.error is None:
        return redirect(request, "/account?done=password")
    return _account_page(
        request,
        conn,
        viewer,
        status=outcome.error.status,
        password_error=PASSWORD_ERRORS.get(outcome.error.code, ""),
        password_error_args={"seconds": outcome.error.headers.get("Retry-After", "60")},
        password_field_errors=outcome.field_errors(),
    )


def _sessions_changed(request: Request, conn: Conn, viewer: Viewer, done: str) -> Response:
    """htmx swaps the sessions table in place; a plain form goes back to the account page."""
    if not is_htmx(request):
        return redirect(request, f"/account?done={done}")
    return page(
        request,
        viewer,
        "account_sessions.html",
        sessions=_sessions(request, conn, viewer),
        notice=NOTICES[done],
    )


@router.post("/account/sessions/end-others")
def post_end_others(request: Request, conn: Conn, ctx: Ctx, viewer: PageViewer) -> Response:
    sessions.end_others(conn, ctx=ctx, actor=viewer.actor, reason=EndReason.ENDED_BY_USER)
    return _sessions_changed(request, conn, viewer, "sessions")


@router.post("/account/sessions/{session_id}/end")
def post_end_session(
    request: Request, conn: Conn, ctx: Ctx, viewer: PageViewer, session_id: str
) -> Response:
    """End one of my sessions (someone else's is 404, audited); ending this one logs out."""
    lifetimes = Lifetimes.from_settings(request.app.state.settings)
    sessions.end_own(conn, ctx=ctx, actor=viewer.actor, session_id=session_id, lifetimes=lifetimes)
    if session_id == viewer.actor.session_id:
        response = redirect(request, "/login?logged_out=1")
        browser.clear_session_cookie(response, request)
        return response
    return _sessions_changed(request, conn, viewer, "session")


@router.get("/account/mfa")
def get_mfa(request: Request, conn: Conn, viewer: EnrollingViewer) -> Response:
    """Two-step verification: on, or how to turn it on (required for some roles, C4.2.4)."""
    return page(
        request,
        viewer,
        "mfa.html",
        mfa_on=mfa_enabled(conn, viewer.actor.user_id),
        mfa_required=mfa_expected(viewer.actor.roles),
        unused_codes=unused_recovery_codes(conn, viewer.actor.user_id),
        stage="intro",
        error="",
    )


@router.post("/account/mfa/recovery-codes")
def post_recovery_codes(
    request: Request,
    conn: Conn,
    ctx: Ctx,
    vault: VaultDep,
    viewer: EnrollingViewer,
    otp: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """New recovery codes after a fresh code from the app; shown once, the old ones end."""
    outcome = attempt(
        conn,
        lambda: reauth.regenerate_recovery_codes(
            conn,
            ctx=ctx,
            actor=viewer.actor,
            provider=vault.provider,
            policy=Policy.from_settings(request.app.state.settings),
            otp=otp.strip(),
        ),
    )
    if outcome.value is not None:
        return page(
            request,
            viewer,
            "mfa.html",
            mfa_on=True,
            mfa_required=mfa_expected(viewer.actor.roles),
            stage="codes",
            recovery_codes=outcome.value,
            error="",
        )
    error: BaomiError | None = outcome.error
    return page(
        request,
        viewer,
        "mfa.html",
        status=error.status if error else 400,
        mfa_on=mfa_enabled(conn, viewer.actor.user_id),
        mfa_required=mfa_expected(viewer.actor.roles),
        unused_codes=unused_recovery_codes(conn, viewer.actor.user_id),
        stage="intro",
        error=N_("That code is not valid. Check the time on your phone and try again."),
    )


@router.post("/account/mfa/start")
def post_mfa_start(
    request: Request, conn: Conn, ctx: Ctx, vault: VaultDep, viewer: EnrollingViewer
) -> Response:
    """A new TOTP secret to scan (a POST: it replaces any unconfirmed one)."""
    enrolment = begin_enrolment(conn, actor=viewer.actor, ctx=ctx, provider=vault.provider)
    qr = "data:image/svg+xml;base64," + base64.b64encode(enrolment.qr_svg.encode()).decode()
    return page(
        request,
        viewer,
        "mfa.html",
        mfa_on=False,
        mfa_required=mfa_expected(viewer.actor.roles),
        stage="scan",
        qr_data_uri=qr,
        secret=enrolment.secret,
        error="",
    )


@router.post("/account/mfa/confirm")
def post_mfa_confirm(
    request: Request,
    conn: Conn,
    ctx: Ctx,
    vault: VaultDep,
    viewer: EnrollingViewer,
    otp: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """Turn MFA on with a first code; show the ten recovery codes once (never again)."""
    outcome = attempt(
        conn,
        lambda: confirm_enrolment(
            conn, actor=viewer.actor, ctx=ctx, provider=vault.provider, otp=otp
        ),
    )
    if outcome.value is not None:
        return page(
            request,
            viewer,
            "mfa.html",
            mfa_on=True,
            mfa_required=mfa_expected(viewer.actor.roles),
            stage="codes",
            recovery_codes=outcome.value,
            error="",
        )
    error: BaomiError | None = outcome.error
    return page(
        request,
        viewer,
        "mfa.html",
        status=error.status if error else 400,
        mfa_on=mfa_enabled(conn, viewer.actor.user_id),
        mfa_required=mfa_expected(viewer.actor.roles),
        unused_codes=unused_recovery_codes(conn, viewer.actor.user_id),
        stage="confirm",
        error=N_("That code is not valid. Check the time on your phone and try again."),
    )
