"""Issue 17.1: request bodies are read only for a live session (C4.2.4), within their route's
size and time limits (api/intake.py).

Three ways in, each for what it shows best: the app called straight through ASGI with a body
that counts what is read of it (nothing, without a session: both backends); the app under
uvicorn in a thread, over real HTTP, for the limits and the timeouts; the app in a process of
its own for its peak memory when sent 300 MiB without a token.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from baomi.api import deps
from baomi.api.intake import OPEN_BODY_BYTES, OPEN_ROUTES, UPLOAD_ROUTES, Limits
from baomi.app import create_app
from baomi.audit.runner import create_log_key
from baomi.audit.settings import AuditSettings
from baomi.auth import browser
from baomi.config import Settings
from baomi.crypto.keys import KeyProvider, LocalKeyFileProvider
from baomi.customers.vault import Vault
from tests.support import raw_http, server_process
from tests.support.api import create_customer, login
from tests.support.clock import move_clock
from tests.support.org import Org

MiB = 1024 * 1024
SQLITE = pytest.mark.parametrize("backend", ["sqlite"])
PROBLEM_JSON = "application/problem+json"


# --- The app called straight through ASGI: what it reads of a body ------------------------


@dataclass
class Called:
    status: int
    headers: dict[str, str]
    body: bytes
    read: int  # body bytes the app took from the server

    @property
    def code(self) -> str:
        return str(json.loads(self.body)["code"])


def _call(
    app: FastAPI,
    path: str,
    headers: dict[str, str],
    *,
    size: int = 8 * MiB,
    piece: int = 64 * 1024,
    announce: bool = True,
) -> Called:
    """POST `size` bytes to `path` as a server would hand them over, counting what is read."""
    raw = [(b"host", b"127.0.0.1:8000")]
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    framing = (b"content-length", str(size).encode()) if announce else None
    raw.append(framing or (b"transfer-encoding", b"chunked"))
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": raw,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    read = 0
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal read
        if read >= size:
            await asyncio.sleep(3600)  # the client is still there, sending nothing more
        take = min(piece, size - read)
        read += take
        return {"type": "http.request", "body": b"x" * take, "more_body": read < size}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    asyncio.run(asyncio.wait_for(app(scope, receive, send), 30))
    start = next(m for m in messages if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return Called(
        status=start["status"],
        headers={k.decode(): v.decode() for k, v in start["headers"]},
        body=body,
        read=read,
    )


JSON = {"Content-Type": "application/json"}


def test_an_api_request_without_a_session_is_refused_before_its_body_is_read(
    app: FastAPI,
) -> None:
    """C4.2.4: no token, a made-up token: 401, and not one byte of the 8 MiB was read."""
    for headers, code in (
        (JSON, "not_authenticated"),
        ({**JSON, "Authorization": "Bearer made-up"}, "invalid_token"),
    ):
        called = _call(app, "/api/v1/customers", headers)
        assert (called.status, called.code, called.read) == (401, code, 0)
        assert called.headers["content-type"] == PROBLEM_JSON
        assert called.headers["connection"] == "close"  # the rest is never read either
        assert called.headers["x-request-id"]  # refused inside the envelope


def test_a_timed_out_session_sends_no_body_either(
    app: FastAPI, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A session past its idle time (C4.2.4) is no session: 401 session_expired, nothing read."""
    headers = {**JSON, **login(client, "zhangsan")}
    move_clock(monkeypatch, datetime.now(UTC) + timedelta(minutes=16))
    called = _call(app, "/api/v1/customers", headers)
    assert (called.status, called.code, called.read) == (401, "session_expired", 0)


def test_a_page_form_without_a_session_goes_to_login_unread(app: FastAPI) -> None:
    """A page's form: the session cookie is checked before the form (and its file) is read."""
    for cookie in ({}, {"Cookie": f"{browser.LOOPBACK_COOKIE_NAME}=made-up"}):
        headers = {"Content-Type": "multipart/form-data; boundary=x", "Accept": "text/html"}
        called = _call(app, "/customers/some-id/communications", {**headers, **cookie})
        assert (called.status, called.read) == (303, 0)
        assert called.headers["location"].startswith("/login")


def test_a_chunked_body_is_cut_off_at_the_limit(app: FastAPI, client: TestClient) -> None:
    """No Content-Length: the body is counted as it comes and refused past 1 MiB, having read
    no more than the limit and one piece."""
    headers = {**JSON, **login(client, "zhangsan")}
    called = _call(app, "/api/v1/customers", headers, announce=False)
    assert (called.status, called.code) == (413, "payload_too_large")
    assert called.read <= MiB + 64 * 1024


def test_a_content_length_over_the_limit_is_refused_at_once(
    app: FastAPI, client: TestClient
) -> None:
    headers = {**JSON, **login(client, "zhangsan")}
    called = _call(app, "/api/v1/customers", headers, size=100 * MiB)
    assert (called.status, called.code, called.read) == (413, "payload_too_large", 0)
    assert called.headers["content-type"] == PROBLEM_JSON
    # Open routes (login) take small bodies only.
    called = _call(app, "/api/v1/auth/login", JSON, size=OPEN_BODY_BYTES + 1)
    assert (called.status, called.code, called.read) == (413, "payload_too_large", 0)


def test_bodies_within_the_limits_go_through(client: TestClient) -> None:
    """1 MiB for an ordinary body; an attachment may be larger (its own limit)."""
    headers = login(client, "zhangsan")
    created = create_customer(client, headers, notes="备注")
    base = f"/api/v1/customers/{created['id']}"
    entry = client.post(
        f"{base}/communications",
        json={"occurred_at": "2026-11-01T10:00:00+08:00", "channel": "visit", "text": "拜访"},
        headers=headers,
    )
    assert entry.status_code == 201, entry.text
    payload = bytes(range(256)) * (2 * MiB // 256)  # 2 MiB: over the ordinary limit
    upload = client.post(
        f"{base}/communications/{entry.json()['id']}/attachments",
        files={"file": ("报价单.bin", payload, "application/octet-stream")},
        headers=headers,
    )
    assert upload.status_code == 201, upload.text
    assert upload.json()["size_bytes"] == len(payload)


# --- Which routes are open, which take files ----------------------------------------------


def _calls(dependant: Any) -> set[Any]:
    found: set[Any] = set()
    for sub in dependant.dependencies:
        found |= {sub.call, *_calls(sub)}
    return found


def _routes(app: FastAPI) -> Iterator[APIRoute]:
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute):
            yield context.original_route


def test_the_open_routes_are_exactly_those_with_a_body_and_no_actor(app: FastAPI) -> None:
    """Deny by default: a new route with a body and no session would be found here."""
    open_with_body = set()
    for route in _routes(app):
        unit = getattr(route, "unit", None)
        actor = (unit is not None and unit.needs_actor) or deps.current_actor in _calls(
            route.dependant
        )
        if route.dependant.body_params and not actor:
            open_with_body.add(route.path)
    assert open_with_body == OPEN_ROUTES


def test_every_route_taking_a_file_has_the_upload_limit(app: FastAPI) -> None:
    taking_files = [
        route.path
        for route in _routes(app)
        if any("File" in type(p.field_info).__name__ for p in route.dependant.body_params)
    ]
    assert len(taking_files) == 2
    limits = Limits.from_settings(Settings(home=Path("/nonexistent")))
    for path in taking_files:
        sample = path.replace("{customer_id}", "c1").replace("{communication_id}", "e1")
        assert any(route.fullmatch(sample) for route in UPLOAD_ROUTES), path
        assert limits.of(sample) == (51 * MiB, 900.0)
    assert limits.of("/api/v1/customers") == (MiB, 60.0)


# --- Over real HTTP: limits and timeouts --------------------------------------------------


@dataclass
class Served:
    port: int
    token: dict[str, str]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(
    engine: Engine, vault: Vault, database: tuple[str, Org], tmp_path: Path
) -> Iterator[Served]:
    """The app under uvicorn in a thread, with short body timeouts and a 3 MiB upload limit."""
    settings = Settings(
        home=tmp_path / "home",
        database_url=database[0],
        body_stall_seconds=1.0,
        body_total_seconds=3.0,
        upload_max_bytes=3 * MiB,
    )
    create_log_key(AuditSettings(home=settings.home))
    app = create_app(settings=settings, engine=engine, vault=vault)
    token = login(TestClient(app), "zhangsan")
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    yield Served(port=port, token=token)
    server.should_exit = True
    thread.join(10)


@SQLITE
def test_a_client_announcing_100_mib_is_answered_at_once(served: Served) -> None:
    """It used to hold the connection for as long as it liked, sending 1 KiB."""
    for headers, status in (({**JSON, **served.token}, 413), (JSON, 401)):
        answer = raw_http.send(
            served.port,
            "/api/v1/customers",
            [b"x" * 1024],
            headers=headers,
            content_length=100 * MiB,
            timeout=10,
        )
        assert answer.status == status
        assert answer.seconds < 1.0
        assert answer.headers["connection"] == "close"


@SQLITE
def test_a_stalled_body_times_out(served: Served) -> None:
    """Content-Length 1000, 10 bytes sent, then nothing: 408 after the stall time (1 s here)."""
    answer = raw_http.send(
        served.port,
        "/api/v1/customers",
        [b'{"name": "'],
        headers={**JSON, **served.token},
        content_length=1000,
        timeout=10,
    )
    assert (answer.status, answer.json()["code"]) == (408, "body_timeout")
    assert answer.headers["content-type"] == PROBLEM_JSON
    assert 1.0 <= answer.seconds < 3.0


@SQLITE
def test_a_trickling_body_times_out_at_the_deadline(served: Served) -> None:
    """Never stalling for long, but not done 3 s after it began: 408."""

    def trickle() -> Iterator[bytes]:
        for _ in range(40):
            yield b" " * 10
            time.sleep(0.3)

    answer = raw_http.send(
        served.port,
        "/api/v1/customers",
        trickle(),
        headers={**JSON, **served.token},
        content_length=400,
        timeout=10,
    )
    assert (answer.status, answer.json()["code"]) == (408, "body_timeout")
    assert 3.0 <= answer.seconds < 5.0


@SQLITE
def test_an_upload_is_cut_off_at_its_own_limit(served: Served) -> None:
    """A chunked upload past its limit (3 MiB here) is refused while it streams."""
    boundary = "b0undary"
    opening = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()

    def body() -> Iterator[bytes]:
        yield opening
        for _ in range(256):  # 64 MiB
            yield b"\0" * (256 * 1024)
        yield f"\r\n--{boundary}--\r\n".encode()

    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", **served.token}
    answer = raw_http.send(
        served.port, "/api/v1/customers/c1/communications/e1/attachments", body(), headers=headers
    )
    assert (answer.status, answer.json()["code"]) == (413, "payload_too_large")
    assert answer.sent < 32 * MiB  # answered while it was still sending


# --- In a process of its own: peak memory -------------------------------------------------


@SQLITE
def test_300_mib_without_a_token_cost_the_server_no_memory(
    database: tuple[str, Org], key_provider: KeyProvider, tmp_path: Path
) -> None:
    """The issue's finding: a 300 MiB JSON body without a token was read and parsed before the
    401. Measured by this test before the fix: the peak (VmHWM) went from 154 MB to 1,632 MB
    over its two requests. Now neither body is read: the peak grows by 0.0 MB, and each client
    is answered before it has sent a quarter of its body."""
    assert isinstance(key_provider, LocalKeyFileProvider)
    home = tmp_path / "server-home"
    home.mkdir()
    server = server_process.start(home, database[0], key_provider.path)
    try:
        for _ in range(3):  # warm up: the first requests allocate what every request reuses
            warm = raw_http.send(server.port, "/api/v1/customers", [b"{}"], headers=JSON)
            assert warm.status == 401
        before = server.status("VmHWM")
        size = 300 * MiB
        unsigned = raw_http.send(
            server.port, "/api/v1/customers", raw_http.json_of_size(size), headers=JSON
        )
        made_up = raw_http.send(
            server.port,
            "/api/v1/customers",
            raw_http.json_of_size(size),
            headers={**JSON, "Authorization": "Bearer made-up"},
            content_length=size,
        )
        grown_kb = server.status("VmHWM") - before
        print(f"\npeak memory before {before / 1024:.0f} MB, grown by {grown_kb / 1024:.1f} MB")
        assert grown_kb < 10 * 1024
        assert (unsigned.status, unsigned.json()["code"]) == (401, "not_authenticated")
        assert (made_up.status, made_up.json()["code"]) == (401, "invalid_token")
        assert unsigned.sent < size // 4 and made_up.sent < size // 4
    finally:
        server_process.stop(server)
