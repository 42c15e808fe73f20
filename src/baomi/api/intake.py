"""Request bodies: read only for a live session, never beyond the route's limit, never slowly
(issue 17.1; C4.2.4: no use of the system before authentication).

A plain ASGI middleware, like api/envelope.py, in front of every route:

* Authentication before the body. A request with a body to any route but the few open before
  login (`OPEN_ROUTES`: login, activation, the language switch) must present a bearer token or
  a session cookie naming a live session, looked up by the secret's hash as
  `deps.resolve_actor` does. Without one, the app gets the request *without its body* (empty,
  no Content-Type) and refuses it as it refuses any request without a session: 401
  problem+json for the API (audited, sampled: deps.py), the login page for a page. The answer
  is decided in one place; this only decides that the body is never read. Before this, a
  300 MiB JSON body without a token was read and parsed first: the server's peak memory went
  from 157 MB to 1,056 MB before it answered 401.
* A limit per route: `Limits.body_bytes` (1 MiB), `upload_bytes` for the routes that take a
  file (`UPLOAD_ROUTES`), and at most `OPEN_BODY_BYTES` on the open routes, whose forms are
  small. A larger Content-Length is refused at once, 413 `payload_too_large`; a chunked body is
  counted as it arrives and cut off at the limit, so no more than the limit is ever held.
* Time: a body that sends nothing for `stall_seconds`, or is not complete `total_seconds`
  (`upload_total_seconds`) after it began, is cut off: 408 `body_timeout`. A client announcing
  100 MiB and sending 1 KiB used to hold its connection for as long as it liked.

A refusal ends the connection (`Connection: close`): the rest of the body is never read. If the
app was already reading, it is told the client left and whatever it answers is dropped.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from baomi import clock
from baomi.api import problem
from baomi.auth import browser, sessions
from baomi.auth.sessions import Kind, Lifetimes
from baomi.config import Settings
from baomi.errors import BaomiError, BodyTimeout, PayloadTooLarge
from baomi.uow import unit_of_work

# The routes that take a body before login: the marked exceptions (tests/test_request_bodies.py
# checks that they are exactly the routes with a body and without an actor).
OPEN_ROUTES = frozenset(
    {
        "/api/v1/auth/login",
        "/api/v1/auth/browser-login",
        "/api/v1/auth/activate",
        "/login",
        "/login/otp",
        "/login/unlock",
        "/language",
        "/activate",
    }
)
# Their bodies are a name, a password, a code, a few hidden fields: far below this, even with
# every character percent-encoded.
OPEN_BODY_BYTES = 32 * 1024
# The routes that take a file (customers/timeline.py stores at most MAX_ATTACHMENT_BYTES of it);
# the test checks that every route with a file parameter is here.
UPLOAD_ROUTES = (
    re.compile(r"/api/v1/customers/[^/]+/communications/[^/]+/attachments"),
    re.compile(r"/customers/[^/]+/communications"),
)

_DISCONNECT: Message = {"type": "http.disconnect"}
_EMPTY: Message = {"type": "http.request", "body": b"", "more_body": False}
_CLOSE = (b"connection", b"close")
# Headers that describe the body; a request passed on without its body loses them.
_BODY_HEADERS = frozenset({b"content-length", b"content-type", b"transfer-encoding"})


@dataclass(frozen=True, slots=True)
class Limits:
    """How large a request body may be and how long it may take, per kind of route."""

    body_bytes: int
    upload_bytes: int
    stall_seconds: float
    total_seconds: float
    upload_total_seconds: float

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            body_bytes=settings.body_max_bytes,
            upload_bytes=settings.upload_max_bytes,
            stall_seconds=settings.body_stall_seconds,
            total_seconds=settings.body_total_seconds,
            upload_total_seconds=settings.upload_total_seconds,
        )

    def of(self, path: str) -> tuple[int, float]:
        """The largest body (bytes) and the longest time to send it (seconds) on `path`."""
        if path in OPEN_ROUTES:
            return min(self.body_bytes, OPEN_BODY_BYTES), self.total_seconds
        if any(route.fullmatch(path) for route in UPLOAD_ROUTES):
            return self.upload_bytes, self.upload_total_seconds
        return self.body_bytes, self.total_seconds


def _framing(scope: Scope) -> tuple[bool, int | None]:
    """Whether the request has a body, and the Content-Length it announces (None: chunked)."""
    length: int | None = None
    for name, value in scope["headers"]:
        if name == b"transfer-encoding":
            return True, None
        if name == b"content-length":
            try:
                length = int(value)
            except ValueError:
                return True, None  # the server refuses such a request; count what comes
    return bool(length), length


def presented(scope: Scope) -> tuple[str, Kind] | None:
    """The session secret a request presents, read as `deps.resolve_actor` reads it: the bearer
    token, else the browser's session cookie."""
    request = Request(scope)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip(), Kind.API
    cookie = browser.session_secret_from(request)
    return (cookie, Kind.BROWSER) if cookie else None


class Intake:
    """Read a request's body only for a live session, within its route's limits (see above)."""

    def __init__(
        self, app: ASGIApp, *, engine: Engine, limits: Limits, lifetimes: Lifetimes
    ) -> None:
        self.app = app
        self.engine = engine
        self.limits = limits
        self.lifetimes = lifetimes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        has_body, length = _framing(scope)
        if not has_body:
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path not in OPEN_ROUTES and not await self._live_session(scope):
            # The app refuses it (401, the login page) as a request without a session.
            await self.app(_without_body(scope), _withheld(receive), _closing(send))
            return
        most, seconds = self.limits.of(path)
        if length is not None and length > most:
            await _answer(scope, send, _too_large(most))
            return
        guard = _Guard(scope, receive, send, most=most, limits=self.limits, seconds=seconds)
        try:
            await self.app(scope, guard.receive, guard.send)
        except Exception:
            # The app, told the client left, may fail over it: the client has its answer.
            if guard.refusal is None:
                raise

    async def _live_session(self, scope: Scope) -> bool:
        secret = presented(scope)
        if secret is None:
            return False
        try:
            return await run_in_threadpool(self._is_live, *secret)
        except SQLAlchemyError:
            # A fault beneath the request: the app meets it too and answers it (faults.py).
            return False

    def _is_live(self, secret: str, kind: Kind) -> bool:
        with unit_of_work(self.engine) as conn:
            found = sessions.look_up(
                conn, secret=secret, kind=kind, lifetimes=self.lifetimes, now=clock.utcnow()
            )
        return found.status is sessions.Status.LIVE


def _too_large(most: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"the request body may be at most {most} bytes on this route")


async def _answer(scope: Scope, send: Send, error: BaomiError) -> None:
    """Refuse the request as problem+json and end the connection (the body stays unread)."""
    response = problem.problem(
        Request(scope),
        status=error.status,
        code=error.code,
        title=error.title,
        detail=error.detail,
        headers={"Connection": "close"},
    )
    await send(
        {
            "type": "http.response.start",
            "status": response.status_code,
            "headers": response.raw_headers,
        }
    )
    await send({"type": "http.response.body", "body": response.body})


def _without_body(scope: Scope) -> Scope:
    headers = [(k, v) for k, v in scope["headers"] if k not in _BODY_HEADERS]
    return {**scope, "headers": headers}


def _withheld(receive: Receive) -> Receive:
    """An empty body; after it, only the client leaving is passed on (body bytes are dropped)."""
    given = False

    async def empty() -> Message:
        nonlocal given
        if not given:
            given = True
            return _EMPTY
        while (message := await receive())["type"] != "http.disconnect":
            pass
        return message

    return empty


def _closing(send: Send) -> Callable[[Message], Awaitable[None]]:
    async def closing(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", ()), _CLOSE]
        await send(message)

    return closing


class _Guard:
    """One request's body as it arrives: counted, timed, cut off at the route's limits."""

    def __init__(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        *,
        most: int,
        limits: Limits,
        seconds: float,
    ) -> None:
        self.scope = scope
        self._receive = receive
        self._send = send
        self.most = most
        self.stall = limits.stall_seconds
        self.seconds = seconds
        self.deadline = asyncio.get_running_loop().time() + seconds
        self.received = 0
        self.complete = False
        self.started = False
        self.refusal: BaomiError | None = None

    async def receive(self) -> Message:
        if self.refusal is not None:
            return _DISCONNECT
        if self.complete:
            return await self._receive()  # the app listening for the client to leave
        left = self.deadline - asyncio.get_running_loop().time()
        try:
            async with asyncio.timeout(max(0.0, min(self.stall, left))):
                message = await self._receive()
        except TimeoutError:
            if left <= self.stall:
                detail = f"the request body took longer than {self.seconds:g} seconds"
            else:
                detail = f"the request body stalled for {self.stall:g} seconds"
            return await self._refuse(BodyTimeout(detail))
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.most:
                return await self._refuse(_too_large(self.most))
            self.complete = not message.get("more_body", False)
        return message

    async def send(self, message: Message) -> None:
        if self.refusal is not None:
            return  # the client has had its answer
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)

    async def _refuse(self, error: BaomiError) -> Message:
        """Answer the client (unless the app already began to) and tell the app it left."""
        self.refusal = error
        if not self.started:
            await _answer(self.scope, self._send, error)
        return _DISCONNECT
