"""Login and opaque bearer tokens: 256 random bits, stored only as SHA-256, expiring.

Login checks throttling first (auth/lockout.py), then the password, then the second factor of
an enrolled user (auth/mfa.py); every refusal is one generic 401 (or 429 when throttled).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from baomi import clock
from baomi.audit.context import RequestContext
from baomi.audit.service import event, record
from baomi.audit.tags import Action, Decision
from baomi.auth import lockout
from baomi.auth.lockout import Policy
from baomi.auth.mfa import check_second_factor, mfa_enabled, mfa_expected
from baomi.auth.models import api_tokens
from baomi.crypto.keys import KeyProvider
from baomi.errors import BaomiError, NotAuthenticated, Throttled
from baomi.ids import new_id
from baomi.users.models import users
from baomi.users.service import authenticate, roles_of


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_at: datetime
    # C4.2.4: this role must use MFA but has not enrolled yet (POST /api/v1/auth/mfa/enrol).
    mfa_enrolment_required: bool = False


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


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

    def count(conn: Connection) -> None:
        if lockout.record_failure(
            conn, policy=policy, username=username, client_addr=ctx.client_addr, now=now
        ):
            record(
                conn,
                ctx=ctx,
                actor_id=user_id,
                actor_username=None,
                action=Action.AUTH_LOCKOUT,
                decision=Decision.DENY,
                reason="too_many_failures",
                object_id=user_id,
            )

    error = NotAuthenticated("invalid username or password", code="invalid_credentials")
    return error.with_audit(_refusal(ctx, user_id, reason)).with_effect(count)


def login(
    conn: Connection,
    *,
    ctx: RequestContext,
    username: str,
    password: str,
    ttl: timedelta,
    provider: KeyProvider,
    policy: Policy,
    otp: str | None = None,
) -> IssuedToken:
    """Check credentials (and the second factor) and issue a token; failures are audited,
    counted and get one generic error; throttled attempts never reach the password hash."""
    now = clock.utcnow()
    known = conn.execute(select(users.c.id).where(users.c.username == username)).first()
    known_id = str(known.id) if known else None
    fail = partial(_failed, ctx, known_id, policy=policy, username=username, now=now)
    standing = lockout.state(
        conn, policy=policy, username=username, client_addr=ctx.client_addr, now=now
    )
    if standing.retry_after:
        raise Throttled(standing.retry_after).with_audit(_refusal(ctx, known_id, "throttled"))
    if standing.locked:
        raise fail("locked")
    user_id = authenticate(conn, username=username, password=password)
    if user_id is None:
        raise fail("bad_credentials")
    factor = "password"
    enrolled = mfa_enabled(conn, user_id)
    if enrolled:
        if not otp:
            raise NotAuthenticated(
                "this account needs a one-time code: send it as 'otp'", code="mfa_required"
            ).with_audit(_refusal(ctx, user_id, "mfa_required"))
        checked = check_second_factor(conn, provider=provider, user_id=user_id, otp=otp, now=now)
        if checked is None:
            raise fail("bad_otp")
        factor = checked
    lockout.clear_account(conn, username=username)
    token = secrets.token_urlsafe(32)
    expires_at = now + ttl
    conn.execute(
        insert(api_tokens).values(
            id=new_id(),
            user_id=user_id,
            token_hash=_digest(token),
            created_at=now,
            expires_at=expires_at,
        )
    )
    record(
        conn,
        ctx=ctx,
        actor_id=user_id,
        actor_username=username,
        action=Action.AUTH_LOGIN,
        decision=Decision.ALLOW,
        reason="ok",
        details={"factor": factor},
    )
    must_enrol = not enrolled and mfa_expected(roles_of(conn, user_id))
    return IssuedToken(access_token=token, expires_at=expires_at, mfa_enrolment_required=must_enrol)


def user_for_token(conn: Connection, token: str) -> str | None:
    """Return the user id behind a live token, or None when unknown, expired or revoked."""
    row = conn.execute(
        select(api_tokens.c.user_id, api_tokens.c.expires_at, api_tokens.c.revoked_at).where(
            api_tokens.c.token_hash == _digest(token)
        )
    ).first()
    if row is None or row.revoked_at is not None or row.expires_at <= clock.utcnow():
        return None
    return str(row.user_id)


def logout(conn: Connection, *, token: str) -> None:
    conn.execute(
        update(api_tokens)
        .where(api_tokens.c.token_hash == _digest(token), api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=clock.utcnow())
    )


def revoke_all_tokens(conn: Connection, *, user_id: str) -> None:
    """End every token of a user at once (disabling an account, C4.5.2)."""
    conn.execute(
        update(api_tokens)
        .where(api_tokens.c.user_id == user_id, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=clock.utcnow())
    )
