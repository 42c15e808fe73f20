"""RFC 9457 problem details for every error the API returns, each with a stable `code`."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from baomi import faults
from baomi.api import allow
from baomi.audit.sealing import SealRefused
from baomi.crypto.errors import CryptoError
from baomi.errors import BaomiError

PROBLEM_JSON = "application/problem+json"
log = structlog.get_logger("baomi.api")

_HTTP_CODES = {
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


class ProblemField(BaseModel):
    """One broken rule of a 422 (baomi.errors.FieldError): field path, stable code, message."""

    field: str
    code: str
    message: str


class Problem(BaseModel):
    """The body of every error (`application/problem+json`), as `problem()` writes it.

    The OpenAPI document declares it for every error status (api/openapi.py); a problem may
    carry members of its own (RFC 9457 section 3.2), such as the handler of a duplicate.
    """

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="`urn:baomi:problem:` and the code")
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    instance: str = Field(description="the path of the request")
    code: str = Field(description="stable and machine-readable: what a client acts on")
    request_id: str | None = Field(description="the response's X-Request-ID, for support")
    errors: list[ProblemField] | None = Field(
        default=None, description="422: each broken rule (field, code, message)"
    )


def problem(
    request: Request,
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {
        "type": f"urn:baomi:problem:{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "code": code,
        "request_id": getattr(request.state, "request_id", None),
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def fault_of(request: Request, error: Exception) -> faults.Unavailable | None:
    """The fault (faults.py) an infrastructure error stands for, logged once; None for a bug."""
    fault = faults.translate(error)
    if fault is not None:
        # The reason is the driver's or the key file's own words: a path, never a value.
        log.error(
            fault.code, error_type=type(error).__name__, reason=fault.reason, path=request.url.path
        )
    return fault


def install(app: FastAPI) -> None:
    """Register the handlers that turn every failure into problem+json."""

    @app.exception_handler(BaomiError)
    async def _domain(request: Request, exc: BaomiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
        headers.update(exc.headers)
        return problem(
            request,
            status=exc.status,
            code=exc.code,
            title=exc.title,
            detail=exc.detail,
            headers=headers,
            **exc.extra,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # A shape error's code is pydantic's error type (`missing`, `string_too_long` …), which
        # pydantic keeps stable; the services' own rules bring theirs (baomi.errors.FieldError).
        errors = [
            {
                "field": ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body",
                "code": str(err.get("type", "invalid")),
                "message": str(err.get("msg", "invalid")),
            }
            for err in exc.errors()
        ]
        return problem(
            request,
            status=422,
            code="validation_failed",
            title="Validation failed",
            detail="; ".join(f"{e['field']}: {e['message']}" for e in errors),
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
        return problem(
            request,
            status=exc.status_code,
            code=code,
            title=str(exc.detail),
            detail=str(exc.detail),
            headers=allow.headers_of(request, exc),
        )

    async def _fault(request: Request, exc: Exception) -> JSONResponse:
        # Issue 18: the database down, a read-only database, a master key gone are 503s with
        # codes of their own; what is none of them is a bug, for the catch-all below.
        fault = fault_of(request, exc)
        if fault is None:
            raise exc
        return await _domain(request, fault)

    for translated in faults.TRANSLATED:
        app.add_exception_handler(translated, _fault)

    @app.exception_handler(CryptoError)
    async def _crypto(request: Request, exc: CryptoError) -> JSONResponse:
        # A ciphertext or wrapped key that fails authentication was tampered with or moved.
        log.error("crypto_failure", error_type=type(exc).__name__, path=request.url.path)
        return problem(
            request,
            status=500,
            code="integrity_failure",
            title="Integrity failure",
            detail="stored data failed its integrity check; the security officer is told",
        )

    @app.exception_handler(SealRefused)
    async def _seal_refused(request: Request, exc: SealRefused) -> JSONResponse:
        # The log no longer matches what was signed: evidence of tampering (C1.3), not a bug.
        log.error("audit_seal_refused", path=request.url.path)
        return problem(
            request,
            status=503,
            code="audit_log_integrity",
            title="Audit log integrity check failed",
            detail=f"the audit log cannot be sealed: {exc}; run `baomi audit verify`",
        )

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        # The exception type only: messages may quote values, and values may be customer data.
        log.error("unhandled_error", error_type=type(exc).__name__, path=request.url.path)
        return problem(
            request,
            status=500,
            code="internal_error",
            title="Internal error",
            detail="the server failed; the request was rolled back",
        )
