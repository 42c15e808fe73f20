"""Server-side sessions of the API (bearer) and the browser (cookie): ASVS V7, C4.2.4.

A session is a row with a public id and the SHA-256 of a secret of 256 random bits that only the
client holds. Every login starts a new one (new id, new secret), so a secret planted before login
is never the one after it (fixation, ASVS V7.2.4). A session is over when it is ended (logout,
password or MFA change, the user disabled, …), when nobody used it for the idle time (C4.2.4:
the screen lock), or at its absolute end however active it is (ASVS V7.3.1, V7.3.2).

Functions take the caller's connection and never commit. Every end is audited, one event per
session (`auth:session_end`, the end reason as the event's reason).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection

from baomi import clock
from baomi.audit.context import RequestContext
from baomi.audit.service import actor_event, record
from baomi.audit.tags import Action, Decision
from baomi.auth.models import sessions as session_table
from baomi.config import Settings
from baomi.db_direct import DirectStatement
from baomi.errors import NotFound
from baomi.ids import is_id, new_id
from baomi.security.actor import Actor, AnyActor

# last_seen_at is written at most this often per session, so that reads stay reads.
TOUCH_INTERVAL = timedelta(seconds=30)
USER_AGENT_LENGTH = 200
CLIENT_ADDR_LENGTH = 64


class Kind(StrEnum):
    API = "api"  # Authorization: Bearer <secret>
    BROWSER = "browser"  # the HttpOnly session cookie (auth/browser.py)


class EndReason(StrEnum):
    LOGOUT = "logout"
    ENDED_BY_USER = "ended_by_user"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - a reason, not a password
    MFA_CHANGED = "mfa_changed"
    USER_DISABLED = "user_disabled"
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a reason, not a password
    ACCOUNT_CHANGED = "account_changed"  # roles, head of department or department changed
    REPLACED = "replaced"  # a new login in the same browser
    IDLE = "idle"
    EXPIRED = "expired"


TIMEOUTS = frozenset({EndReason.IDLE, EndReason.EXPIRED})


class Status(StrEnum):
    LIVE = "live"
    UNKNOWN = "unknown"
    ENDED = "ended"
    IDLE = "idle"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Lifetimes:
    """How long a session lives unused (idle) and at most (absolute)."""

    idle: timedelta
    absolute: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> Lifetimes:
        return cls(
            idle=timedelta(minutes=settings.session_idle_minutes),
            absolute=timedelta(minutes=settings.session_absolute_minutes),
        )


@dataclass(frozen=True, slots=True)
class Session:
    """One session as its owner may see it (never the secret or its hash)."""

    id: str
    user_id: str
    kind: Kind
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    mfa_verified_at: datetime | None
    client_addr: str | None
    user_agent: str | None


@dataclass(frozen=True, slots=True)
class Started:
    session_id: str
    secret: str  # give it to the client once; only its hash is kept
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Lookup:
    """What a presented secret names: a live session, or why there is none."""

    status: Status
    session: Session | None = None  # the row behind the secret (None when unknown)
    end_reason: str | None = None

    @property
    def timed_out(self) -> bool:
        """Idle or past its absolute end, now or when it was ended (401 session_expired)."""
        return self.status in (Status.IDLE, Status.EXPIRED) or self.end_reason in TIMEOUTS


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _printable(text: str | None, length: int) -> str | None:
    if not text:
        return None
    return "".join(ch for ch in text if ch.isprintable())[:length] or None


_COLUMNS = (
    session_table.c.id,
    session_table.c.user_id,
    session_table.c.kind,
    session_table.c.created_at,
    session_table.c.last_seen_at,
    session_table.c.expires_at,
    session_table.c.mfa_verified_at,
    session_table.c.client_addr,
    session_table.c.user_agent,
)


# Every authenticated request runs this lookup: a DirectStatement (compiled once) on SQLite.
_BY_TOKEN = DirectStatement(
    select(*_COLUMNS, session_table.c.ended_at, session_table.c.end_reason).where(
        session_table.c.token_hash == bindparam("token_hash")
    )
)


def _session(row: Any) -> Session:  # a Row with the _COLUMNS
    return Session(
        id=str(row.id),
        user_id=str(row.user_id),
        kind=Kind(row.kind),
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        expires_at=row.expires_at,
        mfa_verified_at=row.mfa_verified_at,
        client_addr=row.client_addr,
        user_agent=row.user_agent,
    )


def start(
    conn: Connection,
    *,
    ctx: RequestContext,
    user_id: str,
    kind: Kind,
    lifetimes: Lifetimes,
    user_agent: str | None = None,
    mfa_verified_at: datetime | None = None,
) -> Started:
    """Start a new session: always a fresh id and secret (fixation defence, ASVS V7.2.4)."""
    now = clock.utcnow()
    session_id, secret = new_id(), secrets.token_urlsafe(32)  # 256 random bits
    expires_at = now + lifetimes.absolute
    conn.execute(
        insert(session_table).values(
            id=session_id,
            user_id=user_id,
            token_hash=digest(secret),
            kind=kind.value,
            created_at=now,
            last_seen_at=now,
            expires_at=expires_at,
            mfa_verified_at=mfa_verified_at,
            client_addr=_printable(ctx.client_addr, CLIENT_ADDR_LENGTH),
            user_agent=_printable(user_agent, USER_AGENT_LENGTH),
        )
    )
    return Started(session_id=session_id, secret=secret, expires_at=expires_at)


def look_up(
    conn: Connection, *, secret: str, kind: Kind, lifetimes: Lifetimes, now: datetime
) -> Lookup:
    """Say what a presented secret names, changing nothing (the caller ends or touches)."""
    row = _BY_TOKEN.first(conn, {"token_hash": digest(secret)})
    # A browser secret sent as a bearer token (or the reverse) names no session of that kind.
    if row is None or row.kind != kind.value:
        return Lookup(Status.UNKNOWN)
    found = _session(row)
    if row.ended_at is not None:
        return Lookup(Status.ENDED, found, row.end_reason)
    if now >= found.expires_at:
        return Lookup(Status.EXPIRED, found)
    if now - found.last_seen_at >= lifetimes.idle:
        return Lookup(Status.IDLE, found)
    return Lookup(Status.LIVE, found)


def touch(conn: Connection, session: Session, now: datetime) -> None:
    """Record activity, at most once per TOUCH_INTERVAL (the idle clock restarts)."""
    if now - session.last_seen_at < TOUCH_INTERVAL:
        return
    conn.execute(
        update(session_table)
        .where(session_table.c.id == session.id, session_table.c.last_seen_at < now)
        .values(last_seen_at=now)
    )


def resolve(
    conn: Connection, *, ctx: RequestContext, secret: str, kind: Kind, lifetimes: Lifetimes
) -> Session | None:
    """Return the live session behind a secret and touch it; None when unknown, ended or timed
    out. A timed-out session is ended here (reason idle or expired), in the caller's transaction.
    """
    now = clock.utcnow()
    found = look_up(conn, secret=secret, kind=kind, lifetimes=lifetimes, now=now)
    if found.session is None or found.status is Status.ENDED:
        return None
    if found.status is not Status.LIVE:
        end(conn, ctx=ctx, session_id=found.session.id, reason=EndReason(found.status.value))
        return None
    touch(conn, found.session, now)
    return found.session


def end(
    conn: Connection,
    *,
    ctx: RequestContext,
    session_id: str,
    reason: EndReason,
    by: AnyActor | None = None,
) -> bool:
    """End one session (no matter whose: callers decide that); return whether it was live."""
    row = conn.execute(
        select(session_table.c.user_id).where(
            session_table.c.id == session_id, session_table.c.ended_at.is_(None)
        )
    ).first()
    if row is None:
        return False
    ended = conn.execute(
        update(session_table)
        .where(session_table.c.id == session_id, session_table.c.ended_at.is_(None))
        .values(ended_at=clock.utcnow(), end_reason=reason.value)
    )
    if not ended.rowcount:
        return False
    _audit_end(conn, ctx=ctx, session_id=session_id, owner=str(row.user_id), reason=reason, by=by)
    return True


def end_presented(
    conn: Connection, *, ctx: RequestContext, secret: str, kind: Kind, reason: EndReason
) -> bool:
    """End the session behind a presented secret, if it has not ended yet."""
    row = conn.execute(
        select(session_table.c.id).where(
            session_table.c.token_hash == digest(secret), session_table.c.kind == kind.value
        )
    ).first()
    return row is not None and end(conn, ctx=ctx, session_id=str(row.id), reason=reason)


def end_all(
    conn: Connection,
    *,
    ctx: RequestContext,
    user_id: str,
    reason: EndReason,
    by: AnyActor | None,
    keep: str | None = None,
) -> int:
    """End every session of a user at once, except `keep`; return how many were ended."""
    query = select(session_table.c.id).where(
        session_table.c.user_id == user_id, session_table.c.ended_at.is_(None)
    )
    if keep is not None:
        query = query.where(session_table.c.id != keep)
    ids = [str(i) for (i,) in conn.execute(query)]
    return sum(end(conn, ctx=ctx, session_id=i, reason=reason, by=by) for i in ids)


def end_others(conn: Connection, *, ctx: RequestContext, actor: Actor, reason: EndReason) -> int:
    """End all the actor's sessions but the one of this request (ASVS V7.4.3, V7.5.2)."""
    return end_all(
        conn, ctx=ctx, user_id=actor.user_id, reason=reason, by=actor, keep=actor.session_id
    )


def end_own(
    conn: Connection,
    *,
    ctx: RequestContext,
    actor: Actor,
    session_id: str,
    lifetimes: Lifetimes,
) -> None:
    """End one of the actor's live sessions; anyone else's, or none, is 404 (audited)."""
    live = {s.id for s in list_live(conn, user_id=actor.user_id, lifetimes=lifetimes)}
    if session_id not in live:
        refusal = actor_event(
            ctx=ctx,
            actor=actor,
            action=Action.AUTH_SESSION_END,
            allowed=False,
            reason="not_found",
            object_id=session_id if is_id(session_id) else None,
        )
        raise NotFound("you have no live session with that id").with_audit(refusal)
    end(conn, ctx=ctx, session_id=session_id, reason=EndReason.ENDED_BY_USER, by=actor)


def list_live(conn: Connection, *, user_id: str, lifetimes: Lifetimes) -> list[Session]:
    """The user's live sessions, newest first."""
    now = clock.utcnow()
    rows = conn.execute(
        select(*_COLUMNS)
        .where(
            session_table.c.user_id == user_id,
            session_table.c.ended_at.is_(None),
            session_table.c.expires_at > now,
            session_table.c.last_seen_at > now - lifetimes.idle,
        )
        .order_by(session_table.c.created_at.desc(), session_table.c.id.desc())
    )
    return [_session(row) for row in rows]


def mark_mfa(conn: Connection, *, session_id: str, at: datetime) -> None:
    """Record that this session has just passed a second factor (login or step-up)."""
    conn.execute(
        update(session_table)
        .where(session_table.c.id == session_id, session_table.c.ended_at.is_(None))
        .values(mfa_verified_at=at)
    )


def _audit_end(
    conn: Connection,
    *,
    ctx: RequestContext,
    session_id: str,
    owner: str,
    reason: EndReason,
    by: AnyActor | None,
) -> None:
    # Who ended it: the person or the system acting (a SystemActor, no user id), else the
    # operator named by the context (a job), else nobody but the owner's own inactivity (a
    # timeout), so the owner (C1.3: nothing is anonymous).
    if by is not None:
        actor_id, actor_username = by.user_id, by.username
    elif ctx.operator is not None:
        actor_id, actor_username = None, ctx.operator
    else:
        actor_id, actor_username = owner, None
    record(
        conn,
        ctx=ctx,
        actor_id=actor_id,
        actor_username=actor_username,
        action=Action.AUTH_SESSION_END,
        decision=Decision.ALLOW,
        reason=reason.value,
        object_id=session_id,
        details={"user_id": owner} if actor_id != owner else None,
    )
