"""The end of a grant, as the scheduled jobs see it (C4.3.1: time-bound access ends by itself).

A grant stops counting at its end without any job (the policy compares it with the clock on
every decision); these jobs only tell the grantee: once a day before the end (`grants.remind`)
and once after it (`grants.expire`, which also records `grant:expired` in the audit log).
Grants of one request end together and are told as one notification.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from baomi.audit.context import job_context
from baomi.audit.service import record
from baomi.audit.tags import Action, Decision
from baomi.grants.models import access_grants
from baomi.notifications.kinds import Kind
from baomi.notifications.triggers import grants_ending

REMIND_BEFORE = timedelta(hours=24)
REMIND_JOB, EXPIRE_JOB = "grants.remind", "grants.expire"

_Group = tuple[str, str | None, datetime]


def _groups(rows: Sequence[Any]) -> dict[_Group, list[Any]]:
    """Group grants by grantee, request and end; a grant given directly stands alone."""
    groups: dict[_Group, list[Any]] = defaultdict(list)
    for row in rows:
        key = row.request_id or row.id
        groups[(row.user_id, key, row.ends_at)].append(row)
    return groups


def _claim(conn: Connection, rows: list[Any], column: str, now: datetime) -> list[Any]:
    """Mark the rows as told, keeping only those no one else marked meanwhile."""
    g = access_grants.c
    claimed = []
    for row in rows:
        result = conn.execute(
            update(access_grants).where(g.id == row.id, g[column].is_(None)).values({column: now})
        )
        if result.rowcount:
            claimed.append(row)
    return claimed


def remind_expiring(conn: Connection, *, now: datetime, mail: bool) -> dict[str, int]:
    """Tell grantees, once, that grants in force end within the next 24 hours."""
    g = access_grants.c
    rows = conn.execute(
        select(g.id, g.user_id, g.request_id, g.ends_at)
        .where(
            g.revoked_at.is_(None),
            g.reminded_at.is_(None),
            g.ends_at > now,
            g.ends_at <= now + REMIND_BEFORE,
        )
        .order_by(g.ends_at, g.id)
    ).all()
    told = 0
    reminded = 0
    for (user_id, _, ends_at), group in _groups(rows).items():
        claimed = _claim(conn, group, "reminded_at", now)
        if not claimed:
            continue
        grants_ending(
            conn,
            kind=Kind.GRANT_EXPIRING,
            user_id=user_id,
            grant_ids=[r.id for r in claimed],
            request_id=claimed[0].request_id,
            ends_at=ends_at,
            now=now,
            mail=mail,
        )
        told += 1
        reminded += len(claimed)
    return {"grants": reminded, "notifications": told}


def notify_expired(conn: Connection, *, now: datetime, mail: bool) -> dict[str, int]:
    """Tell grantees, once, that grants ended; audit each as `grant:expired` (C1.3)."""
    g = access_grants.c
    rows = conn.execute(
        select(g.id, g.user_id, g.customer_id, g.request_id, g.ends_at)
        .where(g.revoked_at.is_(None), g.expiry_notified_at.is_(None), g.ends_at <= now)
        .order_by(g.ends_at, g.id)
    ).all()
    ctx = job_context(EXPIRE_JOB)
    told = 0
    expired = 0
    for (user_id, _, ends_at), group in _groups(rows).items():
        claimed = _claim(conn, group, "expiry_notified_at", now)
        for row in claimed:
            record(
                conn,
                ctx=ctx,
                actor_id=None,
                actor_username=ctx.operator,
                action=Action.GRANT_EXPIRED,
                decision=Decision.ALLOW,
                reason="ended",
                customer_id=row.customer_id,
                object_id=row.id,
                details={"grantee": row.user_id, "ended_at": row.ends_at.isoformat()},
            )
        if not claimed:
            continue
        grants_ending(
            conn,
            kind=Kind.GRANT_EXPIRED,
            user_id=user_id,
            grant_ids=[r.id for r in claimed],
            request_id=claimed[0].request_id,
            ends_at=ends_at,
            now=now,
            mail=mail,
        )
        told += 1
        expired += len(claimed)
    return {"grants": expired, "notifications": told}
