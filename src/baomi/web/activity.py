"""The home page's read model of the audit log: volumes and alerts, counts only (C3.2, C1.3).

A department head sees how much the people of the departments they head opened and revealed,
per day and per person; the security officer sees it for everyone who works with customers.
Events carry ids, tags and codes and never customer values, so nothing here can show customer
data. Looking at the volumes is itself audited (`activity:view`). The counting is the audit
room's (audit/oversight.py), the locked accounts the users room's: no table is read here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.engine import Connection

from baomi.audit import oversight
from baomi.audit.context import RequestContext
from baomi.audit.service import actor_event, append
from baomi.audit.tags import Action
from baomi.security.actor import Actor
from baomi.security.policy import heads
from baomi.security.roles import Permission, Role
from baomi.users import queries as user_queries
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
        elif user.department_id is None or not heads(actor, user.department_id):
            continue
        people.append(Person(user.id, user.username, user.display_name))
    return sorted(people, key=lambda p: p.username)


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
        rows = oversight.daily_counts(
            conn,
            actor_ids=list(per_person),
            actions=ACCESS_ACTIONS + REVEAL_ACTIONS,
            since=start,
            zone=DISPLAY_TIMEZONE,
        )
        for actor_id, action, counted, n in rows:
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
    total, rows = oversight.recent_denials(
        conn,
        user_ids=user_ids,
        since=now - timedelta(days=ALERT_DAYS),
        limit=limit,
        routine=_ROUTINE_REFUSALS,
    )
    return total, [Denial(*row) for row in rows]


def locked_accounts(conn: Connection, actor: Actor) -> list[LockedAccount]:
    """Accounts locked by failed logins, for whoever may unlock them (the security officer)."""
    if not actor.can(Permission.USER_UNLOCK):
        return []
    return [LockedAccount(*row) for row in user_queries.locked_accounts(conn)]
