"""Lowering a customer's level (C2.2): the customer side of a level-change request.

Raising a level is an ordinary edit (customers.service.update). Lowering is asked for by whoever
may edit the customer and happens only once the approvers its current level's rule names have
all agreed (access.level_change); then the approval itself is the authority, so the approver
needs no access to the customer's data, and nothing of it is read or shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.engine import Connection

from baomi.audit.context import RequestContext
from baomi.audit.tags import Action
from baomi.customers.access import audit, authorize, denial
from baomi.customers.models import customers
from baomi.errors import Conflict, ValidationFailed
from baomi.security.actor import Actor
from baomi.security.levels import LevelRule, Levels
from baomi.security.policy import CustomerAction


@dataclass(frozen=True, slots=True)
class Lowering:
    """What routing a lowering request needs to know about its customer."""

    customer_id: str
    department_id: str
    current: LevelRule
    target: LevelRule


def check_lowering(
    conn: Connection,
    *,
    actor: Actor,
    ctx: RequestContext,
    levels: Levels,
    tag: Action,
    customer_id: str,
    level: str,
    now: datetime,
) -> Lowering:
    """Authorize asking to lower a level: by someone who may edit the customer, to a lower level."""
    auth = authorize(
        conn,
        actor=actor,
        ctx=ctx,
        levels=levels,
        action=CustomerAction.UPDATE,
        tag=tag,
        customer_id=customer_id,
        now=now,
    )
    target = levels.parse(level)
    current = levels.rule_of(auth.row.level)
    if target.rank >= current.rank:
        raise ValidationFailed(
            [
                {
                    "field": "level",
                    "code": "level_not_lower",
                    "message": f"not lower than the current level {current.label_zh} "
                    f"({current.code}); a level is raised directly with PATCH",
                }
            ]
        )
    return Lowering(
        customer_id=auth.row.id,
        department_id=auth.row.department_id,
        current=current,
        target=target,
    )


def apply_lowering(
    conn: Connection,
    *,
    actor: Actor,
    ctx: RequestContext,
    levels: Levels,
    customer_id: str,
    from_level: str,
    to_level: str,
    request_id: str,
    now: datetime,
) -> None:
    """Lower the level as an approved request says, if it still stands where it was asked."""
    values: dict[str, object] = {"level": to_level, "updated_at": now}
    if levels.rule_of(to_level).lapses_to is None:
        # A period on a level with nothing below it would have nothing to lapse to.
        values["confidential_until"] = None
    # Guarded by the level it had when asked: the approvals were routed by that level's rule,
    # so a level that has moved since (or a customer withdrawn) makes the request moot.
    changed = conn.execute(
        update(customers)
        .where(
            customers.c.id == customer_id,
            customers.c.level == from_level,
            customers.c.deleted_at.is_(None),
        )
        .values(**values)
    ).rowcount
    if changed != 1:
        raise Conflict(
            "the customer's level has changed (or the customer was withdrawn) since this "
            "request was made: reject it, and ask again if the level should still be lowered",
            code="level_changed_since_request",
        ).with_audit(
            denial(
                ctx=ctx,
                actor=actor,
                action=Action.CUSTOMER_LEVEL_CHANGE,
                reason="level_changed_since_request",
                customer_id=customer_id,
                object_id=request_id,
            )
        )
    audit(
        conn,
        ctx=ctx,
        actor=actor,
        action=Action.CUSTOMER_LEVEL_CHANGE,
        reason="request_approved",
        customer_id=customer_id,
        object_id=request_id,
        details={"from": from_level, "to": to_level},
    )
