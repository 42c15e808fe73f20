"""Failed-login throttling and account lockout, kept in the database (ASVS V6.3, C4.2.4).

Whose failures hold an attempt back depends on who is trying (issue 17.7: anyone could lock any
named account, the only security officer included, in ten tries):

* A client the account does not know (no device token of this account, auth/devices.py) is held
  back by the failures of such clients against the account and by those of its own address.
  After `free` failures each further attempt waits 2^(n - free) seconds after the last failure
  (at most `cap_seconds`); `lockout` consecutive failures lock the account *for unknown
  clients* until the security officer unlocks it, or the person does, by giving the password
  together with a valid second factor (self-unlock; auth/service.py).
* A known device (its token, given after a login that passed every factor of the account) is
  held back by its own failures only: nobody else's failures, from any address, refuse it a
  correct password. `lockout` failures from it make it an unknown client again (and are
  audited as a lockout).
* A check inside a session (step-up, password change, the screen lock) is held back by the
  session's own failures only; each also counts against the account, so that a stolen session
  is no oracle for the password (reauth.py, screen_lock.py).

Throttled and locked attempts are refused before any password hash is computed.

How fast a guesser goes, with the default policy (tests/auth/test_brute_force.py measures it):
- against one account from unknown clients, wherever they are: ten wrong passwords, then none;
  the locked account checks a password only beside a valid one-time code (3 codes in 10^6 are
  valid at any time), and each wrong code is a failure of the sender's address;
- from one address over every account: 5 failures free, then 1, 2, 4 … 512 s apart, then one
  per 15 minutes (4 an hour) until an hour passes without one;
- with a stolen device token: ten wrong passwords, then it is an unknown client like any other.
"""

from __future__ import annotations

import hashlib
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
    # How long a device token (auth/devices.py) names a known device.
    device_days: int = 180

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(
            free=settings.login_free_failures,
            lockout=settings.login_lockout_failures,
            cap_seconds=settings.login_backoff_cap_seconds,
            address_window_seconds=settings.login_address_window_seconds,
            device_days=settings.login_device_days,
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


def device_key(token: str) -> str:
    """The counter of one known device: the token's digest, never the token itself."""
    return f"device:{hashlib.sha256(token.encode()).hexdigest()[:48]}"


def session_key(session_id: str) -> str:
    return f"session:{session_id}"


@dataclass(frozen=True, slots=True)
class State:
    """Where an attempt stands before it is heard."""

    # Consecutive failures of unknown clients against the account.
    account_failures: int
    # Locked for this client: an unknown client of a locked account, a session past the lockout.
    locked: bool
    # Seconds to wait for the client's own failures (its address, its device, its session).
    retry_after: int
    # Seconds an unknown client waits for the account's failures (0 for the others).
    account_retry_after: int = 0

    @property
    def wait(self) -> int:
        return max(self.retry_after, self.account_retry_after)


def _failures(conn: Connection, key: str) -> tuple[int, datetime | None]:
    row = conn.execute(
        select(login_throttles.c.failures, login_throttles.c.last_failure_at).where(
            login_throttles.c.key == key
        )
    ).first()
    return (int(row.failures), row.last_failure_at) if row else (0, None)


def _wait(policy: Policy, failures: int, last: datetime | None, now: datetime) -> int:
    return 0 if last is None else _remaining(last, policy.delay(failures), now)


def state(
    conn: Connection,
    *,
    policy: Policy,
    username: str,
    client_addr: str | None,
    now: datetime,
    own: str | None = None,
) -> State:
    """Where an attempt on this account name stands: from an unknown client at `client_addr`,
    or, with `own`, from a known device or a session (`device_key`, `session_key`)."""
    account, account_last = _failures(conn, account_key(username))
    if own is not None:
        mine, mine_last = _failures(conn, own)
        return State(
            account_failures=account,
            locked=mine >= policy.lockout,
            retry_after=_wait(policy, mine, mine_last, now),
        )
    known = credentials.account_named(conn, username)
    locked = account >= policy.lockout or (known is not None and known.locked_at is not None)
    address_wait = 0
    if (key := address_key(client_addr)) is not None:
        address, address_last = _failures(conn, key)
        if address_last is not None and not _forgotten(policy, address_last, now):
            address_wait = _wait(policy, address, address_last, now)
    return State(
        account_failures=account,
        locked=locked,
        retry_after=address_wait,
        account_retry_after=_wait(policy, account, account_last, now),
    )


def known_device(conn: Connection, *, policy: Policy, key: str) -> bool:
    """Whether a device (its token already verified) is still known: fewer than `lockout`
    failures from it."""
    return _failures(conn, key)[0] < policy.lockout


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
    conn: Connection,
    *,
    policy: Policy,
    username: str,
    client_addr: str | None,
    now: datetime,
    own: str | None = None,
) -> str | None:
    """Count one failed attempt; return what it has just locked: "account" (a known account,
    for unknown clients), "device" (a known device is unknown from now on), or None.

    An unknown client's failure counts against its address and the account; a known device's
    against the device only; a session's against the session and the account (module doc).
    """
    if own is not None and own.startswith("device:"):
        return "device" if _bump(conn, own, now, reset_before=None) == policy.lockout else None
    if own is not None:
        _bump(conn, own, now, reset_before=None)
    elif (key := address_key(client_addr)) is not None:
        window = timedelta(seconds=policy.address_window_seconds)
        _bump(conn, key, now, reset_before=now - window)
    failures = _bump(conn, account_key(username), now, reset_before=None)
    if failures < policy.lockout:
        return None
    return "account" if credentials.lock(conn, username=username, at=now) else None


def counted_failure(
    *,
    policy: Policy,
    ctx: RequestContext,
    username: str,
    user_id: str | None,
    now: datetime,
    own: str | None = None,
) -> Callable[[Connection], None]:
    """Return an effect for `BaomiError.with_effect`: count one failed attempt after the
    rollback (a failed login, step-up or password check) and audit the lock it may cause."""

    def count(conn: Connection) -> None:
        locked = record_failure(
            conn, policy=policy, username=username, client_addr=ctx.client_addr, now=now, own=own
        )
        if locked is not None:
            record(
                conn,
                ctx=ctx,
                actor_id=user_id,
                actor_username=None,
                action=Action.AUTH_LOCKOUT,
                decision=Decision.DENY,
                reason="too_many_failures" if locked == "account" else "device_too_many_failures",
                object_id=user_id,
            )

    return count


def clear_account(conn: Connection, *, username: str) -> None:
    """Forget an account's failures after a successful login from an unknown client."""
    conn.execute(delete(login_throttles).where(login_throttles.c.key == account_key(username)))


def clear_own(conn: Connection, *, key: str) -> None:
    """Forget a known device's or a session's own failures after it succeeded. The account's
    failures stay: they are someone else's, and forgetting them would give a guesser ten more."""
    conn.execute(delete(login_throttles).where(login_throttles.c.key == key))


def purge_forgotten_addresses(conn: Connection, *, policy: Policy, now: datetime) -> int:
    """Delete client-address counters past the window (already forgotten), and the counters of
    devices and sessions without a failure for `device_days` (no token or session lives that
    long after its last failure); return how many.

    Account counters stay: they count consecutive failures up to the lockout, however slowly
    they come, and unknown names must keep behaving like known ones (ASVS V6.3).
    """
    t = login_throttles.c
    cutoff = now - timedelta(seconds=policy.address_window_seconds)
    addresses = conn.execute(
        delete(login_throttles).where(t.key.startswith("addr:"), t.last_failure_at < cutoff)
    )
    gone = now - timedelta(days=policy.device_days)
    others = conn.execute(
        delete(login_throttles).where(
            t.key.startswith("device:") | t.key.startswith("session:"), t.last_failure_at < gone
        )
    )
    return int(addresses.rowcount) + int(others.rowcount)


def self_unlock(
    conn: Connection, *, ctx: RequestContext, user_id: str, username: str, factor: str
) -> None:
    """Lift the lock of one's own account, having given the password and a valid second factor
    at once (C4.2.4); audited as an unlock by the person (C1.3)."""
    failures, _ = _failures(conn, account_key(username))
    credentials.clear_lock(conn, user_id=user_id)
    clear_account(conn, username=username)
    record(
        conn,
        ctx=ctx,
        actor_id=user_id,
        actor_username=username,
        action=Action.AUTH_UNLOCK,
        decision=Decision.ALLOW,
        reason="self_unlock",
        object_id=user_id,
        details={"failures": failures, "factor": factor},
    )


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
