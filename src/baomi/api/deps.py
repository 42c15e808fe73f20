"""Request dependencies: the unit of work, the request context, the vault and the actor.

Every router is mounted behind `current_actor`; login is the one marked public route. The actor
comes from a session (auth/sessions.py): the API's bearer token, or the browser's cookie with
its CSRF checks (auth/browser.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import partial
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from baomi import clock
from baomi.audit.context import RequestContext
from baomi.audit.service import actor_event
from baomi.audit.tags import Action
from baomi.auth import browser, sessions
from baomi.auth.sessions import Kind, Lifetimes
from baomi.customers.vault import Vault
from baomi.errors import Forbidden, NotAuthenticated
from baomi.security.actor import Actor
from baomi.security.roles import Permission
from baomi.uow import unit_of_work
from baomi.users.service import load_actor

bearer_scheme = HTTPBearer(auto_error=False)


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_vault(request: Request) -> Vault:
    vault: Vault = request.app.state.vault
    return vault


def get_context(request: Request) -> RequestContext:
    return RequestContext(
        request_id=getattr(request.state, "request_id", None),
        client_addr=request.client.host if request.client else None,
    )


def _connection(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Connection]:
    # scope="function" below: the transaction commits before the response is sent.
    with unit_of_work(engine) as conn:
        yield conn


get_conn = Depends(_connection, scope="function")


def current_actor(
    request: Request,
    conn: Annotated[Connection, get_conn],
    ctx: Annotated[RequestContext, Depends(get_context)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    csrf_token: Annotated[str | None, Depends(browser.presented_csrf_token)],
) -> Actor:
    """Resolve the session (bearer token, else the browser cookie) to an active user, or 401.

    401 `session_expired` when the session timed out (idle, C4.2.4, or absolute), 401
    `invalid_token` when it is unknown or ended; a cookie session's unsafe request without a
    valid CSRF token, or from another origin, is 403 `csrf_failed`.
    """
    if credentials is not None:
        secret, kind = credentials.credentials, Kind.API
    elif (cookie := browser.session_secret_from(request)) is not None:
        secret, kind = cookie, Kind.BROWSER
    else:
        raise NotAuthenticated("log in and send the token as 'Authorization: Bearer …'")
    lifetimes = Lifetimes.from_settings(request.app.state.settings)
    now = clock.utcnow()
    found = sessions.look_up(conn, secret=secret, kind=kind, lifetimes=lifetimes, now=now)
    if found.timed_out:
        expired = NotAuthenticated("the session has expired: log in again", code="session_expired")
        if found.session is not None and found.status is not sessions.Status.ENDED:
            # Ended after the rollback of this refused request, so that it stays ended.
            expired.with_effect(partial(_end_timed_out, ctx=ctx, found=found))
        raise expired
    session = found.session if found.status is sessions.Status.LIVE else None
    actor = load_actor(conn, session.user_id) if session is not None else None
    if session is None or actor is None:
        raise NotAuthenticated("the token is unknown, expired or revoked", code="invalid_token")
    actor = replace(actor, session_id=session.id, mfa_verified_at=session.mfa_verified_at)
    if kind is Kind.BROWSER:
        _check_csrf(request, ctx, actor, secret, csrf_token)
        request.state.csrf_token = browser.csrf_token_for(secret)
    request.state.session_kind = kind
    sessions.touch(conn, session, now)
    return actor


def _end_timed_out(conn: Connection, *, ctx: RequestContext, found: sessions.Lookup) -> None:
    if found.session is not None:
        reason = sessions.EndReason(found.status.value)
        sessions.end(conn, ctx=ctx, session_id=found.session.id, reason=reason)


def _check_csrf(
    request: Request, ctx: RequestContext, actor: Actor, secret: str, presented: str | None
) -> None:
    """Refuse a cookie session's unsafe request without this session's token (ASVS V3.5.1)."""
    problem = browser.csrf_problem(request, secret, presented)
    if problem is None:
        return
    refusal = actor_event(
        ctx=ctx,
        actor=actor,
        action=Action.AUTH_CSRF,
        allowed=False,
        reason=problem,
        object_id=actor.session_id,
        details={"method": request.method},
    )
    raise Forbidden(
        "this request needs the page's CSRF token and must come from this site",
        code="csrf_failed",
    ).with_audit(refusal)


def require_permission(permission: Permission) -> Callable[..., Actor]:
    """Return a dependency that admits only actors whose roles carry `permission`."""

    def _check(actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
        if not actor.can(permission):
            raise Forbidden(f"your role lacks the permission {permission.value}")
        return actor

    return _check


Conn = Annotated[Connection, get_conn]
Ctx = Annotated[RequestContext, Depends(get_context)]
CurrentActor = Annotated[Actor, Depends(current_actor)]
VaultDep = Annotated[Vault, Depends(get_vault)]
EngineDep = Annotated[Engine, Depends(get_engine)]
