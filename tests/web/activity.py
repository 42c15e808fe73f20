"""Test data for the home page's charts: customer reads and reveals on past days, written as
real audit events through the audit service (only their time is set by hand)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine

from baomi import clock
from baomi.audit.context import RequestContext
from baomi.audit.service import append, event
from baomi.audit.tags import Action, Decision
from baomi.ids import new_id
from baomi.uow import unit_of_work
from baomi.web.i18n import DISPLAY_TIMEZONE
from tests.support.org import Org

SEED_CONTEXT = RequestContext(request_id="seed-activity")


def noon_days_ago(days: int) -> datetime:
    """Noon, Beijing time, `days` days before today (Beijing)."""
    today = clock.utcnow().astimezone(DISPLAY_TIMEZONE).date()
    day = today - timedelta(days=days)
    return datetime(day.year, day.month, day.day, 12, tzinfo=DISPLAY_TIMEZONE)


def seed(engine: Engine, org: Org, plan: dict[tuple[str, int], tuple[int, int]]) -> None:
    """For each (username, days ago): so many customer reads and reveals, allowed."""
    customer_id = new_id()
    with unit_of_work(engine) as conn:
        for (username, days), (reads, reveals) in plan.items():
            when = noon_days_ago(days)
            for action, count in ((Action.CUSTOMER_READ, reads), (Action.CUSTOMER_REVEAL, reveals)):
                for _ in range(count):
                    row = event(
                        ctx=SEED_CONTEXT,
                        actor_id=org.user_ids[username],
                        actor_username=username,
                        action=action,
                        decision=Decision.ALLOW,
                        reason="seeded",
                        customer_id=customer_id,
                    )
                    row["occurred_at"] = when
                    append(conn, row)
