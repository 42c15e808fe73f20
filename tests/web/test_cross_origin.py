"""Cross-site request forgery (issue 5 §4): from a page on another origin, post to every
state-changing route of the app, web forms and API alike, while the victim is logged in.

The attacker's page is served by a second server on another port of 127.0.0.1: the same *site*,
so the browser sends the SameSite=Lax session cookie along, and only the CSRF token and the
Origin check stand in the way. Every attempt must be refused, and nothing in the database may
change (the refusals themselves are audited, which is the one thing allowed to grow)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from playwright.sync_api import Page
from sqlalchemy import Engine, select

import baomi.schema  # noqa: F401 - every table registered in the metadata
from baomi.db import metadata
from tests.support.org import PASSWORD
from tests.web.conftest import BROWSER, LiveServer, Watch, web_login
from tests.web.customers_support import FULL_RECORD, events

pytestmark = BROWSER

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# Append-only records of what happened, refusals included; everything else must stay as it was.
AUDIT_TABLES = {"audit_events", "audit_leaves", "audit_tree_nodes", "audit_checkpoints"}
# What a forged form sends: the fields of the app's forms, with a guessed CSRF token.
FORGED_FIELDS = {
    "csrf_token": "forged-token",
    "name": "伪造客户",
    "level": "normal",
    "from_level": "secret",
    "kind": "phone",
    "value": "13912345678",
    "field": "notes",
    "reason_code": "other",
    "reason": "伪造",
    "purpose": "伪造申请",
    "duration_hours": "24",
    "customer_ids": "",
    "occurred_at": "2026-01-01T10:00",
    "channel": "phone",
    "text": "伪造沟通记录",
    "decision": "approve",
    "comment": "伪造",
    "locale": "en",
    "username": "zhangsan",
    "password": PASSWORD,
    "current_password": PASSWORD,
    "new_password": "a-forged-new-password-2026",
    "confirm_password": "a-forged-new-password-2026",
    "otp": "123456",
    "next": "/",
}
# A JSON body smuggled in a text/plain form: {"name":"伪造","x":"="}
JSON_NAME, JSON_VALUE = '{"name":"伪造","x":"', '"}'
_FORM = """([action, enctype, fields]) => {
  const form = document.createElement("form");
  form.method = "post"; form.action = action; form.enctype = enctype;
  for (const [name, value] of Object.entries(fields)) {
    const input = document.createElement("input");
    input.type = "hidden"; input.name = name; input.value = value;
    form.appendChild(input);
  }
  document.body.appendChild(form);
  form.submit();
}"""
_FETCH = """async ([url, method]) => {
  try {
    const r = await fetch(url, {method, credentials: "include",
      headers: {"Content-Type": "application/json"}, body: '{"name": "伪造"}'});
    return "answered " + r.status;
  } catch (e) { return "blocked"; }
}"""


class _AttackerPage(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<!doctype html><title>elsewhere</title><p>another origin</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def attacker() -> Iterator[str]:
    """A second origin: 127.0.0.1 on another port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _AttackerPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    thread.join(10)


def _routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every route of the app, through the routers it includes."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif (inner := getattr(route, "original_router", None)) is not None:
            yield from _routes(inner.routes)


def _snapshot(engine: Engine) -> dict[str, list[str]]:
    with engine.connect() as conn:
        return {
            name: sorted(repr(tuple(row)) for row in conn.execute(select(table)))
            for name, table in metadata.tables.items()
            if name not in AUDIT_TABLES
        }


def _seed(server: LiveServer) -> dict[str, str]:
    """A customer of zhangsan with a communication and a file, through the API."""
    with httpx.Client(base_url=server.url, timeout=20) as api:
        token = api.post(
            "/api/v1/auth/login", json={"username": "zhangsan", "password": PASSWORD}
        ).json()["access_token"]
        api.headers["Authorization"] = f"Bearer {token}"
        customer = api.post("/api/v1/customers", json={"name": "被攻击的客户", **FULL_RECORD})
        customer_id = customer.json()["id"]
        entry = api.post(
            f"/api/v1/customers/{customer_id}/communications",
            json={"occurred_at": "2026-02-03T04:05:06Z", "channel": "phone", "text": "通话"},
        ).json()["id"]
        attachment = api.post(
            f"/api/v1/customers/{customer_id}/communications/{entry}/attachments",
            files={"file": ("a.txt", b"x", "text/plain")},
        ).json()["id"]
    return {"customer_id": customer_id, "communication_id": entry, "attachment_id": attachment}


def _url(server: LiveServer, path: str, ids: dict[str, str]) -> str:
    filled = re.sub(
        r"\{(\w+)\}", lambda m: ids.get(m.group(1), "01a22000-0000-7000-8000-000000000000"), path
    )
    return server.url + filled


def _forge_form(
    page: Page, attacker: str, server: LiveServer, url: str, enctype: str, fields: dict[str, str]
) -> str | None:
    """Submit a forged form from the attacker's page; what the app did, if it did anything.

    Taken: a 2xx answer, or a redirect that sets a cookie (a session, a language). A redirect
    that sets nothing is the app ignoring the post; the database comparison checks the rest."""
    page.goto(attacker)
    with (
        page.expect_navigation(),
        page.expect_response(
            lambda r: r.url.startswith(server.url) and r.request.method == "POST"
        ) as answer,
    ):
        page.evaluate(_FORM, [url, enctype, fields])
    response = answer.value
    cookie = response.header_value("set-cookie")
    if response.status < 300 or (response.status < 400 and cookie):
        return f"{response.status} {cookie or ''}"
    return None


def test_no_state_changing_route_accepts_a_request_from_another_origin(
    page: Page, live_server: LiveServer, watch: Watch, attacker: str
) -> None:
    ids = _seed(live_server)
    web_login(page, live_server, "zhangsan")  # the victim's browser holds a live session
    before = _snapshot(live_server.engine)
    unsafe = sorted(
        {(m, r.path) for r in _routes(live_server.app.routes) for m in r.methods & UNSAFE}
    )
    assert ("POST", "/customers/{customer_id}/reveal") in unsafe
    assert ("DELETE", "/api/v1/customers/{customer_id}") in unsafe
    accepted: list[str] = []
    for method, path in unsafe:
        url = _url(live_server, path, ids)
        if method == "POST":
            attempts = [
                (
                    "urlencoded",
                    _forge_form(
                        page,
                        attacker,
                        live_server,
                        url,
                        "application/x-www-form-urlencoded",
                        FORGED_FIELDS,
                    ),
                ),
                (
                    "multipart",
                    _forge_form(
                        page, attacker, live_server, url, "multipart/form-data", FORGED_FIELDS
                    ),
                ),
                (
                    "json as text",
                    _forge_form(
                        page, attacker, live_server, url, "text/plain", {JSON_NAME: JSON_VALUE}
                    ),
                ),
            ]
            accepted += [f"{method} {path} ({how}): {taken}" for how, taken in attempts if taken]
        else:
            page.goto(attacker)
            outcome = page.evaluate(_FETCH, [url, method])
            if outcome != "blocked":  # the CORS preflight stops the request itself
                accepted.append(f"{method} {path}: {outcome}")
    assert accepted == []
    assert _snapshot(live_server.engine) == before
    # The session cookie went along (same site): the refusals are the CSRF check's, audited.
    forged = events(live_server.engine, "auth:csrf", actor_username="zhangsan", decision="deny")
    assert {e.reason for e in forged} == {"cross_origin"}
    page_posts = [p for m, p in unsafe if m == "POST" and not p.startswith("/api/")]
    assert len(forged) >= len(page_posts)
    assert watch.dialogs == []
