"""Step-up for revealing (C4.2.4, C4.3.2): at levels whose rule says so, a recent second factor.

The session behind the request must have passed a one-time code (at login or with a step-up)
within the step-up window (BAOMI_STEP_UP_WINDOW_MINUTES, which the vault's limits carry). Without
it the reveal is refused and the refusal audited: 401 `step_up_required` (RFC 9470: the token is
good, its authentication is not recent enough), or 403 `mfa_enrolment_required` when the person
has no second factor to offer.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.engine import Connection

from baomi.audit.context import RequestContext
from baomi.audit.tags import Action
from baomi.auth.mfa import mfa_enabled
from baomi.customers.access import denial
from baomi.errors import BaomiError
from baomi.security.actor import Actor
from baomi.security.levels import LevelRule

STEP_UP_URL = "/api/v1/auth/step-up"
MFA_ENROL_URL = "/api/v1/auth/mfa/enrol"


class StepUpRequired(BaomiError):
    """The session has not passed a second factor recently enough (RFC 9470's 401)."""

    status = 401
    code = "step_up_required"
    title = "A recent second factor is needed"


class MfaEnrolmentRequired(BaomiError):
    status = 403
    code = "mfa_enrolment_required"
    title = "A second factor must be set up first"


def require_step_up(
    conn: Connection,
    *,
    actor: Actor,
    ctx: RequestContext,
    rule: LevelRule,
    window: timedelta,
    customer_id: str,
    fields: list[str],
    now: datetime,
) -> None:
    """C4.2.4 / C4.3.2: at levels that say so, a reveal needs a second factor this session,
    passed within `window` (the vault's reveal limits)."""
    if not rule.reveal_requires_mfa:
        return
    verified = actor.mfa_verified_at
    if verified is not None and now - verified <= window:
        return
    enrolled = mfa_enabled(conn, actor.user_id)
    error: BaomiError
    if not enrolled:
        error = MfaEnrolmentRequired(
            f"revealing {rule.label_zh} data needs a second factor: set one up first "
            f"(POST {MFA_ENROL_URL}), then confirm a code before revealing",
            enrol_url=MFA_ENROL_URL,
        )
    else:
        minutes = int(window.total_seconds() // 60)
        error = StepUpRequired(
            f"revealing {rule.label_zh} data needs a one-time code confirmed in the last "
            f"{minutes} minutes: confirm one (POST {STEP_UP_URL}) and try again",
            step_up_url=STEP_UP_URL,
            max_age_seconds=int(window.total_seconds()),
        )
        error.headers["WWW-Authenticate"] = (
            f'Bearer error="insufficient_user_authentication", '
            f"max_age={int(window.total_seconds())}"
        )
    raise error.with_audit(
        denial(
            ctx=ctx,
            actor=actor,
            action=Action.CUSTOMER_REVEAL,
            reason=error.code,
            customer_id=customer_id,
            fields=fields,
            details={"level": rule.code},
        )
    )
