"""The data-subject request pages (issue 12 item 4) in Chromium, Chinese first: record a
request, see it listed with its due date, download the access copy, answer it; screenshots."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from baomi.customers.vault import Vault
from tests.web.conftest import BROWSER, LiveServer, Watch, csp_violations, web_login
from tests.web.customers_support import file_customer
from tests.web.workflows import shoot

pytestmark = BROWSER


def test_record_answer_and_copy_a_subject_request(
    page: Page, live_server: LiveServer, vault: Vault, watch: Watch
) -> None:
    engine, org = live_server.engine, live_server.org
    customer_id = file_customer(
        engine, vault, org, "zhangsan", name="王小明", phones=["13800138000"]
    )
    web_login(page, live_server, "zhangsan")
    page.goto("/subject-requests")
    expect(page.get_by_role("heading", name="主体请求")).to_be_visible()
    page.get_by_label("客户编号").fill(customer_id)
    page.locator("#identity-method").select_option("known_contact")
    page.locator("#identity-note").fill("回拨 13800138000 核实")  # an identifier: refused
    page.get_by_role("button", name="登记请求").click()
    expect(page.locator("#identity_note-error")).to_contain_text("此文字不加密")
    page.locator("#identity-note").fill("回拨档案电话核实本人")
    page.get_by_role("button", name="登记请求").click()
    expect(page.get_by_role("heading", name="查阅复制")).to_be_visible()
    expect(page.get_by_text("待处理")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="下载个人信息副本（PDF）").click()
    assert download.value.suggested_filename.endswith(".pdf")
    shoot(page, "subject-request")
    page.locator("#outcome").fill("已寄送个人信息副本")
    page.get_by_role("button", name="保存答复").click()
    expect(page.get_by_text("已完成")).to_be_visible()
    page.goto("/subject-requests")
    expect(page.locator("table tbody tr")).to_have_count(1)
    shoot(page, "subject-requests")
    assert csp_violations(page) == []
