"""Failed-login throttling and account lockout, kept in the database (ASVS V6.3, C4.2.4).

Every failed attempt counts against the account name (known or not, so unknown names behave
alike) and against the client address. After `free` failures each further attempt must wait
2^(n - free) seconds after the last failure (capped); an account name with `lockout` consecutive
failures is locked until the security officer unlocks it. Throttled and locked attempts are
refused before any password hash is computed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, insert, select, update
from sqlalchemy.engine import Connection

from baomi.audit.context import RequestContext
from baomi.audit.service import actor_event, append, record
from baomi.audit.tags import Action, Decision
from baomi.auth.models import login_throttles
from baomi.config import Settings
from baomi.errors import NotFound
from baomi.security.actor import AnyActor
from baomi.security.roles import Permission
from baomi.users import credentials
from baomi.users.guard import require


@dataclass(frozen=True, slots=True)
class Policy:
    free: int = 5
    lockout: int = 10
    cap_seconds: int = 900
    address_window_seconds: int = 3600

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(
            free=settings.login_free_failures,
            lockout=settings.login_lockout_failures,
            cap_seconds=settings.login_backoff_cap_seconds,
            address_window_seconds=settings.login_address_window_seconds,
        )

    def delay(self, failures: int) -> int:
        """Seconds to wait after the last failure before the next attempt is heard."""
        if failures < self.free:
            return 0
        return min(int(2 ** min(failures - self.free, 30)), self.cap_seconds)


def account_key(username: str) -> str:
    return f"account:{username[:64]}"


def address_key(client_addr: str | None) -> str | None:
    return f"addr:{client_addr[:64]}" if client_addr else None


@dataclass(frozen=True, slots=True)
class State:
    account_failures: int
    locked: bool
    retry_after: int  # seconds; 0 when an attempt may be heard now


def _failures(conn: Connection, key: str) -> tuple[int, datetime | None]:
    row = conn.execute(
        select(login_throttles.c.failures, login_throttles.c.last_failure_at).where(
            login_throttles.c.key == key
        )
    ).first()
    return (int(row.failures), row.last_failure_at) if row else (0, None)


def state(
    conn: Connection, *, policy: Policy, username: str, client_addr: str | None, now: datetime
) -> State:
    """Where this account name and address stand before an attempt is heard."""
    account, account_last = _failures(conn, account_key(username))
    known = credentials.account_named(conn, username)
    locked = account >= policy.lockout or (known is not None and known.locked_at is not None)
    waits = [0]
    if account_last is not None:
        waits.append(_remaining(account_last, policy.delay(account), now))
    if (key := address_key(client_addr)) is not None:
        address, address_last = _failures(conn, key)
        if address_last is not None and not _forgotten(policy, address_last, now):
            waits.append(_remaining(address_last, policy.delay(address), now))
    return State(account_failures=account, locked=locked, retry_after=max(waits))


def _remaining(last: datetime, delay: int, now: datetime) -> int:
    left = (last + timedelta(seconds=delay) - now).total_seconds()
    return math.ceil(left) if left > 0 else 0


def _forgotten(policy: Policy, last: datetime, now: datetime) -> bool:
    return now - last > timedelta(seconds=policy.address_window_seconds)


def _bump(conn: Connection, key: str, now: datetime, *, reset_before: datetime | None) -> int:
    # One atomic UPDATE, so that concurrent failures on several app instances all count.
    t = login_throttles
    counted = t.c.failures + 1
    if reset_before is not None:
        counted = case((t.c.last_failure_at < reset_before, 1), else_=t.c.failures + 1)
    result = conn.execute(
        update(t).where(t.c.key == key).values(failures=counted, last_failure_at=now)
    )
    if result.rowcount == 0:
        conn.execute(insert(t).values(key=key, failures=1, last_failure_at=now))
    return _failures(conn, key)[0]


def record_failure(
    conn: Connection, *, policy: Policy, username: str, client_addr: str | None, now: datetime
) -> bool:
    """Count one failed attempt; return whether it has just locked a known account."""
    if (key := address_key(client_addr)) is not None:
        window = timedelta(seconds=policy.address_window_seconds)
        _bump(conn, key, now, reset_before=now - window)
    failures = _bump(conn, account_key(username), now, reset_before=None)
    if failures < policy.lockout:
        return False
    return credentials.lock(conn, username=username, at=now)


def counted_failure(
    *, policy: Policy, ctx: RequestContext, username: str, user_id: str | None, now: datetime
) -> Callable[[Connection], None]:
    """Return an effect for `BaomiError.with_effect`: count one failed attempt after the
    rollback (a failed login, step-up or password check) and audit the lock it may cause."""

    def count(conn: Connection) -> None:
        if record_failure(
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

    return count


def clear_account(conn: Connection, *, username: str) -> None:
    """Forget an account's failures after a successful login."""
    conn.execute(delete(login_throttles).where(login_throttles.c.key == account_key(username)))


def purge_forgotten_addresses(conn: Connection, *, policy: Policy, now: datetime) -> int:
    """Delete client-address counters past the window (already forgotten); return how many.

    Account counters stay: they count consecutive failures up to the lockout, however slowly
    they come, and unknown names must keep behaving like known ones (ASVS V6.3).
    """
    cutoff = now - timedelta(seconds=policy.address_window_seconds)
    t = login_throttles.c
    result = conn.execute(
        delete(login_throttles).where(t.key.startswith("addr:"), t.last_failure_at < cutoff)
    )
    return int(result.rowcount)


def unlock(conn: Connection, *, actor: AnyActor, ctx: RequestContext, user_id: str) -> bool:
    """Unlock an account and forget its failures (the security officer, ASVS V6.3.1).

    Return whether it was locked. Needs user:unlock: the security officer, or the OS account at
    the server's console; anyone else is refused, on record (C1.3).
    """
    require(
        actor,
        ctx,
        Permission.USER_UNLOCK,
        Action.AUTH_UNLOCK,
        "only the security officer unlocks accounts",
    )
    found = credentials.account_of(conn, user_id)
    if found is None:
        raise NotFound("no user with that id")
    failures, _ = _failures(conn, account_key(found.username))
    credentials.clear_lock(conn, user_id=user_id)
    clear_account(conn, username=found.username)
    was_locked = found.locked_at is not None or failures > 0
    append(
        conn,
        actor_event(
            ctx=ctx,
            actor=actor,
            action=Action.AUTH_UNLOCK,
            reason="unlocked" if was_locked else "not_locked",
            object_id=user_id,
            details={"failures": failures},
        ),
    )
    return was_locked
