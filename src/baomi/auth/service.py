"""Login: check the credentials, then start a new session (auth/sessions.py).

Login checks throttling first (auth/lockout.py), then the password, then the second factor of
an enrolled user (auth/mfa.py); every refusal is one generic 401 (or 429 when throttled). The
session is new on every login, API or browser alike (fixation defence, ASVS V7.2.4).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy.engine import Connection

from baomi import clock
from baomi.audit.context import RequestContext
from baomi.audit.service import event, record
from baomi.audit.tags import Action, Decision
from baomi.auth import lockout
from baomi.auth.lockout import Policy
from baomi.auth.mfa import check_second_factor, mfa_enabled, mfa_expected
from baomi.auth.sessions import Kind, Lifetimes, start
from baomi.crypto.keys import KeyProvider
from baomi.errors import BaomiError, Forbidden, NotAuthenticated, Throttled
from baomi.users import credentials
from baomi.users.actors import roles_of
from baomi.users.service import authenticate


@dataclass(frozen=True, slots=True)
class IssuedToken:
    # The session secret: a bearer token (API) or the cookie's value (browser), given out once.
    access_token: str
    expires_at: datetime
    session_id: str
    # C4.2.4: this role must use MFA but has not enrolled yet (POST /api/v1/auth/mfa/enrol).
    mfa_enrolment_required: bool = False


def _refusal(ctx: RequestContext, user_id: str | None, reason: str) -> dict[str, Any]:
    return event(
        ctx=ctx,
        actor_id=user_id,
        actor_username=None,
        action=Action.AUTH_LOGIN,
        decision=Decision.DENY,
        reason=reason,
    )


def _failed(
    ctx: RequestContext,
    user_id: str | None,
    reason: str,
    *,
    policy: Policy,
    username: str,
    now: datetime,
) -> BaomiError:
    """The one generic answer to a failed login; the failure is counted after the rollback."""
    count = lockout.counted_failure(
        policy=policy, ctx=ctx, username=username, user_id=user_id, now=now
    )
    error = NotAuthenticated("invalid username or password", code="invalid_credentials")
    return error.with_audit(_refusal(ctx, user_id, reason)).with_effect(count)


@dataclass(frozen=True, slots=True)
class _Checked:
    user_id: str
    factor: str  # "password", "totp" or "recovery_code"
    enrolled: bool


def _check_credentials(
    conn: Connection,
    *,
    ctx: RequestContext,
    username: str,
    password: str,
    otp: str | None,
    provider: KeyProvider,
    policy: Policy,
    now: datetime,
) -> _Checked:
    """Throttling first, then the password, then the second factor of an enrolled user."""
    known = credentials.account_named(conn, username)
    known_id = known.id if known else None
    fail = partial(_failed, ctx, known_id, policy=policy, username=username, now=now)
    _refuse_if_held_back(conn, ctx=ctx, policy=policy, username=username, user_id=known_id, now=now)
    user_id = authenticate(conn, username=username, password=password)
    if user_id is None:
        raise fail("bad_credentials")
    if not mfa_enabled(conn, user_id):
        return _Checked(user_id, "password", enrolled=False)
    if not otp:
        raise NotAuthenticated(
            "this account needs a one-time code: send it as 'otp'", code="mfa_required"
        ).with_audit(_refusal(ctx, user_id, "mfa_required"))
    factor = check_second_factor(conn, provider=provider, user_id=user_id, otp=otp, now=now)
    if factor is None:
        raise fail("bad_otp")
    return _Checked(user_id, factor, enrolled=True)


def login(
    conn: Connection,
    *,
    ctx: RequestContext,
    username: str,
    password: str,
    lifetimes: Lifetimes,
    provider: KeyProvider,
    policy: Policy,
    otp: str | None = None,
    kind: Kind = Kind.API,
    user_agent: str | None = None,
) -> IssuedToken:
    """Check credentials (and the second factor) and start a new session; failures are
    audited, counted and get one generic error; throttled attempts never reach the hash."""
    now = clock.utcnow()
    checked = _check_credentials(
        conn,
        ctx=ctx,
        username=username,
        password=password,
        otp=otp,
        provider=provider,
        policy=policy,
        now=now,
    )
    return _open_session(
        conn,
        ctx=ctx,
        user_id=checked.user_id,
        username=username,
        factor=checked.factor,
        mfa_verified=checked.enrolled,
        lifetimes=lifetimes,
        kind=kind,
        user_agent=user_agent,
        now=now,
    )


def complete_login(
    conn: Connection,
    *,
    ctx: RequestContext,
    user_id: str,
    otp: str,
    lifetimes: Lifetimes,
    provider: KeyProvider,
    policy: Policy,
    kind: Kind = Kind.BROWSER,
    user_agent: str | None = None,
) -> IssuedToken:
    """The second step of a two-page login, for a user whose password `login` accepted moments
    ago (it answered `mfa_required`); the caller carries that proof (web/pending_login.py seals
    it, never the password). Throttling, lockout and the account's state are checked again."""
    now = clock.utcnow()
    row = credentials.account_of(conn, user_id)
    username = str(row.username) if row else ""
    fail = partial(_failed, ctx, user_id, policy=policy, username=username, now=now)
    _refuse_if_held_back(conn, ctx=ctx, policy=policy, username=username, user_id=user_id, now=now)
    if row is None or not row.is_active or not mfa_enabled(conn, user_id):
        raise fail("bad_credentials")
    factor = check_second_factor(conn, provider=provider, user_id=user_id, otp=otp, now=now)
    if factor is None:
        raise fail("bad_otp")
    return _open_session(
        conn,
        ctx=ctx,
        user_id=user_id,
        username=username,
        factor=factor,
        mfa_verified=True,
        lifetimes=lifetimes,
        kind=kind,
        user_agent=user_agent,
        now=now,
    )


def _refuse_if_held_back(
    conn: Connection,
    *,
    ctx: RequestContext,
    policy: Policy,
    username: str,
    user_id: str | None,
    now: datetime,
) -> None:
    """Throttled attempts never reach the password hash; a locked account gets the generic
    answer (ASVS V6.3)."""
    standing = lockout.state(
        conn, policy=policy, username=username, client_addr=ctx.client_addr, now=now
    )
    if standing.retry_after:
        raise Throttled(standing.retry_after).with_audit(_refusal(ctx, user_id, "throttled"))
    if standing.locked:
        raise _failed(ctx, user_id, "locked", policy=policy, username=username, now=now)


def _open_session(
    conn: Connection,
    *,
    ctx: RequestContext,
    user_id: str,
    username: str,
    factor: str,
    mfa_verified: bool,
    lifetimes: Lifetimes,
    kind: Kind,
    user_agent: str | None,
    now: datetime,
) -> IssuedToken:
    lockout.clear_account(conn, username=username)
    started = start(
        conn,
        ctx=ctx,
        user_id=user_id,
        kind=kind,
        lifetimes=lifetimes,
        user_agent=user_agent,
        # C4.2.4: a login that passed TOTP or a recovery code counts as a fresh second factor.
        mfa_verified_at=now if mfa_verified else None,
    )
    record(
        conn,
        ctx=ctx,
        actor_id=user_id,
        actor_username=username,
        action=Action.AUTH_LOGIN,
        decision=Decision.ALLOW,
        reason="ok",
        object_id=started.session_id,
        details={"factor": factor, "kind": kind.value},
    )
    must_enrol = not mfa_verified and mfa_expected(roles_of(conn, user_id))
    return IssuedToken(
        access_token=started.secret,
        expires_at=started.expires_at,
        session_id=started.session_id,
        mfa_enrolment_required=must_enrol,
    )


def confirm_person(
    conn: Connection,
    *,
    ctx: RequestContext,
    username: str,
    password: str,
    otp: str | None,
    provider: KeyProvider,
    policy: Policy,
) -> str:
    """Check that the person at the console is `username` (password, then the second factor);
    return their id. For CLI commands that change who may see data: they act as that person,
    audited as them, never as the OS account (C1.3). No session is opened.

    The same throttling, lockout and generic refusal as a login; a role that must use MFA and
    has not enrolled is refused (C4.2.4).
    """
    checked = _check_credentials(
        conn,
        ctx=ctx,
        username=username,
        password=password,
        otp=otp,
        provider=provider,
        policy=policy,
        now=clock.utcnow(),
    )
    user_id = checked.user_id
    if not checked.enrolled and mfa_expected(roles_of(conn, user_id)):
        raise Forbidden(
            "this role must enrol a second factor (MFA) before it acts: log in to the web UI "
            "or POST /api/v1/auth/mfa/enrol first",
            code="mfa_enrolment_required",
        ).with_audit(_refusal(ctx, user_id, "mfa_enrolment_required"))
    lockout.clear_account(conn, username=username)
    record(
        conn,
        ctx=ctx,
        actor_id=user_id,
        actor_username=username,
        action=Action.AUTH_LOGIN,
        decision=Decision.ALLOW,
        reason="ok",
        details={"factor": checked.factor, "kind": "cli"},
    )
    return user_id
