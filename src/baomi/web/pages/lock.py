"""The screen lock (C4.2.4): POST /lock from the idle timer, GET /lock while locked,
POST /unlock with the password (from the lock dialog's script, or as a plain form)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import Response

from baomi.api import problem
from baomi.api.deps import Conn, Ctx
from baomi.auth import screen_lock
from baomi.auth.lockout import Policy
from baomi.web.errors import wants_json
from baomi.web.forms import attempt
from baomi.web.render import page
from baomi.web.routing import page_router, redirect, safe_next
from baomi.web.templating import N_
from baomi.web.viewer import LockedViewer

router = page_router()

UNLOCK_ERRORS = {
    "invalid_credentials": N_("That password is not right."),
    "throttled": N_("Too many failed attempts. Try again in %(seconds)s seconds."),
}


@router.post("/lock", status_code=204)
def post_lock(conn: Conn, ctx: Ctx, viewer: LockedViewer) -> Response:
    """The browser saw no input for the idle time: lock this session's screen."""
    screen_lock.lock(conn, actor=viewer.actor, ctx=ctx)
    return Response(status_code=204)


@router.get("/lock")
def get_lock(
    request: Request,
    conn: Conn,
    viewer: LockedViewer,
    next: str | None = None,
) -> Response:
    """The lock screen: no data, only the password prompt (and logout)."""
    assert viewer.actor.session_id is not None
    if not screen_lock.is_locked(conn, viewer.actor.session_id):
        return redirect(request, safe_next(next))
    return page(
        request,
        viewer,
        "lock.html",
        watermark=False,
        idle_lock=False,
        next=safe_next(next),
        error="",
        error_args={},
    )


@router.post("/unlock")
def post_unlock(
    request: Request,
    conn: Conn,
    ctx: Ctx,
    viewer: LockedViewer,
    password: Annotated[str, Form(max_length=256)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the password of the session's own user; failures count as failed logins."""
    policy = Policy.from_settings(request.app.state.settings)
    outcome = attempt(
        conn,
        lambda: screen_lock.unlock(
            conn, actor=viewer.actor, ctx=ctx, policy=policy, password=password
        ),
    )
    if wants_json(request):
        if outcome.error is None:
            return Response(status_code=204)
        return problem.problem(
            request,
            status=outcome.error.status,
            code=outcome.error.code,
            title=outcome.error.title,
            detail=outcome.error.detail,
            headers=outcome.error.headers,
        )
    if outcome.error is None:
        return redirect(request, safe_next(next))
    code = outcome.error.code if outcome.error.code in UNLOCK_ERRORS else "invalid_credentials"
    return page(
        request,
        viewer,
        "lock.html",
        watermark=False,
        idle_lock=False,
        status=outcome.error.status,
        next=safe_next(next),
        error=UNLOCK_ERRORS[code],
        error_args={"seconds": outcome.error.headers.get("Retry-After", "60")},
    )
