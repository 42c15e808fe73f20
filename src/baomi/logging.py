"""Structured logs: JSON lines in BAOMI_HOME/logs/baomi.log.

Operational events only: what ran, which route answered with which status, how long it took.
Request bodies, query strings and customer values are never logged (C4.2.2: no copies of customer
data outside the encrypted store); the audit log, not this file, records who did what.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any, TextIO, cast

import structlog

from baomi.config import Settings

LOG_NAME = "baomi.log"


class LogFile:
    """The log file, written a whole line per call; a failed write never reaches the caller.

    Issue 18: with the disk full, a log call raising OSError (ENOSPC) inside a request turned the
    response into a plain-text 500 (the problem+json handler failed on its own log line). A lost
    log line is the lesser harm: the request goes on, each failure is counted (`write_failures`),
    and the first of a run of failures is reported once on stderr, with its cause and the path
    but never the line. When a write succeeds again stderr says so, and the next failure is
    reported anew.
    """

    def __init__(self, fd: int, path: Path) -> None:
        self._fd = fd
        self.path = path
        self.failures = 0
        self._failing = False
        # A write cut short left half a line: the next line starts on a line of its own.
        self._torn = False
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        data = text.encode("utf-8")
        with self._lock:
            if self._torn:
                data = b"\n" + data
            view = memoryview(data)
            try:
                # O_APPEND: each os.write lands at the end of the file, after others' lines.
                while view:
                    view = view[os.write(self._fd, view) :]
            except OSError as error:
                self._torn = self._torn or len(view) < len(data)  # the file ends mid-line
                self.failures += 1
                if not self._failing:
                    self._failing = True
                    _to_stderr(
                        f"baomi: cannot write the log {self.path}: {error.strerror or error} "
                        f"(errno {error.errno}); requests go on, further failures are counted"
                    )
                return 0
            self._torn = False
            if self._failing:
                self._failing = False
                _to_stderr(
                    f"baomi: writing the log {self.path} again ({self.failures} lines lost so far)"
                )
        return len(text)

    def flush(self) -> None:
        """Nothing is buffered: each line was handed to the kernel by `write`."""

    def close(self) -> None:
        os.close(self._fd)


def _to_stderr(line: str) -> None:
    # stderr full or closed as well: nothing more can be done.
    with contextlib.suppress(OSError, ValueError):
        print(line, file=sys.stderr, flush=True)


_stream: LogFile | None = None


def log_path(settings: Settings) -> Path:
    return settings.log_dir / LOG_NAME


def write_failures() -> int:
    """How many log lines this process failed to write since `configure`."""
    return _stream.failures if _stream is not None else 0


def configure(settings: Settings) -> Path:
    """Send structlog events to the JSON-lines log file (created 0600 in a 0700 directory)."""
    global _stream
    path = log_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    stream = LogFile(fd, path)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.dict_tracebacks,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
        # WriteLogger only calls write and flush; LogFile has both and never raises.
        logger_factory=structlog.WriteLoggerFactory(file=cast(TextIO, stream)),
        cache_logger_on_first_use=False,
    )
    if _stream is not None:
        _stream.close()
    _stream = stream
    return path


def close() -> None:
    """Close the log file and send structlog back to its defaults (tests; a clean stop)."""
    global _stream
    structlog.reset_defaults()
    if _stream is not None:
        _stream.close()
    _stream = None


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
        # The request id, as the envelope (api/envelope.py) puts it in the request's state; the
        # response's X-Request-ID header is read only when it did not.
        state = scope.setdefault("state", {})
        seen: dict[str, Any] = {"status": 500, "headers": ()}

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
                seen["headers"] = message.get("headers", ())
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            self.log.info(
                "http_request",
                method=scope.get("method"),
                path=scope.get("path"),
                status=seen["status"],
                request_id=state.get("request_id") or _request_id_of(seen["headers"]),
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
            )


def _request_id_of(headers: Any) -> str | None:
    for name, value in headers:
        if name.lower() == b"x-request-id":
            return str(value.decode("latin-1"))
    return None
