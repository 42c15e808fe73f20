"""Issue 5, end to end in Chromium: zhangsan logs in, searches, opens a customer, reveals a field
with a reason (C4.3.2), finds a 华南 customer by 查重 (C4.1.3) and asks for access (C4.3.1);
sunqi (MFA) approves on the access page; zhangsan now sees the customer; shenji (the auditor)
sees the events and no customer data (C4.2.1, 三员分立)."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from baomi.customers.vault import Vault
from tests.web.conftest import BROWSER, VIEWPORT, LiveServer, Watch, csp_violations, web_login
from tests.web.customers_support import FULL_RECORD, events, file_customer

pytestmark = BROWSER

OWN_NAME = "杭州示例科技有限公司"
OTHER_NAME = "广州示例贸易有限公司"
OTHER_PHONE = "13912345678"
OTHER_FORMS = (OTHER_PHONE, "139 1234 5678", "139****5678", "+8613912345678")


def _person(chromium: Browser, live_server: LiveServer, watch: Watch, people: list[Page]) -> Page:
    """A page in a fresh browser profile, watched for dialogs and console errors."""
    ctx = chromium.new_context(
        base_url=live_server.url,
        viewport=VIEWPORT,  # type: ignore[arg-type]
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )
    ctx.set_default_timeout(10_000)
    page = ctx.new_page()
    page.on("console", lambda m: watch.console_errors.append(m.text) if m.type == "error" else None)
    page.on("dialog", lambda d: (watch.dialogs.append(d.message), d.dismiss()))
    people.append(page)
    return page


def test_search_reveal_check_request_approve_see_and_audit(
    chromium: Browser, live_server: LiveServer, vault: Vault
) -> None:
    engine, org = live_server.engine, live_server.org
    own_id = file_customer(engine, vault, org, "zhangsan", name=OWN_NAME, **{
        **FULL_RECORD, "phones": ["13800138111"], "emails": ["own@example.com"],
        "id_number": "11010519491231002X", "contacts": [],
    })  # fmt: skip
    other_id = file_customer(
        engine, vault, org, "zhaoliu", name=OTHER_NAME, phones=[OTHER_PHONE], level="normal"
    )
    watch = Watch()
    people: list[Page] = []
    zhangsan = _person(chromium, live_server, watch, people)
    try:
        # 1. zhangsan logs in and searches inside what he may see.
        web_login(zhangsan, live_server, "zhangsan")
        zhangsan.goto("/customers")
        expect(zhangsan.locator("#customer-results")).to_contain_text(OWN_NAME)
        expect(zhangsan.locator("#customer-results")).not_to_contain_text(OTHER_NAME)
        zhangsan.locator("#q").fill("杭州示例")
        zhangsan.locator("#customer-search button[type=submit]").click()
        expect(zhangsan.locator("#customer-results")).to_contain_text("有 1 个客户与“杭州示例”匹配")

        # 2. He opens the customer: the ID number is masked; he reveals it with a reason.
        zhangsan.get_by_role("link", name=OWN_NAME).click()
        zhangsan.wait_for_url(f"**/customers/{own_id}")
        id_value = zhangsan.locator("#value-id_number")
        expect(id_value).to_contain_text("1101**********002X")
        expect(zhangsan.locator(".watermark")).to_have_attribute("data-watermark", "zhangsan")
        id_value.get_by_role("link", name="查看").click()
        dialog = zhangsan.locator("#reveal-dialog")
        expect(dialog).to_be_visible()
        dialog.locator("#reveal-purpose").select_option("contract")
        dialog.locator("#reveal-reason-code").select_option("customer_contact")
        dialog.locator("#reveal-reason").fill("回电确认订单")
        dialog.get_by_role("button", name="查看").click()
        expect(dialog).to_be_hidden()
        expect(id_value).to_contain_text("11010519491231002X")
        expect(id_value).to_contain_text("已显示")

        # 3. 查重 finds the 华南 customer: exists, handled by 赵六 of 华南销售部; one click asks.
        zhangsan.goto("/customers")
        zhangsan.locator("#check-kind").select_option("phone")
        zhangsan.locator("#check-value").fill(OTHER_PHONE)
        zhangsan.locator("#check-form button[type=submit]").click()
        answer = zhangsan.locator("#check-result")
        expect(answer).to_contain_text("这个客户已存在")
        expect(answer).to_contain_text("赵六")
        expect(answer).to_contain_text("华南销售部")
        expect(answer).not_to_contain_text(OTHER_NAME)
        expect(zhangsan.locator("#ask-purpose")).to_have_value("跟进查重发现的客户")
        zhangsan.locator("#ask-purpose-code").select_option("contract")
        answer.get_by_role("button", name="申请访问").click()
        expect(answer).to_contain_text("访问申请已提交")
        expect(answer).to_contain_text("孙七")

        # 4. sunqi, head of 华南 (TOTP), approves on the access page.
        sunqi = _person(chromium, live_server, watch, people)
        web_login(sunqi, live_server, "sunqi")
        sunqi.goto("/access")
        decision = sunqi.locator("form.decision-form").first
        decision.get_by_role("button", name=re.compile("批准|Approve")).click()
        sunqi.wait_for_url(re.compile(r"/access\?done=approved"))
        assert events(engine, "grant:create", customer_id=other_id)

        # 5. zhangsan now sees the customer in his list and opens it.
        zhangsan.goto("/customers")
        expect(zhangsan.locator("#customer-results")).to_contain_text(OTHER_NAME)
        zhangsan.get_by_role("link", name=OTHER_NAME).click()
        expect(zhangsan.locator("h1")).to_contain_text(OTHER_NAME)
        expect(zhangsan.locator(".page-lead")).to_contain_text("通过访问授权")

        # 6. shenji, the auditor, sees the events and no customer data anywhere.
        shenji = _person(chromium, live_server, watch, people)
        web_login(shenji, live_server, "shenji")
        seen = []
        for path in (
            "/",
            "/audit",
            "/audit?action=customer:reveal",
            "/audit?action=customer:check",
            f"/audit?customer_id={other_id}",
        ):
            shenji.goto(path)
            seen.append(shenji.content())
        assert "customer:reveal" in seen[2] or "查看敏感字段" in seen[2]
        assert own_id in seen[2] and other_id in seen[4]
        text = "\n".join(seen)
        for secret in (OWN_NAME, OTHER_NAME, "11010519491231002X", "13800138111", *OTHER_FORMS):
            assert secret not in text, secret
        assert shenji.goto("/customers").status == 403  # C4.2.1: no customer pages at all
        assert csp_violations(zhangsan) == [] and csp_violations(sunqi) == []
    finally:
        for person in people:
            person.context.close()
    assert watch.dialogs == []
    assert [m for m in watch.console_errors if "403" not in m] == []
