"""The `Allow` header of a 405 (RFC 9110 section 15.5.6): every method of the resource asked for.

Starlette answers 405 with the methods of the first route whose path matched, and each of our
routes has one method: `OPTIONS /api/v1/customers` was told `Allow: GET`, though POST is there
too. Here the methods are those of every route at that path. Where a literal path and a template
both match (`/auth/sessions/end-others`, `/auth/sessions/{session_id}`), the most literal one is
the resource, as OpenAPI resolves paths, so the template's methods are not offered for it.

Nor does the template serve it (`fixed_path_at`): `DELETE /api/v1/customers/check` went to
`DELETE /customers/{customer_id}` and was told there is no customer "check" (404), where the
resource `/customers/check` has no DELETE at all (405, `Allow: GET`).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from weakref import WeakKeyDictionary

from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import compile_path
from starlette.types import Scope

# Per app, the paths of its routes without parameters: few, and fixed once the app serves.
_FIXED: WeakKeyDictionary[Any, frozenset[str]] = WeakKeyDictionary()


def fixed_path_at(scope: Scope) -> bool:
    """Whether a route with a fixed path (no parameters) is at the request's URL: a template
    that fits the URL too (`{customer_id}` = "check") is then not the resource asked for."""
    app = scope.get("app")
    if app is None:
        return False
    fixed = _FIXED.get(app)
    if fixed is None:
        fixed = frozenset(
            route.path
            for route in iter_route_contexts(app.routes)
            if route.path and route.methods and not compile_path(route.path)[2]
        )
        _FIXED[app] = fixed
    return _route_path(scope) in fixed


def methods_at(request: Request) -> list[str]:
    """The methods of the routes at the request's path, sorted (HEAD comes with GET)."""
    path = _route_path(request.scope)
    by_parameters: defaultdict[int, set[str]] = defaultdict(set)
    # FastAPI keeps an included router's routes behind it; this walks them all, as its own
    # OpenAPI document does. Only a 405 pays for it.
    for route in iter_route_contexts(request.app.routes):
        if not route.path or not route.methods:
            continue  # a mount (static files) or a websocket
        regex, _, convertors = compile_path(route.path)
        if regex.match(path):
            by_parameters[len(convertors)].update(route.methods)
    return sorted(by_parameters[min(by_parameters)]) if by_parameters else []


def _route_path(scope: Scope) -> str:
    # The path the routes see: the request's, less the prefix of a mount (root_path).
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def headers_of(request: Request, exc: HTTPException) -> dict[str, str]:
    """The headers of an HTTP error's answer: its own, and for a 405 the resource's `Allow`."""
    headers = dict(exc.headers or {})
    if exc.status_code == 405 and (methods := methods_at(request)):
        headers["Allow"] = ", ".join(methods)
    return headers
