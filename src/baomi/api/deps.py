"""Request dependencies: the unit of work, the request context, the vault and the actor.

Every router is mounted behind `current_actor`; login is the one marked public route.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from baomi.audit.context import RequestContext
from baomi.auth.service import user_for_token
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
    conn: Annotated[Connection, get_conn],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Actor:
    """Resolve the bearer token to an active user, or answer 401."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise NotAuthenticated("log in and send the token as 'Authorization: Bearer …'")
    user_id = user_for_token(conn, credentials.credentials)
    actor = load_actor(conn, user_id) if user_id else None
    if actor is None:
        raise NotAuthenticated("the token is unknown, expired or revoked", code="invalid_token")
    return actor


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
