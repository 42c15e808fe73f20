"""Accessibility of every key page (issue 5): the vendored axe-core runs in Chromium on login,
home, the customer list and a customer, access, audit, the officer's and the administrator's
pages and my account, with their forms in the error state too: no serious or critical violation.

axe is loaded from this origin (/static/vendor/axe-core), which the strict CSP allows, so the
pages are checked exactly as they are served: no CSP bypass.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from baomi.access.schemas import AccessRequestIn
from baomi.access.service import create_request
from baomi.audit.context import CLI_CONTEXT
from baomi.customers.vault import Vault
from baomi.uow import unit_of_work
from tests.support.org import actor
from tests.web.conftest import BROWSER, LiveServer, web_login
from tests.web.workflows import make_customer

pytestmark = BROWSER

AXE_URL = "/static/vendor/axe-core/axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def violations(page: Page) -> list[dict[str, Any]]:
    """The serious and critical axe findings on the page as it stands."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(url=AXE_URL)
    result: dict[str, Any] = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def check(page: Page, path: str | None = None) -> None:
    if path is not None:
        page.goto(path)
    page.wait_for_load_state("networkidle")
    found = violations(page)
    assert found == [], f"{page.url}: {found}"


def test_axe_runs_and_would_catch_a_violation(page: Page, live_server: LiveServer) -> None:
    """The check itself works: an image without a text alternative is found (critical)."""
    page.goto("/login")
    page.evaluate(
        "() => { const i = document.createElement('img'); i.src = 'data:,'; "
        "document.querySelector('main').appendChild(i); }"
    )
    assert [v["id"] for v in violations(page)] == ["image-alt"]


def test_login_page(page: Page, live_server: LiveServer) -> None:
    check(page, "/login")
    page.locator("#username").fill("zhangsan")
    page.locator("#password").fill("wrong password")
    page.locator("form[action='/login'] button[type=submit]").click()
    expect(page.locator("[role=alert]")).to_be_visible()
    check(page)


def test_activation_page(page: Page, live_server: LiveServer) -> None:
    """三员分立: where a person sets their own password, and its refusal."""
    check(page, "/activate")
    page.locator("#username").fill("zhangsan")
    page.locator("#code").fill("WRONG-CODE")
    page.locator("#password").fill("a-long-passphrase-2026")
    page.locator("#repeat").fill("a-long-passphrase-2026")
    page.locator("form[action='/activate'] button[type=submit]").click()
    expect(page.locator("[role=alert]")).to_be_visible()
    check(page)


def test_salesperson_pages(page: Page, live_server: LiveServer, vault: Vault) -> None:
    """Home, the customer list, a customer, access (with a grant and a form in error), account."""
    engine, org = live_server.engine, live_server.org
    own = make_customer(
        engine, vault, org, "zhangsan", name="上海晨光贸易有限公司", phones=["13812345678"]
    )
    other = make_customer(engine, vault, org, "zhaoliu")
    web_login(page, live_server, "zhangsan")
    for path in ("/", "/customers", f"/customers/{own}", "/account"):
        check(page, path)
    page.goto(f"/access?customer={other}")
    page.locator("#purpose-code").select_option("follow_up")
    page.locator("#processing-purpose").select_option("contract")
    page.locator("#purpose-text").fill("回访")
    page.locator("form[action='/access/requests'] button[type=submit]").click()
    expect(page.locator(".notice")).to_be_visible()
    check(page)
    page.locator("input[name=scope][value=fields]").check()
    page.locator("form[action='/access/requests'] button[type=submit]").click()
    expect(page.locator(".field-error").first).to_be_visible()
    check(page)


def test_approver_access_page(page: Page, live_server: LiveServer, vault: Vault) -> None:
    engine, org = live_server.engine, live_server.org
    customer = make_customer(engine, vault, org, "zhaoliu")
    zhangsan = actor(engine, org, "zhangsan")
    with unit_of_work(engine) as conn:
        create_request(
            conn,
            actor=zhangsan,
            ctx=CLI_CONTEXT,
            request_in=AccessRequestIn(
                purpose_code="contract",
                customer_ids=[customer],
                fields=["phones", "purchases"],
                purpose="[contract] 年度合同报价",
                duration_hours=72,
            ),
            mail=False,
            vault=vault,
        )
    web_login(page, live_server, "sunqi")
    check(page, "/access")
    expect(page.locator("#to-approve .request-card")).to_have_count(1)


def test_auditor_pages(page: Page, live_server: LiveServer) -> None:
    web_login(page, live_server, "shenji")
    check(page, "/audit")
    page.locator("form[action='/audit/verify'] button").click()
    expect(page.locator(".verification-result")).to_be_visible()
    check(page)
    check(page, "/audit?since=not-a-day")


def test_security_officer_pages(page: Page, live_server: LiveServer) -> None:
    web_login(page, live_server, "baomiyuan")
    for path in (
        "/",
        "/security",
        "/security/levels",
        "/security/accounts",
        "/security/account-changes",
        "/security/keys",
    ):
        check(page, path)


def test_administrator_pages(page: Page, live_server: LiveServer) -> None:
    web_login(page, live_server, "admin")
    for path in ("/", "/admin", "/admin/departments", "/admin/roles"):
        check(page, path)
    page.goto("/admin")
    page.locator("#user-username").fill("Bad Name")
    page.locator("#add-user input[name=roles][value=auditor]").check()
    page.locator("#add-user input[name=roles][value=administrator]").check()
    page.locator("form[action='/admin/users'] button[type=submit]").click()
    expect(page.locator("#user-roles-error")).to_be_visible()
    check(page)
