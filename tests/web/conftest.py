"""The web UI's test harness: the real app served by uvicorn on a free loopback port against
the test database, driven by Debian's Chromium through Playwright's Python API.

Never `playwright install`: the browser is /usr/bin/chromium (`.ci/run` installs it with the
CJK fonts). One browser per test session (per xdist worker), a new context per test. Browser
tests run on SQLite only (each module sets `pytestmark = BROWSER`, which also puts them in one
xdist group so that they share a worker and its browser); the HTTP-level page tests run on both
backends through the ordinary `app` fixture.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, sync_playwright
from sqlalchemy import Engine

from baomi.app import create_app
from baomi.audit.runner import create_log_key
from baomi.audit.settings import AuditSettings
from baomi.config import Settings
from baomi.customers.vault import Vault
from tests.support.org import PASSWORD, TOTP_SECRETS, Org
from tests.support.totp import unused_code

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 860}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

# Browser tests: SQLite only, all on one xdist worker (one browser).
BROWSER = [pytest.mark.xdist_group("browser"), pytest.mark.parametrize("backend", ["sqlite"])]

# Collects Content-Security-Policy violations in the page (the init script runs outside the
# page's CSP, through the DevTools protocol).
_CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || ""));
});
"""


@dataclass
class LiveServer:
    url: str
    app: FastAPI
    engine: Engine
    org: Org


@dataclass
class Watch:
    """What a test's pages said on the console, and which dialogs they opened."""

    console_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def csp_errors(self) -> list[str]:
        return [m for m in self.console_errors if "Content Security Policy" in m]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "settings(**values): Settings of the live server")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """One headless Chromium for the session (Debian's binary, never a downloaded one)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def server_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Settings for the live server; a test changes them with @pytest.mark.settings(...)."""
    marker = request.node.get_closest_marker("settings")
    return dict(marker.kwargs) if marker else {}


@pytest.fixture
def live_server(
    engine: Engine,
    vault: Vault,
    database: tuple[str, Org],
    tmp_path: Path,
    server_settings: dict[str, Any],
) -> Iterator[LiveServer]:
    """The real app on 127.0.0.1:<free port>, in a thread, against this test's database."""
    settings = Settings(home=tmp_path / "home", database_url=database[0], **server_settings)
    create_log_key(AuditSettings(home=settings.home))  # as `baomi init` does (C1.3)
    app = create_app(settings=settings, engine=engine, vault=vault)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    yield LiveServer(url=f"http://127.0.0.1:{port}", app=app, engine=engine, org=database[1])
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def context(chromium: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    """A fresh browser profile per test (no cookies, no storage), Chinese by default."""
    ctx = chromium.new_context(
        base_url=live_server.url,
        viewport=VIEWPORT,  # type: ignore[arg-type]
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )
    ctx.set_default_timeout(10_000)
    ctx.add_init_script(_CSP_LISTENER)
    yield ctx
    ctx.close()


@pytest.fixture
def watch() -> Watch:
    return Watch()


@pytest.fixture
def page(context: BrowserContext, watch: Watch) -> Page:
    """A page whose console errors and dialogs are collected in `watch`."""
    new = context.new_page()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            watch.console_errors.append(message.text)

    new.on("console", on_console)
    new.on("dialog", lambda dialog: (watch.dialogs.append(dialog.message), dialog.dismiss()))
    return new


def one_time_code(server: LiveServer, username: str) -> str:
    """A TOTP code not used yet on this server, else the next unused recovery code."""
    return unused_code(("live", server.url), username)


def fill_login(page: Page, username: str, password: str = PASSWORD) -> None:
    """Fill and send step one of the login form (the page must show it)."""
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.locator("form[action='/login'] button[type=submit]").click()


def web_login(page: Page, server: LiveServer, username: str, password: str = PASSWORD) -> None:
    """Log in through the form as a browser user would, with the code for MFA accounts."""
    page.goto("/login")
    fill_login(page, username, password)
    if username in TOTP_SECRETS:
        page.locator("#otp").fill(one_time_code(server, username))
        page.locator("form[action='/login/otp'] button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)


def csp_violations(page: Page) -> list[str]:
    violations: list[str] = page.evaluate("window.__cspViolations || []")
    return violations
