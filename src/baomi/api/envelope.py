"""What every HTTP response carries: a request id, the security headers, `no-store`.

A plain ASGI middleware: it only reads the request line and edits the response's start message.
Starlette's `@app.middleware("http")` (BaseHTTPMiddleware) would run the rest of the app in a
task of its own and stream the body through a memory channel, which cost more per request than
the audited read itself (benchmarks/bench_http.py).
"""

from __future__ import annotations

import os
import threading
from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from baomi.api import problem

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}
_REQUEST_ID = b"x-request-id"
# C4.2.2: customer data must not linger in browser or proxy caches.
_CACHE_CONTROL = (b"cache-control", b"no-store")
_DEFAULTS = tuple(
    (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in SECURITY_HEADERS.items()
)
_REPLACED = frozenset({_REQUEST_ID, _CACHE_CONTROL[0]})


class _FreshIds:
    """Random request ids, 64 bits each, from the OS's source 4 KiB at a time.

    `secrets.token_hex(8)` asked the kernel for every request: a getrandom call, which lets go
    of the GIL and must then take it back from the busy unit-of-work thread (db_group.py).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool = b""
        self._at = 0

    def next(self) -> str:
        with self._lock:
            if self._at >= len(self._pool):
                self._pool, self._at = os.urandom(4096), 0
            drawn = self._pool[self._at : self._at + 8]
            self._at += 8
        return drawn.hex()


_FRESH = _FreshIds()


def request_id(scope: Scope) -> str:
    """The client's X-Request-ID when it is short and printable, else a fresh random one."""
    for name, value in scope["headers"]:
        if name == _REQUEST_ID:
            supplied: str = value.decode("latin-1")
            if 0 < len(supplied) <= 64 and supplied.isprintable():
                return supplied
            break
    return _FRESH.next()


def _with_envelope(headers: Any, rid: bytes) -> list[tuple[bytes, bytes]]:
    out = [(k, v) for k, v in headers if k.lower() not in _REPLACED]
    present = {k.lower() for k, _ in out}
    out.extend(h for h in _DEFAULTS if h[0] not in present)  # a page's own CSP wins
    out.append((_REQUEST_ID, rid))
    out.append(_CACHE_CONTROL)
    return out


class Envelope:
    """Refuse NUL characters in the URL; stamp the request id and headers on every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id(scope)
        scope.setdefault("state", {})["request_id"] = rid
        raw = rid.encode("latin-1")

        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _with_envelope(message.get("headers", ()), raw)
            await send(message)

        query = scope.get("query_string", b"").decode("latin-1")
        if "\x00" in unquote(scope["path"]) or "\x00" in unquote(query):
            refused = problem.problem(
                Request(scope),
                status=400,
                code="nul_character",
                title="Bad request",
                detail="the URL must not contain NUL characters",
            )
            await refused(scope, receive, stamped)
            return
        await self.app(scope, receive, stamped)
