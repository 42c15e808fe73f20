"""What holds a login back, and the one answer to a failed one (auth/service.py's first step).

Issue 17.7 (C4.2.4): only the client's own failures hold back a known device (auth/devices.py);
an unknown client is held back by the account's failures too, which may be a stranger's. The
person lifts that hold by giving a valid second factor with the password: the code is checked
first, so that a guesser without it never reaches the password hash, and every wrong code is a
counted failure. The counting and the rates are auth/lockout.py's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy.engine import Connection

from baomi import clock
from baomi.audit.context import RequestContext
from baomi.audit.service import event
from baomi.audit.tags import Action, Decision
from baomi.auth import devices, lockout
from baomi.auth.lockout import Policy
from baomi.auth.mfa import check_second_factor, mfa_enabled
from baomi.crypto.keys import KeyProvider
from baomi.errors import BaomiError, NotAuthenticated, Throttled
from baomi.users import credentials


def refusal(ctx: RequestContext, user_id: str | None, reason: str) -> dict[str, Any]:
    return event(
        ctx=ctx,
        actor_id=user_id,
        actor_username=None,
        action=Action.AUTH_LOGIN,
        decision=Decision.DENY,
        reason=reason,
    )


def failed(
    ctx: RequestContext,
    user_id: str | None,
    reason: str,
    *,
    policy: Policy,
    username: str,
    now: datetime,
    device: str | None = None,
) -> BaomiError:
    """The one generic answer to a failed login; the failure is counted after the rollback
    (against the known device, if the client is one: `lockout.record_failure`)."""
    count = lockout.counted_failure(
        policy=policy, ctx=ctx, username=username, user_id=user_id, now=now, own=device
    )
    error = NotAuthenticated("invalid username or password", code="invalid_credentials")
    return error.with_audit(refusal(ctx, user_id, reason)).with_effect(count)


@dataclass(frozen=True, slots=True)
class Lifted:
    """The second factor that lifted the account's hold on an unknown client."""

    factor: str
    locked: bool  # the account was locked (not only backing off): a self-unlock


def known_device(
    conn: Connection,
    *,
    policy: Policy,
    provider: KeyProvider,
    token: str | None,
    user_id: str | None,
    now: datetime,
) -> str | None:
    """The counter of the client's device if it is a known device of this account, else None."""
    if token is None or user_id is None:
        return None
    lifetime = timedelta(days=policy.device_days)
    if not devices.is_valid(provider, token, user_id=user_id, now=now, lifetime=lifetime):
        return None
    key = lockout.device_key(token)
    return key if lockout.known_device(conn, policy=policy, key=key) else None


def standing(
    conn: Connection,
    *,
    policy: Policy,
    provider: KeyProvider,
    username: str,
    client_addr: str | None,
    device_token: str | None,
) -> lockout.State:
    """Where a client stands with this account name (throttled, locked): for the login page,
    which says "locked" only where `login` would refuse it as locked."""
    now = clock.utcnow()
    known = credentials.account_named(conn, username)
    device = known_device(
        conn,
        policy=policy,
        provider=provider,
        token=device_token,
        user_id=known.id if known else None,
        now=now,
    )
    return lockout.state(
        conn, policy=policy, username=username, client_addr=client_addr, now=now, own=device
    )


def hold(
    conn: Connection,
    *,
    ctx: RequestContext,
    policy: Policy,
    provider: KeyProvider,
    username: str,
    user_id: str | None,
    otp: str | None,
    device: str | None,
    now: datetime,
) -> Lifted | None:
    """Refuse an attempt that failures hold back, before any password hash (ASVS V6.3).

    The client's own failures (its address, or its device) always hold it back: 429. The
    account's failures hold back an unknown client (429 while backing off, the generic 401 once
    locked) unless a valid second factor comes with the attempt: that lifts the hold, and is
    returned (the password is checked next). A wrong code is a counted failure, so that codes
    cannot be guessed for free; unknown names and accounts without MFA answer alike.
    """
    standing = lockout.state(
        conn, policy=policy, username=username, client_addr=ctx.client_addr, now=now, own=device
    )
    if standing.retry_after:
        raise Throttled(standing.retry_after).with_audit(refusal(ctx, user_id, "throttled"))
    if not (standing.locked or standing.account_retry_after):
        return None
    fail = partial(failed, ctx, user_id, policy=policy, username=username, now=now)
    if otp:
        factor = None
        if user_id is not None and mfa_enabled(conn, user_id):
            factor = check_second_factor(conn, provider=provider, user_id=user_id, otp=otp, now=now)
        if factor is None:
            raise fail("locked_bad_otp" if standing.locked else "bad_otp")
        return Lifted(factor, locked=standing.locked)
    if standing.locked:
        raise fail("locked")
    raise Throttled(standing.account_retry_after).with_audit(refusal(ctx, user_id, "throttled"))
