"""Page routes: a route class that marks them (for HTML errors), redirects that htmx follows,
and the one check of a `next` parameter (open-redirect defence)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute

LOGIN_PATH = "/login"
HOME_PATH = "/"
# After logging in, these would only loop back or end the new session.
_NOT_A_DESTINATION = ("/login", "/logout", "/session-expired", "/lock", "/unlock")


class PageRoute(APIRoute):
    """An HTML page: errors and 401s on it become pages and redirects, not problem+json."""


def page_router(**kwargs: Any) -> APIRouter:
    """An APIRouter for pages: kept out of the OpenAPI document."""
    return APIRouter(route_class=PageRoute, include_in_schema=False, **kwargs)


def is_page_request(request: Request) -> bool:
    return isinstance(request.scope.get("route"), PageRoute)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


class PageRedirect(Exception):
    """Raised by page dependencies: send the browser elsewhere (login, lock, MFA enrolment)."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


def redirect(request: Request, location: str) -> Response:
    """303 to `location`; for an htmx request, a header that makes htmx load it as a page."""
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": location})
    return Response(status_code=303, headers={"Location": location})


def safe_next(value: str | None) -> str:
    """A same-site path to return to after login, or "/": never another host or scheme."""
    if not value or len(value) > 2000 or not value.startswith("/"):
        return HOME_PATH
    if value.startswith(("//", "/\\")) or "\\" in value:
        return HOME_PATH
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return HOME_PATH
    path = value.split("?", 1)[0].split("#", 1)[0]
    if path in _NOT_A_DESTINATION:
        return HOME_PATH
    return value


def here(request: Request) -> str:
    """This request's path and query, as a `next` value."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def with_next(path: str, next_path: str | None) -> str:
    """`path?next=…` when there is somewhere other than home to return to."""
    target = safe_next(next_path)
    if target == HOME_PATH:
        return path
    return f"{path}?next={quote(target, safe='/')}"
