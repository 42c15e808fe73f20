"""/activate: the person sets their own password with the administrator's one-time code.

A public page, like the login (三员分立: the administrator never knows a working password). Its
form carries the pre-login CSRF token and must come from this site. After it, the person signs
in; a role that must use MFA enrols first (C4.2.4).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import Response

from baomi.api.deps import Conn, Ctx
from baomi.users import activation
from baomi.web.forms import attempt
from baomi.web.prelogin import prelogin_ok, prelogin_token, with_prelogin_cookie
from baomi.web.render import page
from baomi.web.routing import page_router, redirect
from baomi.web.templating import N_

router = page_router()

ERRORS = {
    "activation_invalid": N_(
        "This code is wrong, already used or expired. Ask the administrator for a new one."
    ),
    "differ": N_("The two passwords differ."),
    "csrf_failed": N_("The form is out of date. Please try again."),
    "missing": N_("Fill in every field."),
}


def _activate_page(
    request: Request,
    *,
    username: str = "",
    error: str | None = None,
    password_problem: str | None = None,
    status: int = 200,
) -> Response:
    token = prelogin_token(request)
    response = page(
        request,
        None,
        "activate.html",
        status=status,
        csrf_token=token,
        next="/activate",
        username=username,
        error=ERRORS.get(error or "", ""),
        password_problem=password_problem,
    )
    return with_prelogin_cookie(response, request, token)


@router.get("/activate")
def get_activate(request: Request, username: str = "") -> Response:
    return _activate_page(request, username=username[:64])


@router.post("/activate")
def post_activate(
    request: Request,
    conn: Conn,
    ctx: Ctx,
    username: Annotated[str, Form(max_length=64)] = "",
    code: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    repeat: Annotated[str, Form(max_length=256)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """Set the password; a weak one is said in the password rules' own words."""
    username = username.strip()
    if not prelogin_ok(request, csrf_token):
        return _activate_page(request, username=username, error="csrf_failed", status=403)
    if not (username and code.strip() and password):
        return _activate_page(request, username=username, error="missing", status=422)
    if password != repeat:
        return _activate_page(request, username=username, error="differ", status=422)
    outcome = attempt(
        conn,
        lambda: activation.activate(conn, ctx=ctx, username=username, code=code, password=password),
    )
    if outcome.error is None:
        return redirect(request, "/login?activated=1")
    if outcome.error.code == "validation_failed":
        problem = "; ".join(outcome.field_errors().values())
        return _activate_page(request, username=username, password_problem=problem, status=422)
    return _activate_page(
        request, username=username, error=outcome.error.code, status=outcome.error.status
    )
