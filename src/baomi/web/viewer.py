"""Who is looking at a page: the logged-in person with their language and CSRF token.

`PageViewer` is the dependency of every page behind login. It stands on `CurrentActor`
(baomi.api.deps: the session cookie, idle expiry, CSRF on unsafe requests); a missing or ended
session becomes a redirect to /login and an expired one to /session-expired (see errors.py).
On top it sends a person whose screen is locked to /lock (C4.2.4), and a person whose role
needs MFA but who has not enrolled to /account/mfa (C4.2.4).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.engine import Connection

from baomi import clock
from baomi.api.deps import Conn, CurrentActor
from baomi.auth import mfa_gate, screen_lock
from baomi.security.actor import Actor
from baomi.security.roles import Permission
from baomi.users.service import locale_of
from baomi.web import i18n
from baomi.web.routing import PageRedirect, here, with_next

MFA_ENROL_PATH = "/account/mfa"
LOCK_PATH = "/lock"


@dataclass(frozen=True, slots=True)
class Viewer:
    """The person behind a page request, as templates need them."""

    actor: Actor
    locale: str
    csrf_token: str
    # When the page was rendered: the watermark's time (C4.3.2).
    now: datetime

    @property
    def display_name(self) -> str:
        return self.actor.display_name

    @property
    def username(self) -> str:
        return self.actor.username

    def can(self, permission: Permission | str) -> bool:
        return self.actor.can(Permission(permission))


def page_locale(request: Request, user_locale: str | None = None) -> str:
    """The language of a page: the user's choice, else the language cookie, else the browser."""
    return i18n.choose(
        user=user_locale,
        cookie=request.cookies.get(i18n.LANGUAGE_COOKIE),
        accept_language=request.headers.get("accept-language"),
    )


def _viewer(request: Request, conn: Connection, actor: Actor) -> Viewer:
    locale = page_locale(request, locale_of(conn, actor.user_id))
    request.state.locale = locale
    return Viewer(
        actor=actor,
        locale=locale,
        csrf_token=getattr(request.state, "csrf_token", ""),
        now=clock.utcnow(),
    )


def _needs_enrolment(conn: Connection, actor: Actor) -> bool:
    return mfa_gate.must_enrol(actor)


def page_viewer(request: Request, conn: Conn, actor: CurrentActor) -> Viewer:
    """Every page behind login: unlocked screen, MFA enrolled where the role needs it."""
    viewer = _viewer(request, conn, actor)
    if actor.session_id is not None and screen_lock.is_locked(conn, actor.session_id):
        raise PageRedirect(with_next(LOCK_PATH, here(request)))
    if _needs_enrolment(conn, actor):
        raise PageRedirect(MFA_ENROL_PATH)
    return viewer


def enrolling_viewer(request: Request, conn: Conn, actor: CurrentActor) -> Viewer:
    """The MFA enrolment pages: behind login and the screen lock, open before enrolment."""
    viewer = _viewer(request, conn, actor)
    if actor.session_id is not None and screen_lock.is_locked(conn, actor.session_id):
        raise PageRedirect(with_next(LOCK_PATH, MFA_ENROL_PATH))
    return viewer


def locked_viewer(request: Request, conn: Conn, actor: CurrentActor) -> Viewer:
    """The lock screen and logout: any live session, locked or not."""
    return _viewer(request, conn, actor)


PageViewer = Annotated[Viewer, Depends(page_viewer)]
EnrollingViewer = Annotated[Viewer, Depends(enrolling_viewer)]
LockedViewer = Annotated[Viewer, Depends(locked_viewer)]
