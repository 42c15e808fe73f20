"""Revealing masked fields (C4.3.2): for a stated reason, rate-limited, audited.

Part of the one door (customers.service offers it): authorize the reveal, ask for a recent
second factor where the level's rule says so (C4.2.4), hold one person's reveals to the hourly
limit, decrypt exactly the fields asked for and record why.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Connection

from baomi import clock
from baomi.audit.context import RequestContext
from baomi.audit.oversight import allowed_count
from baomi.audit.tags import Action
from baomi.customers.access import audit, authorize
from baomi.customers.decrypt import cipher_for, open_fields
from baomi.customers.fields import FIELDS
from baomi.customers.integrity import guarded
from baomi.customers.reasons import RevealReason, checked_reason
from baomi.customers.refusals import refused
from baomi.customers.schemas import RevealOut
from baomi.customers.step_up import require_step_up
from baomi.customers.vault import Vault
from baomi.db_locks import LockSpace, hold
from baomi.errors import BaomiError, ValidationFailed
from baomi.security.actor import Actor
from baomi.security.policy import CustomerAction


class RevealRateLimited(BaomiError):
    status = 429
    code = "reveal_rate_limited"
    title = "Too many reveals"


def reveal(
    conn: Connection,
    *,
    actor: Actor,
    ctx: RequestContext,
    vault: Vault,
    customer_id: str,
    fields: list[str],
    reason_code: RevealReason | str,
    reason: str,
    purpose: str,
) -> RevealOut:
    """Show masked fields in the clear, for a stated reason, rate-limited (C4.3.2).

    The reason is a code and the person's own words; both are kept in the audit event. The
    purpose is a processing purpose (C4.3.4) the customer's consents and lawful bases in force
    must cover for these fields, else 403 `purpose_not_consented`. At levels whose rule says so,
    the session must have passed a second factor recently (C4.2.4).
    """
    unknown = [f for f in fields if f not in FIELDS]
    if unknown:
        raise ValidationFailed(
            [
                {"field": "fields", "code": "field_unknown", "message": f"unknown field {f!r}"}
                for f in unknown
            ]
        )
    code, text = checked_reason(reason_code, reason)
    [purpose] = vault.purposes.check([purpose], field="purpose")
    now = clock.utcnow()
    auth = authorize(
        conn,
        actor=actor,
        ctx=ctx,
        vault=vault,
        action=CustomerAction.REVEAL,
        tag=Action.CUSTOMER_REVEAL,
        customer_id=customer_id,
        now=now,
        requested=fields,
        purpose=purpose,
    )
    require_step_up(
        conn,
        actor=actor,
        ctx=ctx,
        rule=vault.levels.rule_of(auth.row.level),
        window=vault.limits.step_up_window,
        customer_id=customer_id,
        fields=fields,
        now=now,
    )
    limit = vault.limits.per_hour
    # Count and record as one step: simultaneous reveals by one person queue here (db_locks).
    hold(conn, LockSpace.REVEALS_OF_PERSON, actor.user_id)
    recent = allowed_count(
        conn,
        actor_id=actor.user_id,
        action=Action.CUSTOMER_REVEAL.value,
        since=now - timedelta(hours=1),
    )
    if recent >= limit:
        raise refused(
            RevealRateLimited(f"at most {limit} reveals per hour; ask your head if you need more"),
            ctx=ctx,
            actor=actor,
            action=Action.CUSTOMER_REVEAL,
            reason="rate_limited",
            customer_id=customer_id,
            fields=fields,
        )
    row = auth.row
    with guarded(
        ctx=ctx, actor=actor, vault=vault, during=Action.CUSTOMER_REVEAL, customer_id=row.id
    ):
        data = open_fields(cipher_for(vault.provider, row), row._mapping, row.id, fields)
    audit(
        conn,
        ctx=ctx,
        actor=actor,
        action=Action.CUSTOMER_REVEAL,
        reason=auth.decision.reason.value,
        customer_id=row.id,
        fields=fields,
        # The person's statement of why, not customer data (C4.3.2).
        details={"reason_code": code.value, "reason_text": text, "purpose": purpose},
    )
    return RevealOut(id=row.id, data=data)
