"""The home page's read model of the audit log: volumes and alerts, counts only (C3.2, C1.3).

A department head sees how much the people of the departments they head opened and revealed,
per day and per person; the security officer sees it for everyone who works with customers.
Events carry ids, tags and codes and never customer values, so nothing here can show customer
data. Looking at the volumes is itself audited (`activity:view`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, cast, func, literal_column, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from baomi.audit.context import RequestContext
from baomi.audit.models import audit_events
from baomi.audit.service import actor_event, append
from baomi.audit.tags import Action, Decision
from baomi.security.actor import Actor
from baomi.security.roles import Permission, Role
from baomi.users.models import users
from baomi.users.service import list_users
from baomi.web.i18n import DISPLAY_TIMEZONE

DAYS = 14
# Opening a record is an access; revealing a masked field is a reveal (C4.3.2).
ACCESS_ACTIONS = (Action.CUSTOMER_READ.value,)
REVEAL_ACTIONS = (Action.CUSTOMER_REVEAL.value,)
ALERT_DAYS = 7


@dataclass(frozen=True, slots=True)
class Person:
    user_id: str
    username: str
    display_name: str


@dataclass(slots=True)
class Counts:
    access: int = 0
    reveal: int = 0

    @property
    def total(self) -> int:
        return self.access + self.reveal


@dataclass(frozen=True, slots=True)
class Volume:
    """Access and reveal counts of the overseen people over the last DAYS days (Beijing)."""

    days: list[date]
    people: list[Person]
    per_day: dict[date, Counts]
    per_person: dict[str, Counts]
    totals: Counts = field(default_factory=Counts)


def oversees(actor: Actor) -> bool:
    """Whether the home page shows this person the volume charts."""
    return bool(actor.headed_departments) or actor.can(Permission.GRANT_MANAGE)


def overseen_people(conn: Connection, actor: Actor) -> list[Person]:
    """Heads: the active people of the departments they head (C3.2); the officer: everyone
    who works with customers. Nobody else oversees anyone."""
    customer_roles = {Role.SALESPERSON, Role.DEPARTMENT_HEAD}
    people = []
    for user in list_users(conn):
        if not user.is_active or user.id == actor.user_id:
            continue
        if actor.can(Permission.GRANT_MANAGE):
            if not customer_roles & set(user.roles):
                continue
        elif user.department_id not in actor.headed_departments:
            continue
        people.append(Person(user.id, user.username, user.display_name))
    return sorted(people, key=lambda p: p.username)


def _local_day(conn: Connection) -> ColumnElement[Any]:
    """The Beijing calendar day of an event, computed by the database."""
    # Literals, not bound parameters: PostgreSQL must see the same expression in GROUP BY.
    occurred = audit_events.c.occurred_at
    if conn.dialect.name == "postgresql":
        zone: ColumnElement[str] = literal_column(f"'{DISPLAY_TIMEZONE.key}'")
        return cast(func.timezone(zone, occurred), Date)
    return func.date(occurred, literal_column("'+8 hours'"))  # UTC text; China has no DST


def volume(conn: Connection, *, actor: Actor, ctx: RequestContext, now: datetime) -> Volume:
    """Count the overseen people's customer reads and reveals per Beijing day and person."""
    people = overseen_people(conn, actor) if oversees(actor) else []
    today = now.astimezone(DISPLAY_TIMEZONE).date()
    days = [today - timedelta(days=n) for n in range(DAYS - 1, -1, -1)]
    start = datetime.combine(days[0], datetime.min.time(), DISPLAY_TIMEZONE)
    per_day = {d: Counts() for d in days}
    per_person = {p.user_id: Counts() for p in people}
    totals = Counts()
    if people:
        day = _local_day(conn).label("day")
        e = audit_events.c
        rows = conn.execute(
            select(e.actor_id, e.action, day, func.count().label("n"))
            .where(
                e.actor_id.in_(list(per_person)),
                e.action.in_(ACCESS_ACTIONS + REVEAL_ACTIONS),
                e.decision == Decision.ALLOW.value,
                e.occurred_at >= start,
            )
            .group_by(e.actor_id, e.action, day)
        )
        for actor_id, action, bucket, n in rows:
            counted = date.fromisoformat(str(bucket)[:10])
            kind = "reveal" if action in REVEAL_ACTIONS else "access"
            for counts in (per_day.get(counted), per_person[actor_id], totals):
                if counts is not None:
                    setattr(counts, kind, getattr(counts, kind) + int(n))
    append(
        conn,
        actor_event(
            ctx=ctx,
            actor=actor,
            action=Action.ACTIVITY_VIEW,
            reason="home_charts",
            details={"people": len(people), "days": DAYS},
        ),
    )
    return Volume(days=days, people=people, per_day=per_day, per_person=per_person, totals=totals)


# Refusals that are a normal step, not a warning sign: the password was right, the code follows.
_ROUTINE_REFUSALS = {(Action.AUTH_LOGIN.value, "mfa_required")}


@dataclass(frozen=True, slots=True)
class Denial:
    occurred_at: datetime
    actor_id: str | None
    action: str
    reason: str


@dataclass(frozen=True, slots=True)
class LockedAccount:
    username: str
    display_name: str
    locked_at: datetime


def recent_denials(
    conn: Connection, *, user_ids: list[str], now: datetime, limit: int = 5
) -> tuple[int, list[Denial]]:
    """Refusals of these people in the last ALERT_DAYS days: how many, and the newest few."""
    if not user_ids:
        return 0, []
    e = audit_events.c
    where = (
        e.actor_id.in_(user_ids),
        e.decision == Decision.DENY.value,
        e.occurred_at >= now - timedelta(days=ALERT_DAYS),
        *(~((e.action == action) & (e.reason == reason)) for action, reason in _ROUTINE_REFUSALS),
    )
    total = conn.execute(select(func.count()).where(*where)).scalar_one()
    rows = conn.execute(
        select(e.occurred_at, e.actor_id, e.action, e.reason)
        .where(*where)
        .order_by(e.id.desc())
        .limit(limit)
    )
    return int(total), [Denial(r.occurred_at, r.actor_id, r.action, r.reason) for r in rows]


def locked_accounts(conn: Connection, actor: Actor) -> list[LockedAccount]:
    """Accounts locked by failed logins, for whoever may unlock them (the security officer)."""
    if not actor.can(Permission.USER_UNLOCK):
        return []
    rows = conn.execute(
        select(users.c.username, users.c.display_name, users.c.locked_at)
        .where(users.c.locked_at.is_not(None), users.c.is_active.is_(True))
        .order_by(users.c.locked_at.desc())
    )
    return [LockedAccount(r.username, r.display_name, r.locked_at) for r in rows]
