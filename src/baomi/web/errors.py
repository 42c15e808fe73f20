"""Errors on pages become pages: 401 → the login page (or session-expired), others → an error
page in the viewer's language. API routes keep their problem+json (baomi.api.problem).

The handlers wrap the API's: a request is a page's when its route is a PageRoute and it does not
ask for JSON (the lock screen's script does, and reads the problem's `code`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from baomi import faults
from baomi.api import allow
from baomi.api.problem import fault_of
from baomi.errors import BaomiError
from baomi.web import templating
from baomi.web.routing import (
    LOGIN_PATH,
    PageRedirect,
    here,
    is_page_request,
    redirect,
    with_next,
)
from baomi.web.templating import N_
from baomi.web.viewer import page_locale

SESSION_EXPIRED_PATH = "/session-expired"
Handler = Callable[[Request, Any], Awaitable[Response]]

MESSAGES = {
    "forbidden": N_("Your role does not give access to this page."),
    "role_without_customer_access": N_("Your role does not give access to customer data."),
    "csrf_failed": N_(
        "This form is out of date or did not come from this site. Reload the page and try again."
    ),
    "not_found": N_("There is no such page."),
    "validation_failed": N_("The form was incomplete. Go back and check it."),
    "throttled": N_("Too many attempts. Wait a moment and try again."),
    "internal_error": N_("Something went wrong on the server. Nothing was changed."),
    # Issue 18: faults beneath the request (baomi.faults), each with its own code.
    "database_unavailable": N_(
        "The database cannot be reached. Nothing was changed. Try again in a minute."
    ),
    "database_read_only": N_(
        "The database accepts no changes at the moment. Nothing was changed. "
        "The system administrator has been told."
    ),
    "key_unavailable": N_(
        "A key the server needs cannot be loaded. Nothing was changed. "
        "The system administrator has been told."
    ),
    # Issue 17: stored data that failed its integrity check (customers/integrity.py).
    "integrity_failure": N_(
        "The stored data of this customer failed its integrity check: it may have been "
        "tampered with or damaged. Nothing of it is shown. The security officer has been told."
    ),
}
TITLES = {
    400: N_("Bad request"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    429: N_("Too many attempts"),
    500: N_("Server error"),
    503: N_("Service unavailable"),
}


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _is_page(request: Request) -> bool:
    return is_page_request(request) and not wants_json(request)


def _looks_like_page(request: Request) -> bool:
    """A browser navigation to an unknown path outside the API and the static files."""
    path = request.url.path
    return (
        "text/html" in request.headers.get("accept", "")
        and not path.startswith(("/api/", "/static/"))
        and not wants_json(request)
    )


def error_page(request: Request, *, status: int, code: str) -> Response:
    locale = getattr(request.state, "locale", None) or page_locale(request)
    message = MESSAGES.get(code, MESSAGES["internal_error"] if status >= 500 else "")
    context = {
        "status": status,
        "code": code,
        "title": TITLES.get(status, TITLES[400] if status < 500 else TITLES[500]),
        "message": message,
        "viewer": None,
        "nav": [],
        "nav_current": "",
        "csrf_token": "",
        "watermark": False,
        "idle_lock_seconds": 0,
        "here": here(request),
    }
    return templating.html(locale, "error.html", context, status=status)


def login_redirect(request: Request, exc: BaomiError) -> Response:
    """Where a page request without a live session goes; GETs come back afterwards."""
    back = here(request) if request.method == "GET" else None
    target = SESSION_EXPIRED_PATH if exc.code == "session_expired" else LOGIN_PATH
    return redirect(request, with_next(target, back))


def install(app: FastAPI) -> None:
    """Wrap the API's exception handlers so that page routes answer with pages."""
    api_domain: Handler = app.exception_handlers[BaomiError]  # type: ignore[assignment]
    api_invalid: Handler = app.exception_handlers[RequestValidationError]  # type: ignore[assignment]
    api_http: Handler = app.exception_handlers[StarletteHTTPException]  # type: ignore[assignment]

    async def domain(request: Request, exc: BaomiError) -> Response:
        if not _is_page(request):
            return await api_domain(request, exc)
        if exc.status == 401:
            return login_redirect(request, exc)
        return error_page(request, status=exc.status, code=exc.code)

    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        if not _is_page(request):
            return await api_invalid(request, exc)
        return error_page(request, status=400, code="validation_failed")

    async def http(request: Request, exc: StarletteHTTPException) -> Response:
        if not (_is_page(request) or _looks_like_page(request)):
            return await api_http(request, exc)
        code = "not_found" if exc.status_code == 404 else f"http_{exc.status_code}"
        page = error_page(request, status=exc.status_code, code=code)
        page.headers.update(allow.headers_of(request, exc))  # a page's 405 names its methods too
        return page

    async def page_redirect(request: Request, exc: PageRedirect) -> Response:
        return redirect(request, exc.location)

    def fault_handler(api_fault: Handler) -> Handler:
        async def fault(request: Request, exc: Exception) -> Response:
            if not _is_page(request):
                return await api_fault(request, exc)
            translated = fault_of(request, exc)
            if translated is None:
                raise exc  # a bug: the catch-all's 500
            page = error_page(request, status=translated.status, code=translated.code)
            page.headers.update(translated.headers)
            return page

        return fault

    for translated in faults.TRANSLATED:
        api_fault: Handler = app.exception_handlers[translated]  # type: ignore[assignment]
        app.add_exception_handler(translated, fault_handler(api_fault))

    app.add_exception_handler(BaomiError, domain)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, invalid)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, http)  # type: ignore[arg-type]
    app.add_exception_handler(PageRedirect, page_redirect)  # type: ignore[arg-type]
