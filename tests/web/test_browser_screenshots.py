"""Screenshots of the foundation's pages in both languages (docs/screenshots/, linked from the
README), and an axe-core accessibility check of the same pages: no serious or critical
violations (WCAG 2.1 AA rules of axe, vendored under vendor/axe-core)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from baomi.web.i18n import LANGUAGE_COOKIE
from tests.web.activity import seed
from tests.web.conftest import BROWSER, SCREENSHOTS, LiveServer, fill_login, web_login
from tests.web.workflows import make_customer, shoot

pytestmark = BROWSER

ACTIVITY = {
    ("zhangsan", 13): (4, 0),
    ("zhangsan", 9): (7, 1),
    ("zhangsan", 6): (5, 2),
    ("zhangsan", 2): (9, 1),
    ("zhangsan", 0): (3, 0),
    ("lisi", 12): (2, 0),
    ("lisi", 8): (6, 3),
    ("lisi", 5): (4, 0),
    ("lisi", 1): (8, 2),
    ("qianba", 7): (3, 1),
    ("qianba", 3): (5, 0),
    ("qianba", 0): (2, 0),
}


def serious_violations(page: Page) -> list[dict[str, Any]]:
    """Run the vendored axe-core in the page (loaded from this origin: the CSP allows it)."""
    page.add_script_tag(url="/static/vendor/axe-core/axe.min.js")
    result: dict[str, Any] = page.evaluate(
        "axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'best-practice']})"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_login_pages(page: Page, live_server: LiveServer) -> None:
    page.goto("/login")
    assert serious_violations(page) == []
    shoot(page, "login")
    page.context.add_cookies([{"name": LANGUAGE_COOKIE, "value": "zh_CN", "url": live_server.url}])
    page.goto("/login")
    fill_login(page, "wangwu")
    expect(page.locator("#otp")).to_be_visible()
    assert serious_violations(page) == []
    page.screenshot(path=str(SCREENSHOTS / "login-code.zh_CN.png"), full_page=True)


def test_home_and_account_pages(page: Page, live_server: LiveServer, vault: object) -> None:
    names = ("上海晨光贸易有限公司", "杭州西湖茶业有限公司", "苏州工业园区精密机械厂")
    for n, name in enumerate(names):
        # One phone each: a second record with another's phone would be refused (C4.1.3).
        make_customer(
            live_server.engine,
            vault,
            live_server.org,
            "wangwu",
            name=name,
            phones=[f"1391234560{n}"],
        )  # type: ignore[arg-type]
    seed(live_server.engine, live_server.org, ACTIVITY)
    web_login(page, live_server, "wangwu")
    expect(page.locator("#chart-per-day")).to_be_visible()
    assert serious_violations(page) == []
    shoot(page, "home")
    page.goto("/account")
    assert serious_violations(page) == []
    shoot(page, "account")


@pytest.mark.settings(web_idle_lock_seconds=1)
def test_lock_screen(page: Page, live_server: LiveServer, vault: object) -> None:
    """C4.2.4: the blurred page behind the password prompt, and the lock page after a reload."""
    make_customer(live_server.engine, vault, live_server.org, "zhangsan")  # type: ignore[arg-type]
    web_login(page, live_server, "zhangsan")
    expect(page.locator("#lock-dialog")).to_be_visible(timeout=5000)
    assert serious_violations(page) == []
    page.screenshot(path=str(SCREENSHOTS / "lock.zh_CN.png"))
    page.context.add_cookies([{"name": LANGUAGE_COOKIE, "value": "en", "url": live_server.url}])
    page.reload()
    expect(page.locator("h1")).to_have_text("Screen locked")
    page.screenshot(path=str(SCREENSHOTS / "lock-page.en.png"))
