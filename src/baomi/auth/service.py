"""Login and opaque bearer tokens: 256 random bits, stored only as SHA-256, expiring."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from baomi.audit.context import RequestContext
from baomi.audit.service import event, record
from baomi.audit.tags import Action, Decision
from baomi.auth.models import api_tokens
from baomi.clock import utcnow
from baomi.errors import NotAuthenticated
from baomi.ids import new_id
from baomi.users.models import users
from baomi.users.service import authenticate


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_at: datetime


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def login(
    conn: Connection, *, ctx: RequestContext, username: str, password: str, ttl: timedelta
) -> IssuedToken:
    """Check credentials and issue a token; failures are audited and get one generic error."""
    user_id = authenticate(conn, username=username, password=password)
    if user_id is None:
        known = conn.execute(select(users.c.id).where(users.c.username == username)).first()
        refusal = event(
            ctx=ctx,
            actor_id=known.id if known else None,
            actor_username=None,
            action=Action.AUTH_LOGIN,
            decision=Decision.DENY,
            reason="bad_credentials",
        )
        raise NotAuthenticated(
            "invalid username or password", code="invalid_credentials"
        ).with_audit(refusal)
    token = secrets.token_urlsafe(32)
    now = utcnow()
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
    )
    return IssuedToken(access_token=token, expires_at=expires_at)


def user_for_token(conn: Connection, token: str) -> str | None:
    """Return the user id behind a live token, or None when unknown, expired or revoked."""
    row = conn.execute(
        select(api_tokens.c.user_id, api_tokens.c.expires_at, api_tokens.c.revoked_at).where(
            api_tokens.c.token_hash == _digest(token)
        )
    ).first()
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
        return None
    return str(row.user_id)


def logout(conn: Connection, *, token: str) -> None:
    conn.execute(
        update(api_tokens)
        .where(api_tokens.c.token_hash == _digest(token), api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def revoke_all_tokens(conn: Connection, *, user_id: str) -> None:
    """End every token of a user at once (disabling an account, C4.5.2)."""
    conn.execute(
        update(api_tokens)
        .where(api_tokens.c.user_id == user_id, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
