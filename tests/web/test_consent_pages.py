"""The consent section of a customer's page (issue 12.1, C4.1.2, C4.3.4), in Chinese first.

Forms over HTTP on SQLite and PostgreSQL: the filing basis shows, a consent is recorded with
what was ticked, a refused one keeps the choices and says why, and a withdrawal is written on
the record (which stays). In Chromium: the section and the reveal dialog's purpose, with
screenshots in both languages.
"""

from __future__ import annotations

from fastapi import FastAPI
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from baomi.customers.vault import Vault
from tests.support.org import Org
from tests.web.conftest import LiveServer, csp_violations, web_login
from tests.web.customers_support import file_customer
from tests.web.forms import browser, login, page_token
from tests.web.workflows import shoot


def test_record_and_withdraw_a_consent_through_the_page(
    app: FastAPI, engine: Engine, vault: Vault, org: Org
) -> None:
    customer_id = file_customer(engine, vault, org, "zhangsan", name="宁波同意甲公司")
    with browser(app) as client:
        login(client, "zhangsan")
        html = client.get(f"/customers/{customer_id}").text
        assert "同意与处理依据" in html and "订立或履行合同" in html  # the filing basis
        token = page_token(client, f"/customers/{customer_id}")
        refused = client.post(
            f"/customers/{customer_id}/consents",
            data={"csrf_token": token, "purposes": "marketing", "method": "written"},
        )
        assert refused.status_code == 422
        # Nothing is lost: the ticked purpose stays ticked; the missing scope is named.
        assert 'value="marketing" checked' in refused.text
        assert 'id="consents"' in refused.text
        recorded = client.post(
            f"/customers/{customer_id}/consents",
            data={
                "csrf_token": token,
                "purposes": ["marketing", "service"],
                "scope": "identity",
                "method": "recorded_call",
                "given_at": "2026-11-20",
            },
        )
        assert recorded.status_code == 303, recorded.text
        shown = client.get(recorded.headers["location"]).text
        assert "已记录同意。" in shown and "产品营销" in shown and "通话录音" in shown
        withdraw = shown.split('action="/customers/' + customer_id + "/consents/")[1]
        consent_id = withdraw.split("/withdraw", 1)[0]
        done = client.post(
            f"/customers/{customer_id}/consents/{consent_id}/withdraw",
            data={"csrf_token": token, "channel": "wechat"},
        )
        assert done.status_code == 303
        after = client.get(done.headers["location"]).text
        assert "已撤回" in after and "微信" in after


def test_the_head_records_consents_too(
    app: FastAPI, engine: Engine, vault: Vault, org: Org
) -> None:
    customer_id = file_customer(engine, vault, org, "zhangsan")
    with browser(app) as client:
        login(client, "wangwu")  # the head of 华东 may edit its customers: the form is there
        html = client.get(f"/customers/{customer_id}").text
        assert "登记同意" in html and f'action="/customers/{customer_id}/consents"' in html


def test_consents_and_the_reveal_purpose_in_chromium(
    page: Page, live_server: LiveServer, vault: Vault
) -> None:
    engine, org = live_server.engine, live_server.org
    customer_id = file_customer(
        engine, vault, org, "zhangsan", name="杭州同意乙公司", phones=["13912345699"]
    )
    web_login(page, live_server, "zhangsan")
    page.goto(f"/customers/{customer_id}#consents")
    section = page.locator("#consents")
    expect(section).to_contain_text("同意与处理依据")
    page.locator("#consents summary").click()
    page.locator("#consents input[name=purposes][value=marketing]").check()
    page.locator("#consents input[name=scope][value=identity]").check()
    page.locator("#consents button[type=submit].button-primary").click()
    expect(page.locator(".notice")).to_contain_text("已记录同意")
    expect(section.locator("tbody tr")).to_have_count(2)
    shoot(page, "customer-consents")
    # The reveal dialog states the purpose the consents must cover.
    page.goto(f"/customers/{customer_id}")
    page.locator(".reveal-link").first.click()
    expect(page.locator("#reveal-purpose")).to_be_visible()
    page.locator("#reveal-purpose").select_option("marketing")
    assert csp_violations(page) == []
