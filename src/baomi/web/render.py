"""Render a page with what every page needs: the viewer, the navigation, the CSRF token, the
watermark (C4.3.2), the idle-lock time (C4.2.4) and the company's level names (C2.2)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from baomi.config import Settings
from baomi.web import nav, templating
from baomi.web.labels import level_labeller, purpose_choices
from baomi.web.levels import levels_of, vault_of
from baomi.web.routing import here
from baomi.web.viewer import Viewer, page_locale


def idle_lock_seconds(settings: Settings) -> int:
    """The browser's idle lock, always shorter than the server's session idle time."""
    session_idle = getattr(settings, "session_idle_minutes", 15) * 60
    return max(1, min(settings.web_idle_lock_seconds, session_idle - 30))


def page(
    request: Request,
    viewer: Viewer | None,
    template: str,
    *,
    status: int = 200,
    watermark: bool = True,
    idle_lock: bool = True,
    csrf_token: str | None = None,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """Render `template` for a logged-in viewer (or a public page when viewer is None).

    The watermark (C4.3.2) and the idle lock (C4.2.4) are on for every logged-in page; only
    pages that can never show customer data (the lock screen itself) turn them off.
    """
    locale = viewer.locale if viewer else page_locale(request)
    settings: Settings = request.app.state.settings
    values: dict[str, Any] = {
        "request": request,
        "viewer": viewer,
        "nav": nav.items_for(request, viewer.actor) if viewer else [],
        "nav_current": nav.current(request),
        "csrf_token": viewer.csrf_token if viewer else (csrf_token or ""),
        "watermark": watermark and viewer is not None,
        "idle_lock_seconds": idle_lock_seconds(settings) if viewer and idle_lock else 0,
        "here": here(request),
        # The app's own level rules: each app may have others (a template global could not).
        "level_name": level_labeller(levels_of(request), locale),
        # The app's processing purposes (C4.1.2), (code, label) in this locale, for any form.
        "processing_purposes": purpose_choices(vault_of(request).purposes, locale),
        **context,
    }
    return templating.html(locale, template, values, status=status, headers=headers)
