"""The screen lock of a browser session (C4.2.4): locked after idle input, unlocked by the
password again.

The browser locks itself after the configured idle time and tells the server, which from then
on shows that session no page but the lock screen, so reloading or opening another tab does not
lift it. Unlocking checks the password of the session's own user; a wrong password counts like a
failed login (throttling and lockout, auth/lockout.py). Both are audited.
"""

from __future__ import annotations

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection

from baomi import clock
from baomi.audit.context import RequestContext
from baomi.audit.service import actor_event, append
from baomi.audit.tags import Action
from baomi.auth import lockout
from baomi.auth.lockout import Policy
from baomi.auth.models import web_screen_locks
from baomi.errors import NotAuthenticated, Throttled
from baomi.security.actor import Actor
from baomi.users.service import authenticate


def is_locked(conn: Connection, session_id: str) -> bool:
    found = conn.execute(
        select(web_screen_locks.c.session_id).where(web_screen_locks.c.session_id == session_id)
    ).first()
    return found is not None


def lock(conn: Connection, *, actor: Actor, ctx: RequestContext) -> bool:
    """Lock the actor's session; return False when it already was."""
    if actor.session_id is None:
        raise NotAuthenticated("only a browser session has a screen to lock")
    if is_locked(conn, actor.session_id):
        return False
    conn.execute(
        insert(web_screen_locks).values(
            session_id=actor.session_id, user_id=actor.user_id, locked_at=clock.utcnow()
        )
    )
    append(
        conn,
        actor_event(
            ctx=ctx,
            actor=actor,
            action=Action.AUTH_SCREEN_LOCK,
            reason="idle",
            object_id=actor.session_id,
        ),
    )
    return True


def unlock(
    conn: Connection, *, actor: Actor, ctx: RequestContext, policy: Policy, password: str
) -> None:
    """Lift the lock when the password is the session user's own; failures count as logins'."""
    if actor.session_id is None:
        raise NotAuthenticated("only a browser session has a screen to unlock")
    now = clock.utcnow()

    def refusal(reason: str) -> dict[str, object]:
        return actor_event(
            ctx=ctx,
            actor=actor,
            action=Action.AUTH_SCREEN_UNLOCK,
            allowed=False,
            reason=reason,
            object_id=actor.session_id,
        )

    # Held back by this session's own failures only, never the account's (issue 17.7).
    own = lockout.session_key(actor.session_id)
    standing = lockout.state(
        conn, policy=policy, username=actor.username, client_addr=ctx.client_addr, now=now, own=own
    )
    if standing.retry_after:
        raise Throttled(standing.retry_after).with_audit(refusal("throttled"))
    # A locked account is refused before the password hash is computed, as at login.
    if standing.locked or authenticate(conn, username=actor.username, password=password) is None:
        count = lockout.counted_failure(
            policy=policy,
            ctx=ctx,
            username=actor.username,
            user_id=actor.user_id,
            now=now,
            own=own,
        )
        wrong = NotAuthenticated("the password is not right", code="invalid_credentials")
        raise wrong.with_audit(
            refusal("locked" if standing.locked else "bad_password")
        ).with_effect(count)
    lockout.clear_own(conn, key=own)
    conn.execute(delete(web_screen_locks).where(web_screen_locks.c.session_id == actor.session_id))
    append(
        conn,
        actor_event(
            ctx=ctx,
            actor=actor,
            action=Action.AUTH_SCREEN_UNLOCK,
            reason="ok",
            object_id=actor.session_id,
        ),
    )
