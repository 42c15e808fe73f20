"""TOTP multi-factor authentication: enrol, confirm, check at login (C4.2.4, ASVS V6.5)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import NoResultFound

from baomi import clock
from baomi.audit.context import RequestContext
from baomi.audit.service import event, record
from baomi.audit.tags import Action, Decision
from baomi.auth import sessions, totp
from baomi.auth.models import mfa_recovery_codes
from baomi.crypto.keys import KeyProvider
from baomi.errors import Conflict, ValidationFailed
from baomi.ids import new_id
from baomi.security.actor import Actor
from baomi.security.roles import Role
from baomi.users import credentials
from baomi.users.credentials import SecondFactor

# Roles that must use a second factor (C4.2.4): they approve, hold keys or manage people.
MFA_ROLES = frozenset({Role.DEPARTMENT_HEAD, Role.SECURITY_OFFICER, Role.ADMINISTRATOR})


@dataclass(frozen=True, slots=True)
class Enrolment:
    secret: str
    otpauth_uri: str
    qr_svg: str


def mfa_enabled(conn: Connection, user_id: str) -> bool:
    factor = credentials.second_factor(conn, user_id)
    return factor is not None and factor.enabled_at is not None


def _factor(conn: Connection, user_id: str) -> SecondFactor:
    factor = credentials.second_factor(conn, user_id)
    if factor is None:
        raise NoResultFound("no user with that id")
    return factor


def mfa_expected(roles: Iterable[Role]) -> bool:
    return bool(MFA_ROLES & set(roles))


def begin_enrolment(
    conn: Connection, *, actor: Actor, ctx: RequestContext, provider: KeyProvider
) -> Enrolment:
    """Give the user a new TOTP secret to scan; it is used only once confirmed."""
    if mfa_enabled(conn, actor.user_id):
        raise Conflict("MFA is already active for this account", code="mfa_already_enabled")
    secret = totp.new_secret()
    sealed = totp.seal_secret(provider, user_id=actor.user_id, secret=secret)
    credentials.store_totp_secret(conn, user_id=actor.user_id, sealed=sealed, restart=True)
    _audit(conn, actor, ctx, Action.AUTH_MFA_ENROL, Decision.ALLOW, "secret_issued")
    uri = totp.otpauth_uri(secret, actor.username)
    return Enrolment(secret=secret, otpauth_uri=uri, qr_svg=totp.qr_svg(uri))


def confirm_enrolment(
    conn: Connection, *, actor: Actor, ctx: RequestContext, provider: KeyProvider, otp: str
) -> list[str]:
    """Activate MFA with a first code from the app; return ten single-use recovery codes.

    Every other session of the person ends (ASVS V7.4.3): they began before the second factor.
    This one has just passed it, so it counts as verified now.
    """
    row = _factor(conn, actor.user_id)
    if row.enabled_at is not None:
        raise Conflict("MFA is already active for this account", code="mfa_already_enabled")
    if row.secret_ct is None:
        raise Conflict("start with POST /api/v1/auth/mfa/enrol", code="mfa_not_enrolling")
    secret = totp.open_secret(provider, user_id=actor.user_id, sealed=row.secret_ct)
    step = totp.matching_step(secret, otp.strip(), now=clock.utcnow(), after=None)
    if step is None:
        refusal = event(
            ctx=ctx,
            actor_id=actor.user_id,
            actor_username=actor.username,
            action=Action.AUTH_MFA_CONFIRM,
            decision=Decision.DENY,
            reason="bad_otp",
        )
        raise ValidationFailed(
            [
                {
                    "field": "otp",
                    "code": "otp_mismatch",
                    "message": "the code does not match; check the device's clock",
                }
            ]
        ).with_audit(refusal)
    codes = totp.new_recovery_codes()
    _activate(conn, user_id=actor.user_id, last_step=step, recovery_codes=codes)
    _audit(conn, actor, ctx, Action.AUTH_MFA_CONFIRM, Decision.ALLOW, "mfa_enabled")
    sessions.end_others(conn, ctx=ctx, actor=actor, reason=sessions.EndReason.MFA_CHANGED)
    if actor.session_id is not None:
        sessions.mark_mfa(conn, session_id=actor.session_id, at=clock.utcnow())
    return codes


def unused_recovery_codes(conn: Connection, user_id: str) -> int:
    """How many of the person's recovery codes are still unused (shown on My account)."""
    return int(
        conn.execute(
            select(func.count())
            .select_from(mfa_recovery_codes)
            .where(mfa_recovery_codes.c.user_id == user_id, mfa_recovery_codes.c.used_at.is_(None))
        ).scalar_one()
    )


def replace_recovery_codes(conn: Connection, *, user_id: str) -> list[str]:
    """Swap every recovery code of the person for ten new ones; the caller proves a fresh
    second factor first (auth/reauth.py)."""
    codes = totp.new_recovery_codes()
    now = clock.utcnow()
    conn.execute(delete(mfa_recovery_codes).where(mfa_recovery_codes.c.user_id == user_id))
    conn.execute(
        insert(mfa_recovery_codes),
        [
            {
                "id": new_id(),
                "user_id": user_id,
                "code_hash": totp.recovery_hash(code),
                "created_at": now,
            }
            for code in codes
        ],
    )
    return codes


def activate(
    conn: Connection,
    *,
    provider: KeyProvider,
    user_id: str,
    secret: str,
    recovery_codes: Iterable[str],
) -> None:
    """Enrol a user with a known secret, already active (the demo and test companies only)."""
    sealed = totp.seal_secret(provider, user_id=user_id, secret=secret)
    credentials.store_totp_secret(conn, user_id=user_id, sealed=sealed)
    _activate(conn, user_id=user_id, last_step=None, recovery_codes=recovery_codes)


def _activate(
    conn: Connection, *, user_id: str, last_step: int | None, recovery_codes: Iterable[str]
) -> None:
    now = clock.utcnow()
    credentials.enable_totp(conn, user_id=user_id, at=now, last_step=last_step)
    conn.execute(delete(mfa_recovery_codes).where(mfa_recovery_codes.c.user_id == user_id))
    rows = [
        {
            "id": new_id(),
            "user_id": user_id,
            "code_hash": totp.recovery_hash(code),
            "created_at": now,
        }
        for code in recovery_codes
    ]
    if rows:
        conn.execute(insert(mfa_recovery_codes), rows)


def check_second_factor(
    conn: Connection, *, provider: KeyProvider, user_id: str, otp: str, now: datetime
) -> str | None:
    """Accept a TOTP code (once, ±1 step) or an unused recovery code; return which, or None."""
    otp = otp.strip()
    row = _factor(conn, user_id)
    if row.secret_ct is None:  # enabled MFA always has a secret: nothing to match against
        return None
    secret = totp.open_secret(provider, user_id=user_id, sealed=row.secret_ct)
    step = totp.matching_step(secret, otp, now=now, after=row.last_step)
    if step is not None:
        # Conditional on the step we read: two instances racing with one code cannot both win.
        used = credentials.use_totp_step(conn, user_id=user_id, step=step)
        return "totp" if used else None
    if len(otp) > 6:
        spent = conn.execute(
            update(mfa_recovery_codes)
            .where(
                mfa_recovery_codes.c.user_id == user_id,
                mfa_recovery_codes.c.code_hash == totp.recovery_hash(otp),
                mfa_recovery_codes.c.used_at.is_(None),
            )
            .values(used_at=now)
        )
        if spent.rowcount:
            return "recovery_code"
    return None


def _audit(
    conn: Connection,
    actor: Actor,
    ctx: RequestContext,
    action: Action,
    decision: Decision,
    reason: str,
) -> None:
    record(
        conn,
        ctx=ctx,
        actor_id=actor.user_id,
        actor_username=actor.username,
        action=action,
        decision=decision,
        reason=reason,
        object_id=actor.user_id,
    )
