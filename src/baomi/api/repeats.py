"""A query parameter that takes one value is refused when it is given twice (422 `repeated`).

FastAPI keeps the last of `?user_id=a&user_id=b` and drops the rest: the request reads one way
to a proxy, a log or a WAF and another way to the route (HTTP parameter pollution), and the
OpenAPI document, which says one value, is not what the server accepts.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import UnionType
from typing import Any, Union, get_args, get_origin

from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from starlette.requests import Request

_SEQUENCES = (list, tuple, set, frozenset)


def single_valued(dependant: Dependant) -> frozenset[str]:
    """The names of a route's query parameters that take one value."""
    return frozenset(
        field.alias
        for field in _query_fields(dependant)
        if not _is_sequence(field.field_info.annotation)
    )


def refuse_repeats(request: Request, names: frozenset[str]) -> None:
    """Raise the validation error of each one-value parameter the request repeats."""
    if not names or not request.scope.get("query_string"):
        return
    errors = [
        {
            "type": "repeated",
            "loc": ("query", name),
            "msg": "give this parameter once",
            "input": values,
        }
        for name in sorted(names)
        if len(values := request.query_params.getlist(name)) > 1
    ]
    if errors:
        raise RequestValidationError(errors)


def _query_fields(dependant: Dependant) -> Iterator[Any]:
    yield from dependant.query_params
    for sub in dependant.dependencies:
        yield from _query_fields(sub)


def _is_sequence(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin in _SEQUENCES or annotation in _SEQUENCES:
        return True
    if origin is Union or origin is UnionType:
        return any(_is_sequence(arg) for arg in get_args(annotation))
    return False
