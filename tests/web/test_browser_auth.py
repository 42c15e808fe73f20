"""Logging in and out in a real browser (Chromium), with the strict CSP in force (C4.2.4)."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.support.org import PASSWORD
from tests.web.conftest import (
    BROWSER,
    LiveServer,
    Watch,
    csp_violations,
    fill_login,
    one_time_code,
    web_login,
)
from tests.web.workflows import make_customer

pytestmark = BROWSER

EXPECTED_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def test_password_only_user_logs_in(page: Page, live_server: LiveServer, watch: Watch) -> None:
    response = page.goto("/")
    assert response is not None
    expect(page).to_have_url(re.compile(r"/login$"))
    fill_login(page, "zhangsan")
    expect(page).to_have_url(live_server.url + "/")
    expect(page.locator("h1")).to_have_text("张三，你好")
    expect(page.locator("nav.mainnav")).to_contain_text("我的账户")
    assert csp_violations(page) == [] and watch.csp_errors() == []


def test_mfa_user_logs_in_with_the_code(page: Page, live_server: LiveServer) -> None:
    page.goto("/login?next=/account")
    fill_login(page, "wangwu")
    otp = page.locator("#otp")
    expect(otp).to_be_focused()
    otp.fill(one_time_code(live_server, "wangwu"))
    page.get_by_role("button", name="验证").click()
    expect(page).to_have_url(live_server.url + "/account")
    expect(page.locator("h1")).to_have_text("我的账户")


def test_wrong_password_gets_a_generic_error_and_keeps_the_name(page: Page) -> None:
    page.goto("/login")
    fill_login(page, "zhangsan", "not-the-password")
    expect(page.get_by_role("alert")).to_have_text("用户名或密码错误。")
    expect(page.locator("#username")).to_have_value("zhangsan")
    expect(page.locator("#password")).to_be_focused()
    page.goto("/login")
    fill_login(page, "nobody-at-all", "not-the-password")
    expect(page.get_by_role("alert")).to_have_text("用户名或密码错误。")


def test_logout_then_back_button_shows_nothing(
    page: Page, live_server: LiveServer, vault: object
) -> None:
    """Cache-Control: no-store and a session ended on the server: going back after logout
    shows the login page, not the customer list that was there (C4.2.2, C4.2.4)."""
    make_customer(live_server.engine, vault, live_server.org, "zhangsan")  # type: ignore[arg-type]
    web_login(page, live_server, "zhangsan")
    page.goto("/account")
    page.goto("/")
    expect(page.locator("#my-customers-title")).to_be_visible()
    assert "深圳绝密电子有限公司" in page.content()
    page.get_by_role("button", name="退出").first.click()
    expect(page).to_have_url(re.compile(r"/login\?logged_out=1$"))
    expect(page.get_by_role("status")).to_have_text("你已退出登录。")
    page.go_back()
    page.wait_for_load_state()
    expect(page).to_have_url(re.compile(r"/login"))
    assert "深圳绝密电子有限公司" not in page.content()
    page.go_back()
    page.wait_for_load_state()
    assert "深圳绝密电子有限公司" not in page.content()


@pytest.mark.parametrize("path", ["/", "/account", "/account/mfa"])
def test_every_page_redirects_to_login_when_logged_out(
    page: Page, live_server: LiveServer, path: str
) -> None:
    page.goto(path)
    expected = "/login" if path == "/" else f"/login?next={path}"
    expect(page).to_have_url(live_server.url + expected)
    expect(page.locator("#username")).to_be_visible()


def test_csp_header_on_every_page_and_no_violations(
    page: Page, live_server: LiveServer, watch: Watch
) -> None:
    login = page.goto("/login")
    assert login is not None
    assert login.headers["content-security-policy"] == EXPECTED_CSP
    assert login.headers["cache-control"] == "no-store"
    web_login(page, live_server, "wangwu")
    for path in ("/", "/account", "/account/mfa"):
        response = page.goto(path)
        assert response is not None and response.status == 200
        assert response.headers["content-security-policy"] == EXPECTED_CSP
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
    # htmx swaps (ending a session) run under the same policy.
    assert csp_violations(page) == []
    assert watch.csp_errors() == [], watch.console_errors
    assert watch.dialogs == []


def test_session_cookie_is_http_only(
    context: BrowserContext, page: Page, live_server: LiveServer
) -> None:
    web_login(page, live_server, "zhangsan")
    [cookie] = [c for c in context.cookies() if c["name"] == "baomi_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert page.evaluate("document.cookie").find("baomi_session") == -1


@pytest.mark.settings(login_free_failures=12, login_lockout_failures=10)
def test_a_strangers_guesses_do_not_lock_the_officer_out(
    chromium: Browser, context: BrowserContext, page: Page, live_server: LiveServer
) -> None:
    """Issue 17.7 (C4.2.4): ten wrong passwords against the officer's name lock the account
    for browsers it does not know, never for the officer's own; a new browser unlocks it with
    the password and a code. (No back-off before the lock here, to reach it at once.)"""
    web_login(page, live_server, "baomiyuan")
    for n in range(10):
        guess = {"username": "baomiyuan", "password": f"stranger-guess-{n}"}
        refused = httpx.post(f"{live_server.url}/api/v1/auth/login", json=guess)
        assert refused.status_code == 401
    web_login(page, live_server, "baomiyuan")  # the known browser: not held back
    expect(page.locator("nav.mainnav")).to_be_visible()
    [device] = [c for c in context.cookies() if c["name"] == "baomi_device"]
    assert device["httpOnly"] and device["sameSite"] == "Strict"
    other = chromium.new_context(base_url=live_server.url, locale="zh-CN")
    try:
        fresh = other.new_page()
        fresh.goto("/login")
        fill_login(fresh, "baomiyuan")
        expect(fresh.get_by_role("alert")).to_contain_text("已被锁定")
        fresh.locator("#unlock-password").fill(PASSWORD)
        fresh.locator("#unlock-otp").fill(one_time_code(live_server, "baomiyuan"))
        fresh.get_by_role("button", name="解锁并登录").click()
        expect(fresh).to_have_url(live_server.url + "/")
        assert csp_violations(fresh) == []
    finally:
        other.close()
