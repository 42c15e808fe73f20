"""The main navigation: one list, each entry shown only to roles that may use it and only once
its page exists (a mounted route serves its path), so a new page module appears in the menu
as soon as it is mounted."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request
from starlette.routing import Match

from baomi.security.actor import Actor
from baomi.security.roles import Permission
from baomi.web.templating import N_


@dataclass(frozen=True, slots=True)
class NavItem:
    path: str
    label: str  # an English msgid; templates translate it
    allowed: Callable[[Actor], bool]


def _any(*permissions: Permission) -> Callable[[Actor], bool]:
    return lambda actor: any(actor.can(p) for p in permissions)


def _everyone(_actor: Actor) -> bool:
    return True


# C4.2.1: the administrator and the auditor see no customer pages; 三员分立 shows in the menu.
NAV = (
    NavItem("/", N_("Home"), _everyone),
    NavItem("/customers", N_("Customers"), _any(Permission.CUSTOMER_WORK)),
    NavItem("/access", N_("Access"), _any(Permission.CUSTOMER_WORK, Permission.GRANT_MANAGE)),
    # Issue 12 item 4: handlers and heads record and answer; the officer follows every one.
    NavItem(
        "/subject-requests",
        N_("Subject requests"),
        _any(Permission.CUSTOMER_WORK, Permission.GRANT_MANAGE),
    ),
    NavItem("/security", N_("Security"), _any(Permission.GRANT_MANAGE, Permission.KEY_MANAGE)),
    NavItem("/audit", N_("Audit"), _any(Permission.AUDIT_READ)),
    NavItem("/admin", N_("Administration"), _any(Permission.USER_MANAGE)),
    NavItem("/account", N_("My account"), _everyone),
)


def mounted(request: Request, path: str) -> bool:
    """Whether this app serves a GET at `path` (e.g. "/customers/{customer_id}": a template
    path matches its own route). Asked of the routes themselves, once per path."""
    known: dict[str, bool] | None = getattr(request.app.state, "served_paths", None)
    if known is None:
        known = request.app.state.served_paths = {}
    if path not in known:
        scope = {"type": "http", "path": path, "method": "GET", "root_path": "", "headers": []}
        known[path] = any(
            route.matches(scope)[0] is Match.FULL for route in request.app.router.routes
        )
    return known[path]


def items_for(request: Request, actor: Actor) -> list[NavItem]:
    """The entries this person may use, among the pages this app serves."""
    return [item for item in NAV if item.allowed(actor) and mounted(request, item.path)]


def current(request: Request) -> str:
    """The entry a path belongs to (the longest matching prefix), for aria-current."""
    path = request.url.path
    matches = [i.path for i in NAV if path == i.path or path.startswith(i.path.rstrip("/") + "/")]
    return max(matches, key=len) if matches else ""
