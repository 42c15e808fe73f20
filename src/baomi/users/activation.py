"""Activation codes: the person, never the administrator, sets an account's password (三员分立).

A new account, or one whose password the administrator reset, has no working password; it gets
a one-time code (valid 72 hours) that the administrator hands to the person, who sets their own
password with it. A role that must use MFA enrols at the first login, before it reaches anything
else (auth/mfa_gate.py). A reset ends every session of the person and tells them. Only a SHA-256
of the code is kept: it carries 100 random bits, so a fast hash suffices.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from baomi import clock
from baomi.audit.context import RequestContext
from baomi.audit.service import actor_event, append, event
from baomi.audit.tags import Action, Decision
from baomi.auth import sessions
from baomi.errors import NotAuthenticated, NotFound
from baomi.ids import new_id
from baomi.notifications import triggers
from baomi.security.actor import Actor, AnyActor
from baomi.security.roles import CUSTOMER_ROLES
from baomi.users.actors import roles_of
from baomi.users.guard import require_manager
from baomi.users.models import account_activations, users
from baomi.users.passwords import NO_PASSWORD
from baomi.users.service import set_password

VALID_FOR = timedelta(hours=72)


class Purpose(StrEnum):
    ACTIVATE = "activate"
    RESET = "reset"


@dataclass(frozen=True, slots=True)
class Activation:
    """A code shown once to the administrator, to hand to the person."""

    code: str
    expires_at: datetime
    # After a reset of an account with customer data: sign-in waits for the officer's unlock.
    locked_until_officer_unlocks: bool = False


def _digest(code: str) -> bytes:
    normalised = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(normalised.encode()).digest()


def _new_code() -> str:
    raw = base64.b32encode(secrets.token_bytes(15)).decode()  # 24 characters, 120 bits
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def issue(
    conn: Connection, *, actor: AnyActor, user_id: str, purpose: Purpose, now: datetime
) -> Activation:
    """Give the account a new code; earlier unused codes stop working.

    `actor` is the administrator, or the console setting up the first one (no user id then).
    """
    conn.execute(
        update(account_activations)
        .where(account_activations.c.user_id == user_id, account_activations.c.used_at.is_(None))
        .values(used_at=now)
    )
    code = _new_code()
    conn.execute(
        insert(account_activations).values(
            id=new_id(),
            user_id=user_id,
            code_hash=_digest(code),
            purpose=purpose.value,
            created_by=actor.user_id,
            created_at=now,
            expires_at=now + VALID_FOR,
        )
    )
    return Activation(code=code, expires_at=now + VALID_FOR)


def pending_user_ids(conn: Connection) -> frozenset[str]:
    """Accounts that wait for their person to set a password (no working password yet)."""
    rows = conn.execute(select(users.c.id).where(users.c.password_hash == NO_PASSWORD))
    return frozenset(str(r.id) for r in rows)


def activate(
    conn: Connection, *, ctx: RequestContext, username: str, code: str, password: str
) -> str:
    """Set the person's own password with their one-time code; return their id.

    A wrong, used or expired code, or a code of another account, gets one generic refusal.
    """
    now = clock.utcnow()
    a, u = account_activations.c, users.c
    row = conn.execute(
        select(a.id, a.user_id, a.purpose, a.expires_at, a.used_at, u.username, u.is_active)
        .join(users, users.c.id == a.user_id)
        .where(a.code_hash == _digest(code))
    ).first()
    usable = (
        row is not None
        and row.username == username
        and row.used_at is None
        and row.expires_at > now
        and row.is_active
    )
    if row is None or not usable:
        refusal = event(
            ctx=ctx,
            actor_id=row.user_id if row is not None and row.username == username else None,
            actor_username=None,
            action=Action.USER_ACTIVATE,
            decision=Decision.DENY,
            reason="activation_invalid",
        )
        raise NotAuthenticated(
            "the activation code is wrong, used or expired: ask the administrator for a new one",
            code="activation_invalid",
        ).with_audit(refusal)
    set_password(conn, user_id=row.user_id, password=password)
    conn.execute(update(account_activations).where(a.id == row.id).values(used_at=now))
    append(
        conn,
        event(
            ctx=ctx,
            actor_id=row.user_id,
            actor_username=username,
            action=Action.USER_ACTIVATE,
            decision=Decision.ALLOW,
            reason=row.purpose,
        ),
    )
    return str(row.user_id)


def reset_password(
    conn: Connection, *, actor: Actor, ctx: RequestContext, user_id: str, mail: bool
) -> Activation:
    """The administrator resets a password: the old one stops working, every session of the
    person ends, they are told (by mail too when `mail`), and only a one-time code remains (the
    second factor stays).
    An account with customer data is also locked until the security officer unlocks it."""
    require_manager(actor, ctx, Action.USER_PASSWORD_RESET)
    now = clock.utcnow()
    row = conn.execute(
        select(users.c.id, users.c.username).where(
            users.c.id == user_id, users.c.is_active.is_(True)
        )
    ).first()
    if row is None:
        raise NotFound("no active user with that id")
    if row.id == actor.user_id:
        raise NotFound("no active user with that id")  # change your own password instead
    # An account that works with customer data stays locked after a reset until the security
    # officer has confirmed with the person that they, not whoever held the code, set the new
    # password: otherwise the administrator could reset a salesperson and sign in as them.
    held = bool(roles_of(conn, user_id) & CUSTOMER_ROLES)
    values: dict[str, object] = {"password_hash": NO_PASSWORD}
    if held:
        values["locked_at"] = now
    conn.execute(update(users).where(users.c.id == user_id).values(**values))
    activation = issue(conn, actor=actor, user_id=user_id, purpose=Purpose.RESET, now=now)
    append(
        conn,
        actor_event(
            ctx=ctx,
            actor=actor,
            action=Action.USER_PASSWORD_RESET,
            object_id=user_id,
            details={"user": row.username, "locked_until_officer_unlocks": held},
        ),
    )
    sessions.end_all(
        conn, ctx=ctx, user_id=user_id, reason=sessions.EndReason.PASSWORD_RESET, by=actor
    )
    triggers.password_reset(conn, user_id=user_id, by=actor, now=now, mail=mail)
    return replace(activation, locked_until_officer_unlocks=held)
