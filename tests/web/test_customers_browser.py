"""The customer pages in Chromium: htmx paging, search and filters that swap only the results,
the reveal dialog with its one-time code step (C4.2.4, C4.3.2), and the create form's messages
next to their fields (C4.1.1)."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from baomi.customers.vault import Vault
from tests.web.conftest import (
    BROWSER,
    LiveServer,
    Watch,
    csp_violations,
    one_time_code,
    web_login,
)
from tests.web.customers_support import (
    FULL_RECORD,
    FakeClock,
    events,
    file_customer,
    moved_clock_fixture,  # noqa: F401 - the moved_clock fixture
)

pytestmark = BROWSER


def test_paging_search_and_filters_swap_only_the_results(
    page: Page, live_server: LiveServer, vault: Vault, watch: Watch
) -> None:
    engine, org = live_server.engine, live_server.org
    for i in range(55):
        file_customer(
            engine, vault, org, "zhangsan", name=f"宁波客户{i:02d}", phones=[f"1370000{i:04d}"]
        )
    file_customer(engine, vault, org, "zhangsan", name="温州秘密客户", level="secret")
    web_login(page, live_server, "zhangsan")
    page.goto("/customers")
    page.evaluate("window.__samePage = true")  # survives only if htmx swaps, not a reload
    results = page.locator("#customer-results")
    expect(results).to_contain_text("共 56 个客户")
    expect(results.locator("tbody tr")).to_have_count(50)

    results.get_by_role("link", name="下一页").click()
    expect(results.locator("tbody tr")).to_have_count(6)
    expect(results.locator(".pager-current")).to_have_text("2")

    page.locator("#size").select_option("20")
    expect(results.locator("tbody tr")).to_have_count(20)
    expect(results).to_contain_text("第 1 页，共 3 页")

    page.locator("#q").fill("1370000004")  # phone substring, typed: searched as you type
    expect(results.locator("tbody tr")).to_have_count(10)
    expect(results).to_contain_text("有 10 个客户与“1370000004”匹配")

    page.locator("#q").fill("")
    page.locator("#level").select_option("secret")
    expect(results.locator("tbody tr")).to_have_count(1)
    expect(results).to_contain_text("温州秘密客户")
    assert page.evaluate("window.__samePage === true")
    assert csp_violations(page) == [] and watch.console_errors == []


def test_confidential_reveal_dialog_asks_for_the_code_and_retries(
    page: Page, live_server: LiveServer, vault: Vault, watch: Watch, moved_clock: FakeClock
) -> None:
    engine, org = live_server.engine, live_server.org
    customer_id = file_customer(
        engine, vault, org, "zhangsan", name="上海机密客户", level="confidential", **FULL_RECORD
    )
    web_login(page, live_server, "wangwu")
    moved_clock.advance(minutes=11)  # past the step-up window of the login's code
    page.goto(f"/customers/{customer_id}")
    notes = page.locator("#value-notes")
    expect(notes).to_contain_text("******")
    notes.get_by_role("link", name="查看").click()
    dialog = page.locator("#reveal-dialog")
    expect(dialog).to_be_visible()
    dialog.locator("#reveal-purpose").select_option("contract")
    dialog.locator("#reveal-reason-code").select_option("complaint")
    dialog.locator("#reveal-reason").fill("处理投诉")
    dialog.get_by_role("button", name="查看").click()
    otp = dialog.locator("#reveal-otp")
    expect(otp).to_be_visible()
    expect(otp).to_be_focused()
    expect(dialog.locator("#reveal-reason")).to_have_value("处理投诉")  # nothing lost
    otp.fill(one_time_code(live_server, "wangwu"))
    dialog.get_by_role("button", name="验证并查看").click()
    expect(dialog).to_be_hidden()
    expect(notes).to_contain_text(FULL_RECORD["notes"])
    assert [e.decision for e in events(engine, "auth:step_up")] == ["allow"]
    page.reload()
    expect(page.locator("#value-notes")).not_to_contain_text(FULL_RECORD["notes"])
    assert csp_violations(page) == [] and watch.dialogs == []


def test_create_form_puts_the_message_next_to_the_field(
    page: Page, live_server: LiveServer, watch: Watch
) -> None:
    web_login(page, live_server, "zhangsan")
    page.goto("/customers/new")
    page.locator("#f-name").fill("嘉兴新客户")
    page.locator("#f-source").fill("展会名片")  # C4.1.1: stated, never preset
    page.locator("#f-basis").select_option("contract")
    page.locator("#f-phones").fill("13912345678\n0571-1")
    page.locator("#f-id_number").fill("91310000MA1FL8TQ37")
    page.locator("#f-notes").fill("保留的备注")
    page.get_by_role("button", name="保存客户").click()
    phones_error = page.locator("#phones-error")
    expect(phones_error).to_have_text("第 2 项：不是有效的电话号码（大陆号码可省略 +86）。")
    expect(page.locator("#f-phones")).to_have_attribute(
        "aria-describedby", "phones-help phones-error"
    )
    expect(page.locator("#id_number-error")).to_contain_text("校验位或格式有误")
    expect(page.locator("#f-notes")).to_have_value("保留的备注")
    expect(page.locator("#form-errors")).to_contain_text("有 2 处问题")
    page.locator("#f-phones").fill("13912345678")
    page.locator("#f-id_number").fill("91310000MA1FL8TQ36")
    page.get_by_role("button", name="保存客户").click()
    expect(page.locator(".notice")).to_have_text("客户已录入。")
    expect(page.locator("h1")).to_contain_text("嘉兴新客户")
    assert csp_violations(page) == [] and watch.dialogs == []
