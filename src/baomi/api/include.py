"""Routers added to the app route by route, not behind FastAPI's wrapper (issue 9).

FastAPI (0.165, pinned in uv.lock) puts an included router behind a wrapper: a request matches
the wrapper's routes twice (once to choose the router, once within it), looks up each route's
settings for that inclusion in the request's scope as it goes, and sums the routers' versions.
That was ~20 µs of the ~120 µs the event loop spends on an audited read, more than the bare
hello route's whole stack costs (benchmarks/bench_http.py). An APIRouter already gives each of
its routes the router's prefix, tags, dependencies and responses when the route is declared,
and our routers are included without options of their own, so the app can hold the very
routes the wrapper would serve: nothing about a route changes (tests/test_include.py compares
the OpenAPI documents and the routes' order).

One thing a wrapper adds that these routes lack: the app's `dependency_overrides`, which
nothing here uses. A router this cannot add so (one holding routers of its own, or with
startup or shutdown handlers) is included as FastAPI does.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.routing import APIRoute, APIRouter


def include(app: FastAPI, router: APIRouter) -> None:
    """Add the router's routes at the end of the app's, in their order."""
    if (
        router.on_startup
        or router.on_shutdown
        or not all(isinstance(route, APIRoute) for route in router.routes)
    ):
        app.include_router(router)
        return
    app.router.routes.extend(router.routes)
