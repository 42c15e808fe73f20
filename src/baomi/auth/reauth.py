"""Proving again who you are inside a session: step-up (a fresh second factor) and password
change (ASVS V6.2.2, V6.2.3, V7.5.1; C4.2.4).

Both check a secret the person knows or holds, so both are throttled, and every wrong answer is
counted like a failed login (auth/lockout.py): a stolen session is no oracle for guessing the
password or the one-time code. What holds a check back is the session's own failures, never the
account's (issue 17.7: a stranger's failed logins must not refuse the person their step-up).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from baomi import clock
from baomi.audit.context import RequestContext
from baomi.audit.service import actor_event, record
from baomi.audit.tags import Action, Decision
from baomi.auth import lockout, sessions
from baomi.auth.lockout import Policy
from baomi.auth.mfa import check_second_factor, mfa_enabled, replace_recovery_codes
from baomi.crypto.keys import KeyProvider
from baomi.errors import BaomiError, Conflict, NotAuthenticated, Throttled, ValidationFailed
from baomi.security.actor import Actor
from baomi.users.service import authenticate, set_password


def _refusal(ctx: RequestContext, actor: Actor, action: Action, reason: str) -> dict[str, Any]:
    return actor_event(
        ctx=ctx,
        actor=actor,
        action=action,
        allowed=False,
        reason=reason,
        object_id=actor.session_id,
    )


def _throttle(
    conn: Connection, *, ctx: RequestContext, actor: Actor, action: Action, policy: Policy
) -> bool:
    """Refuse (429) while failures demand a wait; return whether the account is locked."""
    standing = lockout.state(
        conn,
        policy=policy,
        username=actor.username,
        client_addr=ctx.client_addr,
        now=clock.utcnow(),
        own=_own(actor),
    )
    if standing.retry_after:
        raise Throttled(standing.retry_after).with_audit(_refusal(ctx, actor, action, "throttled"))
    return standing.locked


def _own(actor: Actor) -> str | None:
    """The session's own failure counter (an actor without a session counts as a login)."""
    return lockout.session_key(actor.session_id) if actor.session_id else None


def _counted(
    error: BaomiError, *, ctx: RequestContext, actor: Actor, action: Action, policy: Policy
) -> BaomiError:
    reason = "bad_otp" if action is Action.AUTH_STEP_UP else "bad_password"
    count = lockout.counted_failure(
        policy=policy,
        ctx=ctx,
        username=actor.username,
        user_id=actor.user_id,
        now=clock.utcnow(),
        own=_own(actor),
    )
    return error.with_audit(_refusal(ctx, actor, action, reason)).with_effect(count)


def step_up(
    conn: Connection,
    *,
    ctx: RequestContext,
    actor: Actor,
    provider: KeyProvider,
    policy: Policy,
    otp: str,
) -> datetime:
    """Check a TOTP or recovery code and mark this session as freshly verified; return when."""
    action = Action.AUTH_STEP_UP
    if actor.session_id is None:
        raise NotAuthenticated("a step-up belongs to a logged-in session")
    if not mfa_enabled(conn, actor.user_id):
        raise Conflict(
            "this account has no MFA yet: enrol with POST /api/v1/auth/mfa/enrol",
            code="mfa_not_enabled",
        ).with_audit(_refusal(ctx, actor, action, "mfa_not_enabled"))
    locked = _throttle(conn, ctx=ctx, actor=actor, action=action, policy=policy)
    now = clock.utcnow()
    factor = None
    if not locked:
        factor = check_second_factor(
            conn, provider=provider, user_id=actor.user_id, otp=otp, now=now
        )
    if factor is None:
        wrong = NotAuthenticated("the one-time code is not valid", code="invalid_otp")
        raise _counted(wrong, ctx=ctx, actor=actor, action=action, policy=policy)
    sessions.mark_mfa(conn, session_id=actor.session_id, at=now)
    record(
        conn,
        ctx=ctx,
        actor_id=actor.user_id,
        actor_username=actor.username,
        action=action,
        decision=Decision.ALLOW,
        reason="ok",
        object_id=actor.session_id,
        details={"factor": factor},
    )
    return now


def regenerate_recovery_codes(
    conn: Connection,
    *,
    ctx: RequestContext,
    actor: Actor,
    provider: KeyProvider,
    policy: Policy,
    otp: str,
) -> list[str]:
    """New recovery codes, shown once, after a fresh second factor (a step-up, throttled and
    counted like one): a stolen session alone cannot mint a way past MFA (ASVS V6.5)."""
    step_up(conn, ctx=ctx, actor=actor, provider=provider, policy=policy, otp=otp)
    codes = replace_recovery_codes(conn, user_id=actor.user_id)
    record(
        conn,
        ctx=ctx,
        actor_id=actor.user_id,
        actor_username=actor.username,
        action=Action.AUTH_RECOVERY_CODES,
        decision=Decision.ALLOW,
        reason="regenerated",
        object_id=actor.user_id,
        details={"count": len(codes)},
    )
    return codes


def change_password(
    conn: Connection,
    *,
    ctx: RequestContext,
    actor: Actor,
    policy: Policy,
    current_password: str,
    new_password: str,
) -> int:
    """Check the current password, set a new one that meets the rules, and end every other
    session of the person (ASVS V7.4.3); return how many sessions were ended."""
    action = Action.AUTH_PASSWORD_CHANGE
    locked = _throttle(conn, ctx=ctx, actor=actor, action=action, policy=policy)
    # A locked account is refused before the hash is computed, as at login.
    if locked or authenticate(conn, username=actor.username, password=current_password) is None:
        wrong = NotAuthenticated("the current password is wrong", code="invalid_credentials")
        raise _counted(wrong, ctx=ctx, actor=actor, action=action, policy=policy)
    try:
        if new_password == current_password:
            raise ValidationFailed(
                [
                    {
                        "field": "new_password",
                        "code": "password_unchanged",
                        "message": "the new password must differ",
                    }
                ]
            )
        set_password(conn, user_id=actor.user_id, password=new_password, field="new_password")
    except ValidationFailed as refused:
        raise refused.with_audit(_refusal(ctx, actor, action, "rejected_new_password")) from None
    ended = sessions.end_others(
        conn, ctx=ctx, actor=actor, reason=sessions.EndReason.PASSWORD_CHANGED
    )
    record(
        conn,
        ctx=ctx,
        actor_id=actor.user_id,
        actor_username=actor.username,
        action=action,
        decision=Decision.ALLOW,
        reason="ok",
        object_id=actor.user_id,
        details={"sessions_ended": ended},
    )
    return ended
