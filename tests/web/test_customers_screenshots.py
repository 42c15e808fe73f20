"""Screenshots of the customer pages in both languages (docs/screenshots/customers-*.png, linked
from the README) — the list, a record masked and after a reveal, the create form with its
messages, 查重 with its one-click request — each also checked by axe-core: no serious or
critical violation in any of those states."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from baomi.customers.vault import Vault
from tests.web.conftest import BROWSER, LiveServer, web_login
from tests.web.customers_support import FULL_RECORD, file_customer
from tests.web.workflows import shoot

pytestmark = BROWSER

AXE_URL = "/static/vendor/axe-core/axe.min.js"
NAMES = (
    "上海晨光贸易有限公司",
    "杭州西湖茶业有限公司",
    "苏州工业园区精密机械厂",
    "南京紫金山软件有限公司",
    "宁波港城物流有限公司",
    "无锡太湖电子有限公司",
    "合肥科学岛仪器有限公司",
    "温州瓯江鞋业有限公司",
)


def _serious(page: Page) -> list[dict[str, Any]]:
    """axe-core, loaded from this origin (the strict CSP allows it), on the page as it stands."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(url=AXE_URL)
    result: dict[str, Any] = page.evaluate(
        "axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa', 'best-practice']})"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def _reveal_all(page: Page) -> None:
    page.get_by_role("link", name="Reveal all masked fields").or_(
        page.get_by_role("link", name="查看全部被遮盖的字段")
    ).click()
    dialog = page.locator("#reveal-dialog")
    dialog.locator("#reveal-purpose").select_option("contract")
    dialog.locator("#reveal-reason-code").select_option("contract_work")
    dialog.locator("#reveal-reason").fill("核对合同条款 / checking the contract")
    dialog.locator("button[type=submit]").click()
    expect(dialog).to_be_hidden()
    expect(page.locator(".revealed-badge").first).to_be_visible()


def _open_reveal_dialog(page: Page) -> None:
    page.locator("#value-id_number .reveal-link").click()
    expect(page.locator("#reveal-dialog")).to_be_visible()


def _bad_form(page: Page) -> None:
    page.locator("#f-name").fill("嘉兴新客户")
    page.locator("#f-source").fill("展会名片")
    page.locator("#f-basis").select_option("consent")
    page.locator("#f-phones").fill("13912345678\n0571-1")
    page.locator("#f-emails").fill("sales@@example")
    page.locator("#f-id_number").fill("91310000MA1FL8TQ37")
    page.locator("#f-purchases-0-date").fill("2026-03-01")
    page.locator("#f-purchases-0-item").fill("服务器")
    page.locator("#f-purchases-0-amount").fill("-1")
    page.locator("form.customer-form button[type=submit]").click()
    expect(page.locator("#form-errors")).to_be_visible()


def _duplicate_form(page: Page) -> None:
    """C4.1.3: filing a customer 查重 finds elsewhere: the handler, and the one-click request."""
    page.locator("#f-name").fill("广州示例")
    page.locator("#f-source").fill("电话拜访")
    page.locator("#f-basis").select_option("contract")
    page.locator("#f-phones").fill("139 1234 5678")
    page.locator("form.customer-form button[type=submit]").click()
    expect(page.locator("#duplicate #access-request-form")).to_be_visible()


def _check(page: Page) -> None:
    page.locator("#check-kind").select_option("phone")
    page.locator("#check-value").fill("13912345678")
    page.locator("#check-form button[type=submit]").click()
    expect(page.locator("#access-request-form")).to_be_visible()


def test_customer_pages_in_both_languages(
    page: Page, live_server: LiveServer, vault: Vault
) -> None:
    engine, org = live_server.engine, live_server.org
    for n, name in enumerate(NAMES):
        level = ("normal", "secret", "normal", "confidential")[n % 4]
        file_customer(
            engine, vault, org, "zhangsan", name=name, level=level, phones=[f"1380013{n:04d}"]
        )
    record = file_customer(
        engine, vault, org, "zhangsan", name="上海示例贸易有限公司", level="secret",
        **{**FULL_RECORD, "phones": ["13800138000"]},
    )  # fmt: skip
    file_customer(
        engine, vault, org, "zhaoliu", name="广州示例贸易有限公司", phones=["13912345678"]
    )
    web_login(page, live_server, "zhangsan")

    states: list[tuple[str, str, Any]] = [
        ("customers-list", "/customers", None),
        ("customers-check", "/customers", _check),
        ("customer-masked", f"/customers/{record}", None),
        ("customer-reveal-dialog", f"/customers/{record}", _open_reveal_dialog),
        ("customer-revealed", f"/customers/{record}", _reveal_all),
        ("customer-form-errors", "/customers/new", _bad_form),
        ("customer-form-duplicate", "/customers/new", _duplicate_form),
    ]
    for name, path, then in states:
        page.goto(path)
        # A modal dialog's backdrop covers the viewport only: shoot what is on screen.
        whole = name != "customer-reveal-dialog"
        shoot(page, name, (lambda step=then: step(page)) if then else None, full_page=whole)
        assert _serious(page) == [], name  # the Chinese page, in the state shown
