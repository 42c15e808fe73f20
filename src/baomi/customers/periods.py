"""Confidentiality periods (C2.2): a level may hold until a date, then lapse by itself.

`confidential_until` is the last day (UTC) on which the customer's level holds. From the next day
`lapse_confidentiality_periods` lowers the customer to the level its rule names (`lapses_to`,
one level down by default), clears the period and records the change as the system's doing.
The job scheduler runs it; running it again changes nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from baomi.audit.context import RequestContext
from baomi.audit.service import record
from baomi.audit.tags import Action, Decision
from baomi.customers import integrity, row_tag
from baomi.customers.access import load_row
from baomi.customers.decrypt import DamagedRecord
from baomi.customers.models import customers
from baomi.customers.revisions import write_change
from baomi.customers.vault import Vault
from baomi.errors import Conflict, ValidationFailed
from baomi.security.levels import LevelRule, Levels

JOB_CONTEXT = RequestContext(client_addr="job", operator="job:confidentiality_lapse")


def utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def check_period(until: date | None, *, rule: LevelRule, now: datetime) -> date | None:
    """Refuse a period that is not in the future or that has nothing to lapse to."""
    if until is None:
        return None
    if until <= utc_day(now):
        raise ValidationFailed(
            [
                {
                    "field": "confidential_until",
                    "code": "period_not_future",
                    "message": "must be a date in the future",
                }
            ]
        )
    if rule.lapses_to is None:
        raise ValidationFailed(
            [
                {
                    "field": "confidential_until",
                    "code": "period_nothing_to_lapse_to",
                    "message": f"{rule.label_zh} ({rule.code}) has no lower level to lapse to",
                }
            ]
        )
    return until


def lapse_confidentiality_periods(conn: Connection, *, now: datetime, vault: Vault) -> int:
    """Lower every customer whose period has ended, as the vault's level rules say; return how
    many. A customer whose row tag fails (its period or level edited in the database, issue
    17.5) is not lowered but reported, as any damaged record is."""
    today = utc_day(now)
    ended = conn.execute(
        select(customers.c.id)
        .where(
            customers.c.confidential_until < today,
            customers.c.deleted_at.is_(None),
        )
        .order_by(customers.c.id)
    ).scalars()
    changed = 0
    for customer_id in list(ended):
        row = load_row(conn, customer_id)
        if row is None:
            continue
        try:
            row_tag.check(vault.tags, row)
        except DamagedRecord as damage:
            during = Action.CUSTOMER_LEVEL_LAPSE
            record(
                conn,
                ctx=JOB_CONTEXT,
                actor_id=None,
                actor_username=None,
                action=Action.CUSTOMER_INTEGRITY_FAILURE,
                decision=Decision.DENY,
                reason=integrity.reason_of(damage),
                customer_id=customer_id,
                details=integrity.damage_details(damage, during),
            )
            integrity.alert(conn, vault=vault, damage=damage, during=during)
            continue
        rule = vault.levels.rule_of(row.level)
        target = rule.lapses_to if rule.lapses_to is not None else row.level
        # Guarded by the tag the row was read with: a concurrent run changes each customer once.
        try:
            write_change(
                conn,
                vault=vault,
                row=row,
                columns={"level": target, "confidential_until": None, "updated_at": now},
            )
        except Conflict:
            continue
        record(
            conn,
            ctx=JOB_CONTEXT,
            actor_id=None,
            actor_username=None,
            action=Action.CUSTOMER_LEVEL_LAPSE,
            decision=Decision.ALLOW,
            reason="confidentiality_period_ended",
            customer_id=row.id,
            details={
                "from": row.level,
                "to": target,
                "confidential_until": row.confidential_until.isoformat(),
            },
        )
        changed += 1
    return changed


def schedules_unapproved_lowering(
    levels: Levels,
    *,
    before: LevelRule,
    after: LevelRule,
    old_until: date | None,
    new_until: date | None,
) -> bool:
    """Whether an edit of the period would let the lapse job lower the customer below the level
    it has now without the approval lowering needs (C2.2).

    Clearing or extending a period only keeps a level longer. Setting one, or moving it earlier,
    is a scheduled lowering: allowed only in the edit that raises the level, and only when the
    lapse lands no lower than where the customer stood before the raise.
    """
    if new_until is None or (old_until is not None and new_until >= old_until):
        return False
    if after.rank > before.rank and after.lapses_to is not None:
        return levels.rule_of(after.lapses_to).rank < before.rank
    return True
