"""Structured logs: JSON lines in BAOMI_HOME/logs/baomi.log.

Operational events only: what ran, which route answered with which status, how long it took.
Request bodies, query strings and customer values are never logged (C4.2.2: no copies of customer
data outside the encrypted store); the audit log, not this file, records who did what.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import IO, Any

import structlog

from baomi.config import Settings

LOG_NAME = "baomi.log"
_stream: IO[str] | None = None


def log_path(settings: Settings) -> Path:
    return settings.log_dir / LOG_NAME


def configure(settings: Settings) -> Path:
    """Send structlog events to the JSON-lines log file (created 0600 in a 0700 directory)."""
    global _stream
    path = log_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    stream = os.fdopen(fd, "a", encoding="utf-8", buffering=1)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.dict_tracebacks,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
        logger_factory=structlog.WriteLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
    if _stream is not None:
        _stream.close()
    _stream = stream
    return path


def get_logger(name: str = "baomi") -> Any:
    return structlog.get_logger(name).bind(logger=name)


Scope = dict[str, Any]
Receive = Any
Send = Any


class RequestLog:
    """ASGI wrapper logging one line per HTTP request: method, path, status, duration.

    The path is logged without its query string: `/customers/check?phone=…` carries a customer
    value in the query, and ids in paths are opaque.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.log = get_logger("baomi.http")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        seen: dict[str, Any] = {"status": 500, "request_id": None}

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
                for name, value in message.get("headers", []):
                    if name.lower() == b"x-request-id":
                        seen["request_id"] = value.decode("latin-1")
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            self.log.info(
                "http_request",
                method=scope.get("method"),
                path=scope.get("path"),
                status=seen["status"],
                request_id=seen["request_id"],
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
            )
