"""API routes that run a request's whole unit of work in one thread hop (issue 9).

FastAPI runs every plain `def` dependency and endpoint in its thread pool, one hop each, and
solves the dependency tree anew on each request. For the audited read that meant three hops
(the actor, the endpoint, the commit) and eight dependencies: about 1.5 ms of the server's CPU
around a service call of 0.3 ms (benchmarks/bench_http.py). `UnitRoute` gives an API endpoint
that takes the request's connection, context, actor, vault or engine (api/deps.py) a single
hop instead, in which it:

1. lends a connection (db_idle), as `api.deps._connection` does;
2. resolves the actor with `deps.resolve_actor` (the same session, MFA gate and CSRF checks as
   `current_actor`) and checks the route's permission with `deps.check_permission` (audited);
3. calls the endpoint;
4. commits, or rolls back and records the refusal (`uow.end_unit`), before the response goes.

FastAPI still validates the path, query and body and writes the OpenAPI document from the
endpoint's own parameters (the bearer scheme and the CSRF token stay dependencies: they read
only the request). An endpoint asking for any other dependency keeps FastAPI's own path, so a
dependency is never solved twice. At most `deps.UNITS_OF_WORK` units run at once in this
process; the others wait for a thread without holding a connection.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
from collections.abc import Callable, Coroutine, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any, get_args, get_origin

from fastapi import Depends, Request, Response
from fastapi.dependencies.utils import get_typed_signature
from fastapi.exceptions import RequestValidationError
from fastapi.params import Depends as DependsParam
from fastapi.routing import APIRoute, APIRouter
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy import Engine

from baomi.api import deps
from baomi.api.repeats import refuse_repeats, single_valued
from baomi.auth import browser
from baomi.db_idle import lend
from baomi.security.roles import Permission
from baomi.uow import end_unit

# The threads units of work run in. On PostgreSQL, as many as may run at once (see
# deps.UNITS_OF_WORK). On SQLite every unit holds the file's write lock from its first statement
# to its commit (db_writer), so units run one at a time however many threads wait: one thread
# runs them in arrival order, instead of eight handing the lock and the GIL to one another
# (+25% audited reads over HTTP, benchmarks/bench_http.py).
_PARALLEL = ThreadPoolExecutor(max_workers=deps.UNITS_OF_WORK, thread_name_prefix="baomi-unit")
_SERIAL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="baomi-unit-sqlite")


def _threads_for(engine: Engine) -> ThreadPoolExecutor:
    return _SERIAL if engine.dialect.name == "sqlite" else _PARALLEL


_CONN, _CTX, _ACTOR, _VAULT, _ENGINE = "conn", "ctx", "actor", "vault", "engine"
_PROVIDERS: Mapping[Callable[..., Any], str] = {
    deps.current_actor: _ACTOR,
    deps.get_context: _CTX,
    deps.get_vault: _VAULT,
    deps.get_engine: _ENGINE,
}
# Ends an authorization-only unit: rolled back, as the request it checked goes no further.
_NOT_RUN = RuntimeError("the request was refused before its endpoint ran")
# The wrapper's own parameters; the endpoint's never start with "unit_".
_REQUEST, _CREDENTIALS, _CSRF = "unit_request", "unit_credentials", "unit_csrf_token"


@dataclass(frozen=True, slots=True)
class _Injection:
    """What the unit passes for one of the endpoint's parameters."""

    what: str
    permission: Permission | None = None


def _injection(annotation: Any) -> _Injection | bool | None:
    """The unit's value for a parameter; None for a plain one; False for another dependency."""
    if get_origin(annotation) is not Annotated:
        return None
    for meta in get_args(annotation)[1:]:
        if meta is deps.get_conn:
            return _Injection(_CONN)
        if isinstance(meta, DependsParam):
            dependency = meta.dependency
            permission = getattr(dependency, "permission", None)
            if isinstance(permission, Permission):
                return _Injection(_ACTOR, permission)
            what = _PROVIDERS.get(dependency) if dependency is not None else None
            return _Injection(what) if what is not None else False
    return None


def one_hop(endpoint: Callable[..., Any]) -> tuple[Callable[..., Any], _Unit | None]:
    """The endpoint as a one-hop unit of work, or the endpoint itself when it cannot be one."""
    if inspect.iscoroutinefunction(endpoint) or not callable(endpoint):
        return endpoint, None
    signature = get_typed_signature(endpoint)
    injected: dict[str, _Injection] = {}
    kept: list[inspect.Parameter] = []
    for parameter in signature.parameters.values():
        found = _injection(parameter.annotation)
        if found is False:
            return endpoint, None  # another dependency: FastAPI solves the whole tree
        if isinstance(found, _Injection):
            injected[parameter.name] = found
        else:
            kept.append(parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY))
    if not injected:
        return endpoint, None
    # FastAPI fills one Request parameter only: the endpoint's own, if it has one.
    own_request = next((p.name for p in kept if p.annotation is Request), None)
    unit = _Unit(endpoint, injected, request_name=own_request or _REQUEST)

    async def unit_endpoint(**values: Any) -> Any:
        return await unit.run(values)

    own = (
        []
        if own_request
        else [inspect.Parameter(_REQUEST, inspect.Parameter.KEYWORD_ONLY, annotation=Request)]
    )
    if unit.needs_actor:
        # Only a route with an actor reads the credentials: the OpenAPI document says a public
        # one (login, activation) needs no token, as it does not.
        own += [
            inspect.Parameter(
                _CREDENTIALS,
                inspect.Parameter.KEYWORD_ONLY,
                annotation=Annotated[
                    HTTPAuthorizationCredentials | None, Depends(deps.bearer_scheme)
                ],
            ),
            inspect.Parameter(
                _CSRF,
                inspect.Parameter.KEYWORD_ONLY,
                annotation=Annotated[str | None, Depends(browser.presented_csrf_token)],
            ),
        ]
    unit_endpoint.__signature__ = signature.replace(parameters=[*own, *kept])  # type: ignore[attr-defined]
    # The route's name, operation id and description come from these.
    unit_endpoint.__name__ = endpoint.__name__
    unit_endpoint.__qualname__ = endpoint.__qualname__
    unit_endpoint.__doc__ = endpoint.__doc__
    unit_endpoint.__module__ = endpoint.__module__
    return unit_endpoint, unit


class _Unit:
    """One endpoint's unit of work: what to inject, and the hop that runs it."""

    def __init__(
        self, endpoint: Callable[..., Any], injected: dict[str, _Injection], request_name: str
    ) -> None:
        self.endpoint = endpoint
        self.request_name = request_name
        self.injected = injected
        # A route without an actor (login, activation) resolves none: it is public.
        self.needs_actor = any(i.what == _ACTOR for i in injected.values())

    async def authorize(self, request: Request) -> None:
        """Resolve the actor and check the permissions, changing nothing; raise if refused."""
        credentials = await deps.bearer_scheme(request)
        csrf_token = await browser.presented_csrf_token(request)
        work = partial(self._authorize_in_thread, request, credentials, csrf_token)
        context = contextvars.copy_context()
        threads = _threads_for(request.app.state.engine)
        await asyncio.get_running_loop().run_in_executor(threads, context.run, work)

    def _authorize_in_thread(
        self,
        request: Request,
        credentials: HTTPAuthorizationCredentials | None,
        csrf_token: str | None,
    ) -> None:
        engine = request.app.state.engine
        lent = lend(engine)
        try:
            ctx = deps.context_of(request)
            actor = deps.resolve_actor(request, lent.conn, ctx, credentials, csrf_token)
            for injection in self.injected.values():
                if injection.permission is not None:
                    deps.check_permission(request, ctx, actor, injection.permission)
        except BaseException as error:
            end_unit(engine, lent, error)
            raise
        end_unit(engine, lent, _NOT_RUN)

    async def run(self, values: dict[str, Any]) -> Any:
        request: Request = values[self.request_name]
        if self.request_name == _REQUEST:
            del values[_REQUEST]
        credentials = values.pop(_CREDENTIALS, None)
        csrf_token = values.pop(_CSRF, None)
        work = partial(self._in_thread, request, credentials, csrf_token, values)
        # Context variables (the request's log bindings) go along, as with FastAPI's own hops.
        context = contextvars.copy_context()
        threads = _threads_for(request.app.state.engine)
        return await asyncio.get_running_loop().run_in_executor(threads, context.run, work)

    def _in_thread(
        self,
        request: Request,
        credentials: HTTPAuthorizationCredentials | None,
        csrf_token: str | None,
        values: dict[str, Any],
    ) -> Any:
        engine = request.app.state.engine
        lent = lend(engine)
        try:
            ctx = deps.context_of(request)
            actor = None
            if self.needs_actor:
                actor = deps.resolve_actor(request, lent.conn, ctx, credentials, csrf_token)
            provided = {
                _CONN: lent.conn,
                _CTX: ctx,
                _ACTOR: actor,
                _VAULT: request.app.state.vault,
                _ENGINE: engine,
            }
            for name, injection in self.injected.items():
                if injection.permission is not None and actor is not None:
                    deps.check_permission(request, ctx, actor, injection.permission)
                values[name] = provided[injection.what]
            result = self.endpoint(**values)
        except BaseException as error:
            end_unit(engine, lent, error)
            raise
        if lent.conn.in_transaction() or not lent.keep():
            end_unit(engine, lent, None)
        return result


class UnitRoute(APIRoute):
    """An API route whose endpoint runs as one unit of work in one thread hop (`one_hop`)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        endpoint, self.unit = one_hop(endpoint)
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        unit = self.unit
        single = single_valued(self.dependant)
        authorize = unit.authorize if unit is not None and unit.needs_actor else None
        if not single and authorize is None:
            return handler

        async def authorize_before_validating(request: Request) -> Response:
            try:
                refuse_repeats(request, single)
                return await handler(request)
            except RequestValidationError:
                # FastAPI validates the parameters before the endpoint (the unit) runs. A caller
                # the route refuses gets that refusal (401, 403, audited), not the 422: nobody
                # learns the shape of a route they may not use, as with `current_actor`.
                if authorize is not None:
                    await authorize(request)
                raise

        return authorize_before_validating


def api_router(**kwargs: Any) -> APIRouter:
    """An APIRouter whose routes run as one-hop units of work (`UnitRoute`)."""
    return APIRouter(route_class=UnitRoute, **kwargs)
