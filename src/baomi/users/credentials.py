"""The sign-in state a user row carries, for the auth room: lock and second factor.

Auth decides (throttling, lockout, TOTP); the users room owns the table, so auth reads and
changes these columns through the functions here and never touches the table itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.engine import Connection

from baomi.users.models import users


@dataclass(frozen=True, slots=True)
class Account:
    """Who a user is at sign-in, and whether they may sign in at all."""

    id: str
    username: str
    is_active: bool
    locked_at: datetime | None


@dataclass(frozen=True, slots=True)
class SecondFactor:
    """A user's TOTP state: the sealed secret (auth/totp.py), when enabled, the last step used."""

    secret_ct: bytes | None
    enabled_at: datetime | None
    last_step: int | None


def _account(conn: Connection, where: ColumnElement[bool]) -> Account | None:
    row = conn.execute(
        select(users.c.id, users.c.username, users.c.is_active, users.c.locked_at).where(where)
    ).first()
    if row is None:
        return None
    return Account(str(row.id), row.username, bool(row.is_active), row.locked_at)


def account_named(conn: Connection, username: str) -> Account | None:
    """The account with this username, active or not, or None."""
    return _account(conn, users.c.username == username)


def account_of(conn: Connection, user_id: str) -> Account | None:
    """The account with this id, active or not, or None."""
    return _account(conn, users.c.id == user_id)


def lock(conn: Connection, *, username: str, at: datetime) -> bool:
    """Lock the account with this username; return whether it has just been locked."""
    locked = conn.execute(
        update(users)
        .where(users.c.username == username, users.c.locked_at.is_(None))
        .values(locked_at=at)
    )
    return bool(locked.rowcount)


def clear_lock(conn: Connection, *, user_id: str) -> None:
    """Lift the lock of an account (the security officer's unlock)."""
    conn.execute(update(users).where(users.c.id == user_id).values(locked_at=None))


def second_factor(conn: Connection, user_id: str) -> SecondFactor | None:
    """The TOTP state of a user, or None when there is no such user."""
    row = conn.execute(
        select(users.c.totp_secret_ct, users.c.totp_enabled_at, users.c.totp_last_step).where(
            users.c.id == user_id
        )
    ).first()
    if row is None:
        return None
    return SecondFactor(row.totp_secret_ct, row.totp_enabled_at, row.totp_last_step)


def store_totp_secret(
    conn: Connection, *, user_id: str, sealed: bytes, restart: bool = False
) -> None:
    """Keep a sealed TOTP secret; `restart` also clears MFA until a code confirms the secret."""
    values: dict[str, object] = {"totp_secret_ct": sealed}
    if restart:
        values.update(totp_enabled_at=None, totp_last_step=None)
    conn.execute(update(users).where(users.c.id == user_id).values(**values))


def enable_totp(conn: Connection, *, user_id: str, at: datetime, last_step: int | None) -> None:
    """Mark the user's TOTP as active from `at`, with the step its confirming code used."""
    conn.execute(
        update(users)
        .where(users.c.id == user_id)
        .values(totp_enabled_at=at, totp_last_step=last_step)
    )


def use_totp_step(conn: Connection, *, user_id: str, step: int) -> bool:
    """Record `step` as used unless it or a later one already was; return whether it counted."""
    # Conditional on the step we read: two instances racing with one code cannot both win.
    last = users.c.totp_last_step
    used = conn.execute(
        update(users)
        .where(users.c.id == user_id, last.is_(None) | (last < step))
        .values(totp_last_step=step)
    )
    return bool(used.rowcount)
