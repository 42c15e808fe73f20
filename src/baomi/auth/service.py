"""Login: check the credentials, then start a new session (auth/sessions.py).

Login checks throttling first (auth/lockout.py, auth/holds.py), then the password, then the
second factor of an enrolled user (auth/mfa.py); every refusal is one generic 401 (or 429 when
throttled). The session is new on every login, API or browser alike (fixation defence, ASVS
V7.2.4). Issue 17.7: a client that passed every factor gets a device token (auth/devices.py);
a locked account unlocked by its owner's second factor is audited as their own unlock (C1.3).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy.engine import Connection

from baomi import clock
from baomi.audit.context import RequestContext
from baomi.audit.service import record
from baomi.audit.tags import Action, Decision
from baomi.auth import devices, holds, lockout
from baomi.auth.lockout import Policy
from baomi.auth.mfa import check_second_factor, mfa_enabled, mfa_expected
from baomi.auth.sessions import Kind, Lifetimes, start
from baomi.crypto.keys import KeyProvider
from baomi.errors import Forbidden, NotAuthenticated
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
    # The client's device token (auth/devices.py): kept and sent with its next login.
    device_token: str | None = None


@dataclass(frozen=True, slots=True)
class _Checked:
    user_id: str
    factor: str  # "password", "totp" or "recovery_code"
    enrolled: bool
    device: str | None = None  # the known device's counter (lockout.device_key), if it is one
    device_token: str | None = None


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
    device_token: str | None = None,
) -> _Checked:
    """Throttling first, then the password, then the second factor of an enrolled user."""
    known = credentials.account_named(conn, username)
    known_id = known.id if known else None
    device = holds.known_device(
        conn, policy=policy, provider=provider, token=device_token, user_id=known_id, now=now
    )
    fail = partial(
        holds.failed, ctx, known_id, policy=policy, username=username, now=now, device=device
    )
    lifted = holds.hold(
        conn,
        ctx=ctx,
        policy=policy,
        provider=provider,
        username=username,
        user_id=known_id,
        otp=otp,
        device=device,
        now=now,
    )
    user_id = authenticate(conn, username=username, password=password)
    if user_id is None:
        raise fail("bad_credentials")
    if lifted is not None:
        if lifted.locked:
            lockout.self_unlock(
                conn, ctx=ctx, user_id=user_id, username=username, factor=lifted.factor
            )
        return _Checked(user_id, lifted.factor, enrolled=True)
    token = device_token if device is not None else None
    if not mfa_enabled(conn, user_id):
        return _Checked(user_id, "password", enrolled=False, device=device, device_token=token)
    if not otp:
        raise NotAuthenticated(
            "this account needs a one-time code: send it as 'otp'", code="mfa_required"
        ).with_audit(holds.refusal(ctx, user_id, "mfa_required"))
    factor = check_second_factor(conn, provider=provider, user_id=user_id, otp=otp, now=now)
    if factor is None:
        raise fail("bad_otp")
    return _Checked(user_id, factor, enrolled=True, device=device, device_token=token)


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
    device_token: str | None = None,
) -> IssuedToken:
    """Check credentials (and the second factor) and start a new session; failures are
    audited, counted and get one generic error; throttled attempts never reach the hash.

    `device_token` is the client's token from an earlier login (auth/devices.py), if any; the
    answer carries the token the client keeps (the same one, or a new one).
    """
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
        device_token=device_token,
    )
    return _open_session(
        conn,
        ctx=ctx,
        checked=checked,
        username=username,
        lifetimes=lifetimes,
        provider=provider,
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
    device_token: str | None = None,
) -> IssuedToken:
    """The second step of a two-page login, for a user whose password `login` accepted moments
    ago (it answered `mfa_required`); the caller carries that proof (web/pending_login.py seals
    it, never the password). Throttling, lockout and the account's state are checked again: an
    account locked in between is unlocked by this very code (the password was right)."""
    now = clock.utcnow()
    row = credentials.account_of(conn, user_id)
    username = str(row.username) if row else ""
    device = holds.known_device(
        conn,
        policy=policy,
        provider=provider,
        token=device_token,
        user_id=user_id if row else None,
        now=now,
    )
    fail = partial(
        holds.failed, ctx, user_id, policy=policy, username=username, now=now, device=device
    )
    lifted = holds.hold(
        conn,
        ctx=ctx,
        policy=policy,
        provider=provider,
        username=username,
        user_id=user_id if row else None,
        otp=otp,
        device=device,
        now=now,
    )
    if row is None or not row.is_active or not mfa_enabled(conn, user_id):
        raise fail("bad_credentials")
    if lifted is not None:
        if lifted.locked:
            lockout.self_unlock(
                conn, ctx=ctx, user_id=user_id, username=username, factor=lifted.factor
            )
        checked = _Checked(user_id, lifted.factor, enrolled=True)
    else:
        factor = check_second_factor(conn, provider=provider, user_id=user_id, otp=otp, now=now)
        if factor is None:
            raise fail("bad_otp")
        token = device_token if device is not None else None
        checked = _Checked(user_id, factor, enrolled=True, device=device, device_token=token)
    return _open_session(
        conn,
        ctx=ctx,
        checked=checked,
        username=username,
        lifetimes=lifetimes,
        provider=provider,
        kind=kind,
        user_agent=user_agent,
        now=now,
    )


def _open_session(
    conn: Connection,
    *,
    ctx: RequestContext,
    checked: _Checked,
    username: str,
    lifetimes: Lifetimes,
    provider: KeyProvider,
    kind: Kind,
    user_agent: str | None,
    now: datetime,
) -> IssuedToken:
    user_id = checked.user_id
    if checked.device is not None:
        # A known device forgets its own failures only: the account's may be a stranger's.
        lockout.clear_own(conn, key=checked.device)
        device_token = checked.device_token
    else:
        lockout.clear_account(conn, username=username)
        device_token = devices.issue(provider, user_id=user_id, now=now)
    started = start(
        conn,
        ctx=ctx,
        user_id=user_id,
        kind=kind,
        lifetimes=lifetimes,
        user_agent=user_agent,
        # C4.2.4: a login that passed TOTP or a recovery code counts as a fresh second factor.
        mfa_verified_at=now if checked.enrolled else None,
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
        details={
            "factor": checked.factor,
            "kind": kind.value,
            "device": "known" if checked.device is not None else "new",
        },
    )
    must_enrol = not checked.enrolled and mfa_expected(roles_of(conn, user_id))
    return IssuedToken(
        access_token=started.secret,
        expires_at=started.expires_at,
        session_id=started.session_id,
        mfa_enrolment_required=must_enrol,
        device_token=device_token,
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
        ).with_audit(holds.refusal(ctx, user_id, "mfa_enrolment_required"))
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
