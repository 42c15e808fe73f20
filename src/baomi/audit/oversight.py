"""Counts over the audit log for the people who oversee others (C3.2, C1.3).

Heads and the security officer see how much their people opened and revealed, and who was
refused lately (web/activity.py draws them). Only ids, tags, codes and counts leave here:
events never carry customer values.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, cast, func, literal_column, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from baomi.audit.models import audit_events
from baomi.audit.tags import Decision


def _local_day(conn: Connection, zone: ZoneInfo) -> ColumnElement[Any]:
    """The calendar day of an event in `zone`, computed by the database."""
    # Literals, not bound parameters: PostgreSQL must see the same expression in GROUP BY.
    occurred = audit_events.c.occurred_at
    if conn.dialect.name == "postgresql":
        name: ColumnElement[str] = literal_column(f"'{zone.key}'")
        return cast(func.timezone(name, occurred), Date)
    # SQLite stores UTC text; a fixed offset is right for zones without DST (China has none).
    offset = zone.utcoffset(datetime(2000, 1, 1))
    hours = int(offset.total_seconds() // 3600) if offset is not None else 0
    return func.date(occurred, literal_column(f"'{hours:+d} hours'"))


def daily_counts(
    conn: Connection,
    *,
    actor_ids: Collection[str],
    actions: Collection[str],
    since: datetime,
    zone: ZoneInfo,
) -> list[tuple[str, str, date, int]]:
    """(actor id, action, local day, count) of these people's allowed actions since `since`."""
    day = _local_day(conn, zone).label("day")
    e = audit_events.c
    rows = conn.execute(
        select(e.actor_id, e.action, day, func.count().label("n"))
        .where(
            e.actor_id.in_(list(actor_ids)),
            e.action.in_(list(actions)),
            e.decision == Decision.ALLOW.value,
            e.occurred_at >= since,
        )
        .group_by(e.actor_id, e.action, day)
    )
    return [
        (actor_id, action, date.fromisoformat(str(bucket)[:10]), int(n))
        for actor_id, action, bucket, n in rows
    ]


def recent_denials(
    conn: Connection,
    *,
    user_ids: Collection[str],
    since: datetime,
    limit: int,
    routine: Iterable[tuple[str, str]] = (),
) -> tuple[int, list[tuple[datetime, str | None, str, str]]]:
    """Refusals of these people since `since`, less the `routine` (action, reason) pairs: how
    many, and the newest `limit` as (occurred at, actor id, action, reason)."""
    e = audit_events.c
    where = (
        e.actor_id.in_(list(user_ids)),
        e.decision == Decision.DENY.value,
        e.occurred_at >= since,
        *(~((e.action == action) & (e.reason == reason)) for action, reason in routine),
    )
    total = conn.execute(select(func.count()).where(*where)).scalar_one()
    rows = conn.execute(
        select(e.occurred_at, e.actor_id, e.action, e.reason)
        .where(*where)
        .order_by(e.id.desc())
        .limit(limit)
    )
    return int(total), [(r.occurred_at, r.actor_id, r.action, r.reason) for r in rows]


def allowed_count(conn: Connection, *, actor_id: str, action: str, since: datetime) -> int:
    """How many times this person was allowed `action` since `since` (e.g. reveals per hour)."""
    e = audit_events.c
    return int(
        conn.execute(
            select(func.count())
            .select_from(audit_events)
            .where(
                e.actor_id == actor_id,
                e.action == action,
                e.decision == Decision.ALLOW.value,
                e.occurred_at >= since,
            )
        ).scalar_one()
    )
