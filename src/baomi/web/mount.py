"""Plug the web UI into the app: its page routers, its static files, its error pages."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from baomi.web import errors
from baomi.web.pages import (
    access,
    account,
    account_changes,
    activate,
    admin,
    admin_departments,
    audit,
    customers,
    home,
    lock,
    login,
    security,
    subject_requests,
)

STATIC_DIR = Path(__file__).parent / "static"
STATIC_PREFIX = "/static/web"
ROUTERS = (
    login.router,
    activate.router,
    lock.router,
    home.router,
    account.router,
    # Access, audit, security-officer and administrator pages.
    access.router,
    audit.router,
    security.router,
    account_changes.router,
    admin.router,
    admin_departments.router,
    # Customer pages, and the data-subject requests about customers (issue 12 item 4).
    *customers.ROUTERS,
    subject_requests.router,
)


def install(app: FastAPI) -> None:
    """Mount before the app's own /static mount, which would otherwise shadow /static/web."""
    for router in ROUTERS:
        app.include_router(router)
    app.mount(STATIC_PREFIX, StaticFiles(directory=STATIC_DIR), name="web-static")
    errors.install(app)
