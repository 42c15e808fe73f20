"""The home page per role, the watermark, my account and the idle lock, in Chromium."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select

from baomi.audit.context import CLI_CONTEXT
from baomi.auth import sessions
from baomi.auth.models import sessions as session_table
from baomi.auth.models import web_screen_locks
from baomi.auth.sessions import EndReason
from baomi.uow import unit_of_work
from tests.support.org import PASSWORD
from tests.web.activity import seed
from tests.web.conftest import BROWSER, VIEWPORT, LiveServer, Watch, csp_violations, web_login
from tests.web.workflows import SECRET_NAME, make_customer

pytestmark = BROWSER

NEW_PASSWORD = "lantern-harbour-quietly-47"


def _second_browser(chromium: Browser, server: LiveServer) -> BrowserContext:
    """Another device of the same person: its own cookies, English by its browser."""
    return chromium.new_context(base_url=server.url, viewport=VIEWPORT, locale="en-US")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("username", "sees", "not_sees"),
    [
        ("zhangsan", ["#my-customers-title", "#my-grants-title"], ["#chart-per-day"]),
        ("wangwu", ["#my-customers-title", "#chart-per-day", "#chart-per-person"], []),
        ("baomiyuan", ["#to-approve-title", "#chart-per-day"], ["#my-customers-title"]),
        ("shenji", ["#audit-title"], ["#my-customers-title", "#chart-per-day"]),
        ("admin", ["#org-title"], ["#my-customers-title", "#chart-per-day"]),
    ],
)
def test_home_per_role(
    page: Page, live_server: LiveServer, username: str, sees: list[str], not_sees: list[str]
) -> None:
    web_login(page, live_server, username)
    for selector in sees:
        expect(page.locator(selector)).to_be_visible()
    for selector in not_sees:
        expect(page.locator(selector)).to_have_count(0)


def test_head_charts_show_counts_with_a_text_alternative(
    page: Page, live_server: LiveServer
) -> None:
    """C3.2: the head's daily view, drawn on the server, readable without the picture."""
    seed(live_server.engine, live_server.org, {("zhangsan", 1): (6, 2), ("lisi", 0): (3, 1)})
    web_login(page, live_server, "wangwu")
    chart = page.locator("#chart-per-person")
    expect(chart.locator("svg[role=img] desc")).to_contain_text("最活跃：张三，共 8 次")
    expect(chart.locator("rect.chart-bar-access")).to_have_count(3)
    chart.get_by_text("查看数据表").click()
    expect(chart.get_by_role("row", name=re.compile("张三"))).to_contain_text("6")


def test_watermark_names_the_viewer_and_never_takes_a_click(
    page: Page, live_server: LiveServer, vault: object
) -> None:
    """C4.3.2: the viewer's name, username and the time over the customer data."""
    make_customer(live_server.engine, vault, live_server.org, "zhangsan")  # type: ignore[arg-type]
    web_login(page, live_server, "zhangsan")
    expect(page.get_by_text(SECRET_NAME)).to_be_visible()
    mark = page.locator(".watermark")
    expect(mark).to_be_attached()
    assert mark.locator("text").first.text_content() == "张三 · zhangsan"
    assert re.search(
        r"\d{4}/\d{1,2}/\d{1,2} \d{1,2}:\d{2}", mark.locator("text").nth(1).text_content() or ""
    )
    style = page.evaluate(
        "() => { const s = getComputedStyle(document.querySelector('.watermark'));"
        " return [s.position, s.pointerEvents, s.zIndex]; }"
    )
    assert style == ["fixed", "none", "900"]
    # It lies over the page and yet the link under it works.
    page.get_by_role("link", name="我的账户").click()
    expect(page).to_have_url(live_server.url + "/account")
    # Printed too (C4.3.2): under print media the watermark is still displayed.
    page.emulate_media(media="print")
    assert (
        page.evaluate("getComputedStyle(document.querySelector('.watermark')).display") == "block"
    )


def test_language_switch_persists_per_user(
    page: Page, live_server: LiveServer, chromium: Browser
) -> None:
    web_login(page, live_server, "zhangsan")
    page.goto("/account")
    page.get_by_label("English").check()
    page.get_by_role("button", name="保存语言").click()
    expect(page.get_by_role("status")).to_have_text("Language saved.")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    # A new browser that prefers Chinese still gets English after login: stored per user.
    other = chromium.new_context(base_url=live_server.url, viewport=VIEWPORT, locale="zh-CN")  # type: ignore[arg-type]
    try:
        second = other.new_page()
        web_login(second, live_server, "zhangsan")
        expect(second.locator("h1")).to_have_text("Hello, 张三")
        second.goto("/account")
        second.get_by_label("简体中文").check()
        second.get_by_role("button", name="Save language").click()
        expect(second.get_by_role("status")).to_have_text("语言已保存。")
    finally:
        other.close()
    page.goto("/")
    expect(page.locator("h1")).to_have_text("张三，你好")


def test_password_change_ends_other_sessions(
    page: Page, live_server: LiveServer, chromium: Browser
) -> None:
    other = _second_browser(chromium, live_server)
    try:
        laptop = other.new_page()
        web_login(laptop, live_server, "lisi")
        web_login(page, live_server, "lisi")
        page.goto("/account")
        page.get_by_label("当前密码").fill(PASSWORD)
        page.get_by_label("新密码", exact=True).fill(NEW_PASSWORD)
        page.get_by_label("再次输入新密码").fill(NEW_PASSWORD)
        page.get_by_role("button", name="修改密码").click()
        expect(page.get_by_role("status")).to_have_text("密码已修改，你的其他会话均已结束。")
        laptop.reload()
        expect(laptop).to_have_url(re.compile(r"/login"))
    finally:
        other.close()


def test_end_a_session_from_the_account_page(
    page: Page, live_server: LiveServer, chromium: Browser, watch: Watch
) -> None:
    """htmx ends the other session and swaps the table in place (CSRF header from baomi.js)."""
    other = _second_browser(chromium, live_server)
    try:
        phone = other.new_page()
        web_login(phone, live_server, "zhangsan")
        web_login(page, live_server, "zhangsan")
        page.goto("/account")
        rows = page.locator("#sessions tbody tr")
        expect(rows).to_have_count(2)
        page.locator("#sessions tbody tr:not(.current)").get_by_role("button").click()
        expect(page.locator("#sessions").get_by_role("status")).to_have_text("该会话已结束。")
        expect(rows).to_have_count(1)
        expect(page).to_have_url(live_server.url + "/account")  # swapped, not reloaded
        phone.reload()
        expect(phone).to_have_url(re.compile(r"/login"))
        assert csp_violations(page) == [] and watch.csp_errors() == []
    finally:
        other.close()


@pytest.mark.settings(web_idle_lock_seconds=2)
def test_idle_lock_blurs_and_unlocks(page: Page, live_server: LiveServer, vault: object) -> None:
    """C4.2.4: no input for the idle time → blurred, password asked; the server keeps it."""
    make_customer(live_server.engine, vault, live_server.org, "zhangsan")  # type: ignore[arg-type]
    web_login(page, live_server, "zhangsan")
    dialog = page.locator("#lock-dialog")
    expect(dialog).to_be_visible(timeout=6000)
    expect(page.locator("body")).to_have_class(re.compile("is-locked"))
    blur = page.evaluate("getComputedStyle(document.querySelector('main')).filter")
    assert blur.startswith("blur(")
    expect(page.locator("#lock-password")).to_be_focused()
    page.keyboard.press("Escape")  # cannot be dismissed
    expect(dialog).to_be_visible()
    page.locator("#lock-password").fill("not-my-password")
    page.get_by_role("button", name="解锁").click()
    expect(page.locator("#lock-error")).to_have_text("密码不正确。")
    # Reloading does not lift the lock: the server shows only the lock screen.
    page.reload()
    expect(page).to_have_url(re.compile(r"/lock"))
    assert SECRET_NAME not in page.content()
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="解锁").click()
    expect(page).to_have_url(live_server.url + "/")
    expect(page.get_by_text(SECRET_NAME)).to_be_visible()
    # The dialog's own unlock works as well, without leaving the page.
    expect(dialog).to_be_visible(timeout=6000)
    page.locator("#lock-password").fill(PASSWORD)
    page.get_by_role("button", name="解锁").click()
    expect(dialog).to_be_hidden()
    assert "is-locked" not in (page.locator("body").get_attribute("class") or "")


@pytest.mark.settings(web_idle_lock_seconds=2)
def test_idle_lock_on_an_expired_session_goes_to_the_expired_page(
    page: Page, live_server: LiveServer
) -> None:
    web_login(page, live_server, "zhangsan")
    expect(page.locator("#lock-dialog")).to_be_visible(timeout=6000)
    # The browser tells the server it locked; end the session only once the server knows, or
    # the lock request would arrive for an ended session (a flaky failure under load, issue 19).
    _wait_for_the_server_lock(live_server)
    with unit_of_work(live_server.engine) as conn:
        sessions.end_all(
            conn,
            ctx=CLI_CONTEXT,
            user_id=live_server.org.user_ids["zhangsan"],
            reason=EndReason.IDLE,
            by=None,
        )
    page.locator("#lock-password").fill(PASSWORD)
    page.get_by_role("button", name="解锁").click()
    expect(page).to_have_url(re.compile(r"/session-expired"))
    expect(page.locator("h1")).to_have_text("会话已过期")


def _wait_for_the_server_lock(server: LiveServer, seconds: float = 15.0) -> None:
    """Wait until the server holds a screen lock (C4.2.4) for one of zhangsan's sessions."""
    user_id = server.org.user_ids["zhangsan"]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with server.engine.connect() as conn:
            held = conn.execute(
                select(web_screen_locks.c.session_id)
                .join(session_table, session_table.c.id == web_screen_locks.c.session_id)
                .where(session_table.c.user_id == user_id)
            ).first()
        if held is not None:
            return
        time.sleep(0.05)
    raise AssertionError("the server never recorded the screen lock")
