"""The OpenAPI document as the server answers (issue 18 item 9), completed in this one place.

FastAPI documents a route's success and its own 422 (HTTPValidationError, application/json). Our
errors are problem+json (api/problem.py) and come from machinery every route shares: a NUL in
the URL (400, api/envelope.py), no session (401), the role or the access policy (403), a record
or key gone (404, 410), the state of a record (409), body limits (408, 413, 415), validation
(422), throttling (429), a fault beneath the request (503). Each API operation declares them all
here, with the `Problem` schema, rather than each route a few of them and the rest unsaid; and
the codes of its own refusals that no JSON schema can state (api/refusals.py), by status.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI

from baomi.api.inputs import LEVELS_MARK, PURPOSES_MARK, exclude_nul
from baomi.api.problem import PROBLEM_JSON, Problem
from baomi.api.refusals import REFUSALS
from baomi.consent.purposes import DEFAULT_PURPOSES, PurposeCatalog
from baomi.security.levels import Levels

_REF = "#/components/schemas/{model}"
_PROBLEM_REF = {"$ref": _REF.format(model="Problem")}
# The status, and what it means in this API (the codes are the problem's `code`).
ERRORS: dict[int, str] = {
    400: "Bad request: `nul_character` (a NUL in the URL) or a request that cannot be read",
    401: "Not authenticated: `not_authenticated`, `invalid_token`, `session_expired`; at login "
    "`invalid_credentials`, `mfa_required`; `step_up_required` for a second factor",
    403: "Forbidden: the role lacks the permission, or the access policy refuses (the reason is "
    "audited); `csrf_failed` for a browser session without its CSRF token",
    404: "Not found, or not visible to the caller",
    408: "Request timeout: `body_timeout`, a body that stalled or came too slowly (api/intake.py)",
    409: "Conflict with the record's state (`duplicate_customer`, `request_not_pending`, …)",
    410: "Gone: `data_key_shredded`, the record's key was destroyed (C4.5.1)",
    413: "Payload too large: `payload_too_large`, a body over its route's limit",
    415: "Unsupported media type: `unsupported_media_type`",
    422: "Validation failed: `validation_failed`, with `errors` naming each field, a stable "
    "code and a message",
    429: "Too many attempts: `throttled` (with Retry-After) or `reveal_rate_limited`",
    500: "`internal_error` (a bug; the request was rolled back) or `integrity_failure`",
    503: "Unavailable: `database_unavailable`, `database_read_only`, `key_unavailable`, "
    "`audit_key_missing`, `audit_log_integrity`",
}
_HEADERS: dict[int, dict[str, Any]] = {
    401: {
        "WWW-Authenticate": {
            "description": "`Bearer`: log in and send the token (RFC 6750)",
            "required": True,
            "schema": {"type": "string"},
        }
    },
    429: {
        "Retry-After": {
            "description": "seconds to wait, after repeated failed logins",
            "schema": {"type": "integer", "minimum": 0},
        }
    },
}
_LEVELS_HELP = "a level in use (BAOMI_LEVELS): its code or its Chinese label"
_PURPOSES_HELP = "a processing purpose in use (GET /api/v1/purposes)"
# FastAPI's own descriptions, which ours replace; a route's own description is kept.
_GENERIC = {"Validation Error", "Additional Response"}
# Schemas of FastAPI's 422 body, which the server never sends.
_UNUSED = ("HTTPValidationError", "ValidationError")


def install(app: FastAPI) -> None:
    """Serve FastAPI's document completed by `complete` (built once, as FastAPI keeps it)."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        document = build()
        if "Problem" not in document.get("components", {}).get("schemas", {}):
            vault = app.state.vault
            complete(document, levels=vault.levels, purposes=vault.purposes)
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def complete(
    document: dict[str, Any], *, levels: Levels, purposes: PurposeCatalog = DEFAULT_PURPOSES
) -> None:
    """Declare the problem responses on every API operation, the URL's NUL rule, the levels and
    the processing purposes in use."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    names = [name for rule in levels.in_use() for name in (rule.code, rule.label_zh)]
    for schema in _marked(document, LEVELS_MARK):
        description = schema.get("description", _LEVELS_HELP)
        schema.clear()
        schema.update(type="string", enum=names, description=description)
    purpose_codes = [purpose.code for purpose in purposes]
    for schema in _marked(document, PURPOSES_MARK):
        description = schema.get("description", _PURPOSES_HELP)
        schema.clear()
        schema.update(type="string", enum=purpose_codes, description=description)
    problem = Problem.model_json_schema(ref_template=_REF)
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    for label, operation in _operations(document):
        responses = operation.setdefault("responses", {})
        own = REFUSALS.get(label, {})
        for status, meaning in ERRORS.items():
            declared = responses.get(str(status), {})
            description = declared.get("description")
            response: dict[str, Any] = {
                "description": meaning if description in (None, *_GENERIC) else description,
                "content": {PROBLEM_JSON: {"schema": dict(_PROBLEM_REF)}},
            }
            if status in _HEADERS:
                response["headers"] = _HEADERS[status]
            if codes := own.get(status):
                response["description"] += ". This operation also: " + "; ".join(
                    f"`{code}` when {why}" for code, why in codes.items()
                )
                response["x-problem-codes"] = sorted(codes)
            responses[str(status)] = response
        operation["responses"] = dict(sorted(responses.items()))
        for parameter in operation.get("parameters", []):
            # The envelope refuses a NUL anywhere in the path or the query (api/envelope.py).
            if parameter.get("in") in ("path", "query") and "schema" in parameter:
                exclude_nul(parameter["schema"])
    text = repr(document["paths"])
    for name in _UNUSED:
        if _REF.format(model=name) not in text:
            schemas.pop(name, None)


def _marked(node: Any, mark: str) -> Iterator[dict[str, Any]]:
    """Every schema in the document that carries `mark` (depth first)."""
    if isinstance(node, dict):
        if node.get(mark) is True:
            yield node
            return
        for value in node.values():
            yield from _marked(value, mark)
    elif isinstance(node, list):
        for value in node:
            yield from _marked(value, mark)


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each API operation with its label, `METHOD /path` (api/refusals.py)."""
    for path, item in document.get("paths", {}).items():
        if path.startswith("/api/"):
            for key, operation in item.items():
                if key != "parameters":
                    yield f"{key.upper()} {path}", operation
