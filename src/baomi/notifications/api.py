"""Inbox routes: my notifications only (behind login), in my language."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Query, Request

from baomi import clock
from baomi.api.deps import Conn, Ctx, CurrentActor
from baomi.api.unit import api_router
from baomi.notifications import outbox, service
from baomi.notifications.messages import (
    DEFAULT_LOCALE,
    Locale,
    from_accept_language,
    normalise_locale,
)
from baomi.notifications.schemas import MarkedOut, NotificationOut, NotificationPage, UnreadOut
from baomi.users.service import locale_of

router = api_router(prefix="/api/v1/notifications", tags=["notifications"])
MAX_PAGE = 10_000
MAX_PAGE_SIZE = 100

LocaleQuery = Annotated[
    str | None, Query(max_length=16, description="zh_CN (default) or en; else the preference")
]
AcceptLanguage = Annotated[str | None, Header()]


def mail_on(request: Request) -> bool:
    """Whether this application's notices go out by mail too (BAOMI_SMTP_HOST in its settings).

    For the routes and pages that file or decide what notifies someone: a plain function of the
    request rather than a dependency, so an API route stays one hop (api/unit.py).
    """
    return outbox.mail_enabled(request.app.state.settings)


def _locale(
    conn: Conn, actor: CurrentActor, asked: str | None, accept_language: str | None
) -> Locale:
    """The language asked for, else the person's preference, else the browser's, else zh_CN."""
    return (
        normalise_locale(asked)
        or normalise_locale(locale_of(conn, actor.user_id))
        or from_accept_language(accept_language)
        or DEFAULT_LOCALE
    )


@router.get("", response_model=NotificationPage)
def get_notifications(
    conn: Conn,
    actor: CurrentActor,
    unread_only: bool = False,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
    locale: LocaleQuery = None,
    accept_language: AcceptLanguage = None,
) -> NotificationPage:
    """My notifications, newest first (`unread_only` for the unread ones)."""
    return service.list_mine(
        conn,
        actor=actor,
        locale=_locale(conn, actor, locale, accept_language),
        unread_only=unread_only,
        page=page,
        page_size=page_size,
    )


@router.get("/unread-count", response_model=UnreadOut)
def get_unread_count(conn: Conn, actor: CurrentActor) -> UnreadOut:
    """How many of my notifications are unread (for the badge)."""
    return UnreadOut(unread=service.unread_count(conn, actor=actor))


@router.post("/read-all", response_model=MarkedOut)
def post_read_all(conn: Conn, ctx: Ctx, actor: CurrentActor) -> MarkedOut:
    """Mark all my notifications read."""
    return MarkedOut(marked=service.mark_all_read(conn, actor=actor, ctx=ctx, now=clock.utcnow()))


@router.post("/{notification_id}/read", response_model=NotificationOut)
def post_read(
    notification_id: str,
    conn: Conn,
    ctx: Ctx,
    actor: CurrentActor,
    locale: LocaleQuery = None,
    accept_language: AcceptLanguage = None,
) -> NotificationOut:
    """Mark one of my notifications read; anyone else's is answered 404."""
    return service.mark_read(
        conn,
        actor=actor,
        ctx=ctx,
        notification_id=notification_id,
        locale=_locale(conn, actor, locale, accept_language),
        now=clock.utcnow(),
    )
