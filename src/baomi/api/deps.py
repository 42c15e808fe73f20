"""Request dependencies: the unit of work, the request context, the vault and the actor.

Every router is mounted behind `current_actor`; login is the one marked public route. The actor
comes from a session (auth/sessions.py): the API's bearer token, or the browser's cookie with
its CSRF checks (auth/browser.py).
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from functools import partial
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool

from baomi import clock
from baomi.audit.context import RequestContext
from baomi.audit.service import actor_event, event
from baomi.audit.tags import Action, Decision
from baomi.audit.throttle import RefusalSampler
from baomi.auth import browser, mfa_gate, sessions
from baomi.auth.sessions import Kind, Lifetimes
from baomi.customers.vault import Vault
from baomi.db_idle import lend, lend_kept
from baomi.errors import Forbidden, NotAuthenticated
from baomi.security.actor import Actor
from baomi.security.roles import Permission
from baomi.uow import end_unit
from baomi.users.actors import load_actor

bearer_scheme = HTTPBearer(auto_error=False)


# Dependencies that only read the request are `async`: FastAPI runs a plain `def` dependency in
# the thread pool, a hop that costs more than the function (benchmarks/bench_http.py).


async def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


async def get_vault(request: Request) -> Vault:
    vault: Vault = request.app.state.vault
    return vault


async def get_context(request: Request) -> RequestContext:
    return context_of(request)


def context_of(request: Request) -> RequestContext:
    """Who asked, for the audit log: the request id (api/envelope.py) and the client address."""
    # Read from the scope as `request.state` and `request.client` would, without building
    # either (every request's unit of work asks, api/unit.py).
    scope = request.scope
    state = scope.get("state")
    client = scope.get("client")
    return RequestContext(
        request_id=state.get("request_id") if state else None,
        client_addr=client[0] if client else None,
    )


async def _connection(request: Request) -> AsyncIterator[Connection]:
    """The request's unit of work: one transaction, committed before the response is sent.

    The transaction begins with the first statement, in the thread that runs it, rather than
    here: on SQLite that BEGIN takes the write lock every other request queues for
    (db_writer), and a request still waiting for its first thread should not hold it. A kept
    connection is taken here without a thread (no I/O: db_idle); opening one, committing and
    rolling back run in the thread pool.
    """
    engine: Engine = request.app.state.engine
    lent = lend_kept(engine)
    if lent is None:
        lent = await run_in_threadpool(lend, engine)
    try:
        yield lent.conn
    except BaseException as error:
        await run_in_threadpool(end_unit, engine, lent, error)
        raise
    if lent.conn.in_transaction() or not lent.keep():
        await run_in_threadpool(end_unit, engine, lent, None)


# Requests with a unit of work open at once, per event loop; the others wait without holding a
# thread or a pooled connection. Fewer than the engine's pool holds, so the audit sealer and the
# jobs runner always find a connection (16 requests once starved them of one for seconds,
# benchmarks/bench_http.py); on SQLite the units of work run one at a time anyway (db_writer).
UNITS_OF_WORK = 8
get_conn = Depends(_connection, scope="function", max_concurrency=UNITS_OF_WORK)


def current_actor(
    request: Request,
    conn: Annotated[Connection, get_conn],
    ctx: Annotated[RequestContext, Depends(get_context)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    csrf_token: Annotated[str | None, Depends(browser.presented_csrf_token)],
) -> Actor:
    """The request's actor (see `resolve_actor`), as a dependency of pages and routes."""
    return resolve_actor(request, conn, ctx, credentials, csrf_token)


def resolve_actor(
    request: Request,
    conn: Connection,
    ctx: RequestContext,
    credentials: HTTPAuthorizationCredentials | None,
    csrf_token: str | None,
) -> Actor:
    """Resolve the session (bearer token, else the browser cookie) to an active user, or 401.

    401 `session_expired` when the session timed out (idle, C4.2.4, or absolute), 401
    `invalid_token` when it is unknown or ended; a cookie session's unsafe request without a
    valid CSRF token, or from another origin, is 403 `csrf_failed`. Used by `current_actor`
    and by the API's one-hop routes (api/unit.py), so both check exactly the same things.
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
        refused = NotAuthenticated("the token is unknown, expired or revoked", code="invalid_token")
        raise _on_record(request, ctx, refused, kind)
    actor = replace(actor, session_id=session.id, mfa_verified_at=session.mfa_verified_at)
    mfa_gate.check(request, ctx, actor)  # C4.2.4: no API use before a required second factor
    if kind is Kind.BROWSER:
        _check_csrf(request, ctx, actor, secret, csrf_token)
        request.state.csrf_token = browser.csrf_token_for(secret)
    request.state.session_kind = kind
    sessions.touch(conn, session, now)
    return actor


def _on_record(
    request: Request, ctx: RequestContext, refused: NotAuthenticated, kind: Kind
) -> NotAuthenticated:
    """Put a refused token on record (issue 17.9, C1.3), sampled per client address so that a
    flood of made-up tokens cannot flood the log (audit/throttle.py)."""
    sampler = _sampler(request, "token_refusals")
    suppressed = sampler.admit(ctx.client_addr or "unknown")
    if suppressed is not None:
        details: dict[str, str | int] = {
            "kind": kind.value,
            "method": request.method,
            "path": request.url.path,
        }
        if suppressed:
            details["suppressed"] = suppressed
        refusal = event(
            ctx=ctx,
            actor_id=None,
            actor_username=None,
            action=Action.AUTH_TOKEN_REFUSED,
            decision=Decision.DENY,
            reason=refused.code,
            details=details,
        )
        refused.with_audit(refusal)
    return refused


_SAMPLER_LOCK = threading.Lock()


def _sampler(request: Request, name: str) -> RefusalSampler:
    """The application's sampler of one kind of refusal (refused tokens, refused roles), made
    on first use."""
    state = request.app.state
    with _SAMPLER_LOCK:
        if getattr(state, name, None) is None:
            setattr(state, name, RefusalSampler())
        sampler: RefusalSampler = getattr(state, name)
    return sampler


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


def require_permission(permission: Permission) -> Callable[..., Awaitable[Actor]]:
    """Return a dependency that admits only actors whose roles carry `permission`."""

    async def _check(
        request: Request,
        ctx: Annotated[RequestContext, Depends(get_context)],
        actor: Annotated[Actor, Depends(current_actor)],
    ) -> Actor:
        return check_permission(request, ctx, actor, permission)

    _check.permission = permission  # type: ignore[attr-defined]  # read by api/unit.py
    return _check


def check_permission(
    request: Request, ctx: RequestContext, actor: Actor, permission: Permission
) -> Actor:
    """The actor, if their roles carry `permission`; else 403 with an audited refusal.

    C1.3: a probe by the wrong role is on record, naming the permission it lacked; sampled per
    person (issue 17.9), so that a script looping over forbidden routes cannot flood the log:
    the next event recorded carries how many were left out.
    """
    if actor.can(permission):
        return actor
    refused = Forbidden(f"your role lacks the permission {permission.value}")
    suppressed = _sampler(request, "permission_refusals").admit(f"user:{actor.user_id}")
    if suppressed is None:
        raise refused
    details: dict[str, str | int] = {
        "permission": permission.value,
        "route": str(getattr(request.scope.get("route"), "path", request.url.path)),
        "method": request.method,
    }
    if suppressed:
        details["suppressed"] = suppressed
    refusal = actor_event(
        ctx=ctx,
        actor=actor,
        action=Action.API_CALL,
        allowed=False,
        reason="role_lacks_permission",
        details=details,
    )
    raise refused.with_audit(refusal)


Conn = Annotated[Connection, get_conn]
Ctx = Annotated[RequestContext, Depends(get_context)]
CurrentActor = Annotated[Actor, Depends(current_actor)]
VaultDep = Annotated[Vault, Depends(get_vault)]
EngineDep = Annotated[Engine, Depends(get_engine)]
