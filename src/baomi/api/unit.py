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
   On SQLite the units that wait are run by one thread in one transaction, each in a savepoint
   of its own, and committed together; each is still answered only after that commit
   (db_group.py).

FastAPI still validates the path, query and body and writes the OpenAPI document from the
endpoint's own parameters (the bearer scheme and the CSRF token are declared as dependencies,
for the document, and read by the unit itself: `UnitRoute._solving_less`). An endpoint asking
for any other dependency keeps FastAPI's own path, so a dependency is never solved twice. On
PostgreSQL at most `deps.UNITS_OF_WORK` units run at once in this process; the others wait for
a thread without holding a connection.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
from collections.abc import Callable, Coroutine, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import partial
from typing import Annotated, Any, get_args, get_origin

from fastapi import Depends, Request, Response
from fastapi import routing as fastapi_routing
from fastapi.dependencies.utils import get_typed_signature
from fastapi.exceptions import RequestValidationError
from fastapi.params import Depends as DependsParam
from fastapi.routing import APIRoute, APIRouter
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy import Engine
from sqlalchemy.engine import Connection
from starlette.routing import Match
from starlette.types import Scope

from baomi.api import allow, deps
from baomi.api.repeats import refuse_repeats, single_valued
from baomi.auth import browser
from baomi.db_group import WRITER, Work, run_alone
from baomi.security.roles import Permission

# The threads units of work run in on PostgreSQL: as many as may run at once (see
# deps.UNITS_OF_WORK). On SQLite every unit holds the file's write lock from its first statement
# to its commit (db_writer), so units run one at a time however many threads wait: one thread
# runs them in arrival order and commits those that wait together (db_group).
_PARALLEL = ThreadPoolExecutor(max_workers=deps.UNITS_OF_WORK, thread_name_prefix="baomi-unit")


_CONN, _CTX, _ACTOR, _VAULT, _ENGINE = "conn", "ctx", "actor", "vault", "engine"
_PROVIDERS: Mapping[Callable[..., Any], str] = {
    deps.current_actor: _ACTOR,
    deps.get_context: _CTX,
    deps.get_vault: _VAULT,
    deps.get_engine: _ENGINE,
}
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
        # A unit that takes the engine runs transactions of its own, or streams after its
        # commit: on SQLite it runs alone, never inside a group of units (db_group).
        self.takes_engine = any(i.what == _ENGINE for i in injected.values())

    async def authorize(self, request: Request) -> None:
        """Resolve the actor and check the permissions, changing nothing; raise if refused."""
        credentials = await deps.bearer_scheme(request)
        csrf_token = await browser.presented_csrf_token(request)
        work = partial(self._authorize, request, credentials, csrf_token)
        await _run(request, work, keep=False, alone=False)

    def _authorize(
        self,
        request: Request,
        credentials: HTTPAuthorizationCredentials | None,
        csrf_token: str | None,
        conn: Connection,
    ) -> None:
        ctx = deps.context_of(request)
        actor = deps.resolve_actor(request, conn, ctx, credentials, csrf_token)
        for injection in self.injected.values():
            if injection.permission is not None:
                deps.check_permission(request, ctx, actor, injection.permission)

    async def run(self, values: dict[str, Any]) -> Any:
        request: Request = values[self.request_name]
        if self.request_name == _REQUEST:
            del values[_REQUEST]
        credentials, csrf_token = None, None
        if self.needs_actor:
            # Read here, not solved by FastAPI (`UnitRoute._solving_less`): the same functions.
            credentials = await deps.bearer_scheme(request)
            csrf_token = await browser.presented_csrf_token(request)
        work = partial(self._work, request, credentials, csrf_token, values)
        return await _run(request, work, alone=self.takes_engine)

    def _work(
        self,
        request: Request,
        credentials: HTTPAuthorizationCredentials | None,
        csrf_token: str | None,
        values: dict[str, Any],
        conn: Connection,
    ) -> Any:
        ctx = deps.context_of(request)
        actor = None
        if self.needs_actor:
            actor = deps.resolve_actor(request, conn, ctx, credentials, csrf_token)
        provided = {
            _CONN: conn,
            _CTX: ctx,
            _ACTOR: actor,
            _VAULT: request.app.state.vault,
            _ENGINE: request.app.state.engine,
        }
        for name, injection in self.injected.items():
            if injection.permission is not None and actor is not None:
                deps.check_permission(request, ctx, actor, injection.permission)
            values[name] = provided[injection.what]
        return self.endpoint(**values)


async def _run(request: Request, work: Work, *, keep: bool = True, alone: bool = False) -> Any:
    """Run a unit's work in its thread: committed (or, without `keep`, rolled back) before
    this returns; a refusal is rolled back and recorded (`db_group.run_alone`)."""
    engine: Engine = request.app.state.engine
    if engine.dialect.name == "sqlite":
        return await WRITER.run(engine, work, keep=keep, alone=alone)
    # Context variables (the request's log bindings) go along, as with FastAPI's own hops.
    context = contextvars.copy_context()
    call = partial(run_alone, engine, work, keep=keep)
    return await asyncio.get_running_loop().run_in_executor(_PARALLEL, context.run, call)


class UnitRoute(APIRoute):
    """An API route whose endpoint runs as one unit of work in one thread hop (`one_hop`)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        endpoint, self.unit = one_hop(endpoint)
        super().__init__(path, endpoint, **kwargs)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is Match.FULL and self.param_convertors and allow.fixed_path_at(scope):
            # The URL is a fixed path's resource (api/allow.py): a method it lacks is its 405.
            return Match.NONE, {}
        return match, child_scope

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        unit = self.unit
        handler = self._solving_less() if unit is not None else super().get_route_handler()
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

    def _solving_less(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """FastAPI's handler, solving the endpoint's own parameters but not the credentials and
        the CSRF token, which `_Unit.run` reads itself: as sub-dependencies they cost FastAPI
        ~15 µs a request (solve_dependencies, benchmarks/bench_http.py). The route keeps them
        in its dependant for the OpenAPI document (the bearer scheme of the operation).

        FastAPI builds the handler of an included route from that inclusion's dependant, which
        it names in a context variable while it does (fastapi.routing, pinned in uv.lock).
        """
        context = fastapi_routing._effective_route_context_var.get()
        route = context if context is not None and context.original_route is self else self
        declared = route.dependant
        own = [d for d in declared.dependencies if d.name not in (_CREDENTIALS, _CSRF)]
        route.dependant = replace(declared, dependencies=own)
        try:
            return super().get_route_handler()
        finally:
            route.dependant = declared


def api_router(**kwargs: Any) -> APIRouter:
    """An APIRouter whose routes run as one-hop units of work (`UnitRoute`)."""
    return APIRouter(route_class=UnitRoute, **kwargs)
