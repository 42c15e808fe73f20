"""What an edit may change besides the fields (C2.2, C3.2): level, confidentiality period, handler.

An edit raises a level, never lowers it: lowering is an approved action, asked for with a
level-change request (customers/level_changes.py). A period whose end would lower the level
below where it stands without that approval is refused the same way. Only the department head
gives a customer to another handler, and only to one in their department. Every refusal is
audited (customers/refusals.py); the caller applies what these rules return.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.engine import Connection

from baomi.audit.context import RequestContext
from baomi.audit.tags import Action
from baomi.customers.periods import check_period, schedules_unapproved_lowering
from baomi.customers.refusals import refused
from baomi.customers.schemas import CustomerPatch
from baomi.db_direct import Record
from baomi.errors import Conflict, Forbidden, ValidationFailed
from baomi.security.actor import Actor
from baomi.security.levels import LevelRule, Levels
from baomi.security.policy import Reason, heads
from baomi.users.service import handler_placement


def level_change_url(customer_id: str) -> str:
    return f"/api/v1/customers/{customer_id}/level-change-requests"


def level_after(
    *, actor: Actor, ctx: RequestContext, levels: Levels, row: Record, patch: CustomerPatch
) -> LevelRule:
    """The level the edit leaves: raised if it asks; a lowering is refused (409, C2.2)."""
    level = levels.rule_of(row.level)
    if patch.level is None:
        return level
    wanted = levels.parse(patch.level)
    if wanted.rank < level.rank:
        url = level_change_url(row.id)
        raise refused(
            Conflict(
                f"lowering a level needs approval: ask for it with POST {url}",
                code="level_lowering_requires_approval",
                level_change_url=url,
            ),
            ctx=ctx,
            actor=actor,
            action=Action.CUSTOMER_UPDATE,
            customer_id=row.id,
        )
    return wanted


def period_after(
    *,
    actor: Actor,
    ctx: RequestContext,
    levels: Levels,
    row: Record,
    patch: CustomerPatch,
    level: LevelRule,
    now: datetime,
) -> date | None:
    """The period the edit sets; refused (409) when its end would lower without approval."""
    until = check_period(patch.confidential_until, rule=level, now=now)
    if schedules_unapproved_lowering(
        levels,
        before=levels.rule_of(row.level),
        after=level,
        old_until=row.confidential_until,
        new_until=until,
    ):
        url = level_change_url(row.id)
        raise refused(
            Conflict(
                "setting or shortening a confidentiality period schedules a lowering, which "
                f"needs approval: POST {url}",
                code="period_requires_approval",
                level_change_url=url,
            ),
            ctx=ctx,
            actor=actor,
            action=Action.CUSTOMER_UPDATE,
            customer_id=row.id,
        )
    return until


def handler_after(
    conn: Connection,
    *,
    actor: Actor,
    ctx: RequestContext,
    row: Record,
    access: Reason,
    handler_id: str,
) -> tuple[str, str]:
    """The new handler and their department: the department head's decision (C3.2)."""
    if access is not Reason.DEPARTMENT_HEAD:
        raise refused(
            Forbidden(
                "only the department head reassigns a customer", code="reassign_requires_head"
            ),
            ctx=ctx,
            actor=actor,
            action=Action.CUSTOMER_UPDATE,
            customer_id=row.id,
        )
    handler, department_id = handler_placement(conn, handler_id)
    if not heads(actor, department_id):
        raise ValidationFailed(
            [
                {
                    "field": "handler_id",
                    "code": "handler_outside_department",
                    "message": "the new handler must be in your department",
                }
            ]
        )
    return handler, department_id
