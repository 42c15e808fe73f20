"""Routers added route by route (api/include.py) serve and document exactly what including
them did: the same OpenAPI document, the same routes in the same order (issue 9)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, APIRouter, iter_route_contexts

from baomi.api import include as include_module
from baomi.app import create_app


def _included_as_fastapi_does(app: FastAPI, router: APIRouter) -> None:
    app.include_router(router)


def _routes(app: FastAPI) -> list[tuple[str | None, tuple[str, ...], str | None]]:
    return [
        (route.path, tuple(sorted(route.methods or ())), route.name)
        for route in iter_route_contexts(app.routes)
    ]


def test_the_app_serves_and_documents_the_same_routes(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    flat = app
    assert any(isinstance(route, APIRoute) for route in flat.router.routes)  # added as they are
    monkeypatch.setattr(include_module, "include", _included_as_fastapi_does)
    monkeypatch.setattr("baomi.app.include", _included_as_fastapi_does)
    state: Any = flat.state
    wrapped = create_app(settings=state.settings, engine=state.engine, vault=state.vault)
    assert not any(isinstance(route, APIRoute) for route in wrapped.router.routes)
    assert _routes(flat) == _routes(wrapped)
    assert flat.openapi() == wrapped.openapi()
