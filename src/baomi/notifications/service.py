"""Putting notifications in inboxes (and the outbox), and each person reading their own.

`notify` runs in the caller's transaction, so a notification (and its mail) exists only if the
work it reports committed. The inbox is strictly personal: a notification that is not yours is
answered exactly like one that does not exist (404), and the refusal is audited.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from baomi.audit.context import RequestContext
from baomi.audit.service import actor_event, append
from baomi.audit.tags import Action
from baomi.errors import NotFound
from baomi.ids import is_id, new_id
from baomi.notifications import outbox
from baomi.notifications.kinds import Kind, Param, checked_params
from baomi.notifications.messages import Locale, render
from baomi.notifications.models import notifications
from baomi.notifications.schemas import NotificationOut, NotificationPage
from baomi.security.actor import Actor
from baomi.users.service import notification_addresses


def notify(
    conn: Connection,
    *,
    user_ids: Iterable[str],
    kind: Kind,
    params: Mapping[str, Param],
    link: str | None,
    now: datetime,
    mail: bool,
) -> list[str]:
    """Notify each active user once; queue a mail for those with an address when `mail` is on
    (BAOMI_SMTP_HOST set: the caller's edge says so, from its settings)."""
    stored = checked_params(kind, params)
    addresses = notification_addresses(conn, set(user_ids))
    ids = {user_id: new_id() for user_id in sorted(addresses)}
    if not ids:
        return []
    conn.execute(
        insert(notifications),
        [
            {
                "id": notification_id,
                "user_id": user_id,
                "kind": kind.value,
                "params": stored,
                "link": link,
                "created_at": now,
                "read_at": None,
            }
            for user_id, notification_id in ids.items()
        ],
    )
    if mail:
        mails = [(ids[u], address) for u, address in addresses.items() if address]
        outbox.enqueue(conn, mails, now=now)
    return list(ids.values())


def told_since(conn: Connection, *, kind: Kind, customer_id: str, since: datetime) -> bool:
    """Whether anyone got a `kind` notification about this customer at or after `since`."""
    return told_about_since(conn, kind=kind, param="customer_id", value=customer_id, since=since)


def told_about_since(
    conn: Connection, *, kind: Kind, param: str, value: str, since: datetime
) -> bool:
    """Whether anyone got a `kind` notification whose `param` is `value` at or after `since`."""
    n = notifications.c
    found = conn.execute(
        select(n.id)
        .where(
            n.kind == kind.value,
            n.created_at >= since,
            n.params[param].as_string() == value,
        )
        .limit(1)
    ).first()
    return found is not None


def _out(row: Any, locale: Locale) -> NotificationOut:
    text = render(row.kind, row.params, locale)
    return NotificationOut(
        id=row.id,
        kind=row.kind,
        params=row.params,
        title=text.title,
        body=text.body,
        link=row.link,
        created_at=row.created_at,
        read_at=row.read_at,
    )


def unread_count(conn: Connection, *, actor: Actor) -> int:
    """How many of my notifications I have not read yet."""
    n = notifications.c
    query = select(func.count()).where(n.user_id == actor.user_id, n.read_at.is_(None))
    return int(conn.execute(query).scalar_one())


def list_mine(
    conn: Connection,
    *,
    actor: Actor,
    locale: Locale,
    unread_only: bool = False,
    page: int = 1,
    page_size: int = 20,
) -> NotificationPage:
    """My notifications, newest first, rendered in my language."""
    n = notifications.c
    where = [n.user_id == actor.user_id]
    if unread_only:
        where.append(n.read_at.is_(None))
    total = int(conn.execute(select(func.count()).where(*where)).scalar_one())
    rows = conn.execute(
        select(notifications)
        .where(*where)
        .order_by(n.created_at.desc(), n.id.desc())
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    return NotificationPage(
        items=[_out(r, locale) for r in rows],
        total=total,
        unread=unread_count(conn, actor=actor),
        page=page,
        page_size=page_size,
    )


def mark_read(
    conn: Connection,
    *,
    actor: Actor,
    ctx: RequestContext,
    notification_id: str,
    locale: Locale,
    now: datetime,
) -> NotificationOut:
    """Mark one of my notifications read (again: keeps the first time); 404 if it is not mine."""
    n = notifications.c
    row = None
    if is_id(notification_id):
        row = conn.execute(
            select(notifications).where(n.id == notification_id, n.user_id == actor.user_id)
        ).first()
    if row is None:
        refusal = actor_event(
            ctx=ctx,
            actor=actor,
            action=Action.NOTIFICATION_READ,
            allowed=False,
            reason="not_found",
            object_id=notification_id if is_id(notification_id) else None,
        )
        raise NotFound("no such notification").with_audit(refusal)
    if row.read_at is None:
        conn.execute(update(notifications).where(n.id == row.id).values(read_at=now))
    append(
        conn, actor_event(ctx=ctx, actor=actor, action=Action.NOTIFICATION_READ, object_id=row.id)
    )
    fresh = conn.execute(select(notifications).where(n.id == row.id)).one()
    return _out(fresh, locale)


def mark_all_read(conn: Connection, *, actor: Actor, ctx: RequestContext, now: datetime) -> int:
    """Mark all my unread notifications read; return how many were unread."""
    n = notifications.c
    result = conn.execute(
        update(notifications)
        .where(n.user_id == actor.user_id, n.read_at.is_(None))
        .values(read_at=now)
    )
    marked = int(result.rowcount)
    append(
        conn,
        actor_event(
            ctx=ctx, actor=actor, action=Action.NOTIFICATION_READ, details={"marked": marked}
        ),
    )
    return marked
