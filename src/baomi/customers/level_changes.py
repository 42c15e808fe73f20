"""Lowering a customer's level (C2.2): the customer side of a level-change request.

Raising a level is an ordinary edit (customers.service.update). Lowering is asked for by whoever
may edit the customer and happens only once the approvers its current level's rule names have
all agreed (access.level_change); then the approval itself is the authority, so the approver
needs no access to the customer's data, and nothing of it is read or shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Connection

from baomi.audit.context import RequestContext
from baomi.audit.tags import Action
from baomi.customers import integrity, row_tag
from baomi.customers.access import audit, authorize, denial, load_row
from baomi.customers.decrypt import DamagedRecord
from baomi.customers.revisions import write_change
from baomi.customers.vault import Vault
from baomi.errors import Conflict, ValidationFailed
from baomi.security.actor import Actor
from baomi.security.levels import LevelRule
from baomi.security.policy import CustomerAction

_LOWERING = Action.CUSTOMER_LEVEL_CHANGE


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
    vault: Vault,
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
        vault=vault,
        action=CustomerAction.UPDATE,
        tag=tag,
        customer_id=customer_id,
        now=now,
    )
    target = vault.levels.parse(level)
    current = vault.levels.rule_of(auth.row.level)
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
    vault: Vault,
    customer_id: str,
    from_level: str,
    to_level: str,
    request_id: str,
    now: datetime,
) -> None:
    """Lower the level as an approved request says, if it still stands where it was asked."""
    values: dict[str, object] = {"level": to_level, "updated_at": now}
    if vault.levels.rule_of(to_level).lapses_to is None:
        # A period on a level with nothing below it would have nothing to lapse to.
        values["confidential_until"] = None
    # Guarded by the level it had when asked: the approvals were routed by that level's rule,
    # so a level that has moved since (or a customer withdrawn) makes the request moot.
    row = load_row(conn, customer_id)
    if row is not None:
        try:
            row_tag.check(vault.tags, row)
        except DamagedRecord as damage:  # issue 17.5: never lower a level nobody can vouch for
            raise integrity.refusal(
                ctx=ctx, actor=actor, vault=vault, damages=[damage], during=_LOWERING
            ) from None
    if row is None or row.level != from_level:  # write_change guards the rest of the race
        raise Conflict(
            "the customer's level has changed (or the customer was withdrawn) since this "
            "request was made: reject it, and ask again if the level should still be lowered",
            code="level_changed_since_request",
        ).with_audit(
            denial(
                ctx=ctx,
                actor=actor,
                action=_LOWERING,
                reason="level_changed_since_request",
                customer_id=customer_id,
                object_id=request_id,
            )
        )
    write_change(conn, vault=vault, row=row, columns=values)
    audit(
        conn,
        ctx=ctx,
        actor=actor,
        action=_LOWERING,
        reason="request_approved",
        customer_id=customer_id,
        object_id=request_id,
        details={"from": from_level, "to": to_level},
    )
