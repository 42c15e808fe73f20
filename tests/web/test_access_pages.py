"""The access pages (C4.3.1, C2.2, C4.2.1): over HTTP on SQLite and PostgreSQL, and in Chromium.

A salesperson asks from the form, the head decides from the page, the grant shows with its time
left and can be ended early; approvers never see customer data; the wrong roles get 403.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import Engine, select

from baomi.access import queries
from baomi.access.level_change import request_level_change
from baomi.access.queries import ListRole
from baomi.access.schemas import LevelChangeIn
from baomi.audit.context import CLI_CONTEXT
from baomi.audit.models import audit_events
from baomi.customers.service import get as get_customer
from baomi.customers.vault import Vault
from baomi.errors import NotFound
from baomi.grants.service import list_own_grants
from baomi.uow import unit_of_work
from tests.support.org import Org
from tests.support.org import actor as load_actor
from tests.web.conftest import LiveServer, csp_violations, web_login
from tests.web.forms import browser, csrf_token, login
from tests.web.workflows import SECRET_NAME, SECRET_PHONE, make_customer, shoot


def _events(engine: Engine, action: str) -> list[tuple[str, str, str | None]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(audit_events.c.decision, audit_events.c.reason, audit_events.c.actor_username)
            .where(audit_events.c.action == action)
            .order_by(audit_events.c.id)
        )
        return [(r.decision, r.reason, r.actor_username) for r in rows]


def _request_form(token: str, customer_id: str, **changes: str) -> dict[str, str]:
    return {
        "csrf_token": token,
        "customer_ids": customer_id,
        "scope": "record",
        "purpose_code": "contract",
        "processing_purpose": "contract",
        "purpose_text": "续签年度框架合同的报价",
        "duration_hours": "24",
        **changes,
    }


def _only_request(engine: Engine, org: Org, username: str) -> str:
    with engine.connect() as conn:
        mine = queries.list_requests(
            conn, actor=load_actor(engine, org, username), role=ListRole.MINE
        )
    assert len(mine) == 1
    return mine[0].id


@pytest.mark.parametrize(
    ("username", "status"),
    [("zhangsan", 200), ("wangwu", 200), ("baomiyuan", 200), ("shenji", 403), ("admin", 403)],
)
def test_access_page_opens_for_customer_work_and_approvals_only(
    app: FastAPI, engine: Engine, username: str, status: int
) -> None:
    """C4.2.1, 三员分立: the auditor and the administrator have no business here."""
    with browser(app) as client:
        login(client, username)
        home = client.get("/").text
        response = client.get("/access")
    assert response.status_code == status
    assert ('href="/access"' in home) is (status == 200)  # the menu shows what opens
    if status == 403:
        assert "你的角色无权访问此页面" in response.text
        assert _events(engine, "page:open") == [("deny", "role_lacks_permission", username)]
    elif username == "baomiyuan":
        # The officer approves (officer slots) but holds no customer data: no request form.
        assert 'action="/access/requests"' not in response.text
        assert 'id="to-approve"' in response.text


def test_request_approve_grant_and_revoke_over_http(
    app: FastAPI, engine: Engine, vault: Vault, org: Org
) -> None:
    """C4.3.1 end to end: ask (prefilled from a link), approve with a comment, use, end early."""
    customer_id = make_customer(engine, vault, org, "zhaoliu")  # 华南, 普通: sunqi approves
    with browser(app) as zhang, browser(app) as sun:
        login(zhang, "zhangsan")
        form = zhang.get(f"/access?customer={customer_id}")
        assert f">{customer_id}</textarea>" in form.text
        sent = zhang.post(
            "/access/requests", data=_request_form(csrf_token(form.text), customer_id)
        )
        assert sent.status_code == 303
        assert sent.headers["location"] == "/access?done=requested#mine"
        mine = zhang.get("/access?done=requested").text
        assert "申请已发送给审批人" in mine
        assert "等待审批" in mine and "续签年度框架合同的报价" in mine and "报价或合同" in mine

        login(sun, "sunqi")
        waiting = sun.get("/access").text
        request_id = _only_request(engine, org, "zhangsan")
        assert f'action="/access/requests/{request_id}/decision"' in waiting
        assert "张三" in waiting and "普通" in waiting and "整条记录" in waiting
        # Approvers see ids, level, scope and purpose: never the customer's data.
        assert SECRET_NAME not in waiting and SECRET_PHONE not in waiting
        decided = sun.post(
            f"/access/requests/{request_id}/decision",
            data={
                "csrf_token": csrf_token(waiting),
                "decision": "approve",
                "comment": "同意，一天",
            },
        )
        assert decided.status_code == 303
        assert "没有待你处理的事项" in sun.get("/access?done=approved").text

        after = zhang.get("/access").text
        assert "已批准" in after and "同意，一天" in after
        zhangsan = load_actor(engine, org, "zhangsan")
        with engine.connect() as conn:
            (grant,) = list_own_grants(conn, actor=zhangsan)
        assert grant.customer_id == customer_id and grant.fields is None
        assert f'action="/access/grants/{grant.id}/revoke"' in after
        assert re.search(r"23 小时|1 天", after)  # time left, in words
        with unit_of_work(engine) as conn:  # the grant opens the record (C4.2.1)
            seen = get_customer(
                conn, actor=zhangsan, ctx=CLI_CONTEXT, vault=vault, customer_id=customer_id
            )
        assert seen.data["name"] == SECRET_NAME

        ended = zhang.post(
            f"/access/grants/{grant.id}/revoke", data={"csrf_token": csrf_token(after)}
        )
        assert ended.status_code == 303
        final = zhang.get("/access?done=revoked").text
        assert "授权已结束" in final and "已撤销" in final
    with engine.connect() as conn:
        assert list_own_grants(conn, actor=zhangsan) == []
    with unit_of_work(engine) as conn, pytest.raises(NotFound):  # as if it did not exist
        get_customer(conn, actor=zhangsan, ctx=CLI_CONTEXT, vault=vault, customer_id=customer_id)
    assert _events(engine, "access_request:approve") == [("allow", "ok", "sunqi")]
    assert _events(engine, "grant:revoke") == [("allow", "ok", "zhangsan")]


def test_reject_with_comment_and_nobody_approves_their_own(
    app: FastAPI, engine: Engine, vault: Vault, org: Org
) -> None:
    customer_id = make_customer(engine, vault, org, "zhaoliu")
    with browser(app) as zhang, browser(app) as sun:
        login(zhang, "zhangsan")
        token = csrf_token(zhang.get("/access").text)
        zhang.post("/access/requests", data=_request_form(token, customer_id))
        request_id = _only_request(engine, org, "zhangsan")
        own = zhang.post(
            f"/access/requests/{request_id}/decision",
            data={"csrf_token": token, "decision": "approve", "comment": ""},
        )
        assert own.status_code == 403
        assert "任何人都不能审批自己的申请" in own.text

        login(sun, "sunqi")
        sun_token = csrf_token(sun.get("/access").text)
        rejected = sun.post(
            f"/access/requests/{request_id}/decision",
            data={"csrf_token": sun_token, "decision": "reject", "comment": "用途不充分"},
        )
        assert rejected.status_code == 303
        again = sun.post(
            f"/access/requests/{request_id}/decision",
            data={"csrf_token": sun_token, "decision": "approve", "comment": ""},
        )
        assert again.status_code == 409
        assert "该申请已经处理过了" in again.text
        mine = zhang.get("/access").text
    assert "已拒绝" in mine and "用途不充分" in mine
    assert _events(engine, "access_request:approve") == [
        ("deny", "self_approval", "zhangsan"),
        ("deny", "request_not_pending", "sunqi"),
    ]
    assert _events(engine, "access_request:reject") == [("allow", "ok", "sunqi")]
    assert _events(engine, "grant:create") == []


def test_form_errors_keep_what_was_typed(app: FastAPI, engine: Engine) -> None:
    """Bad input is a clear error per field and loses nothing; nothing is filed."""
    with browser(app) as client:
        login(client, "zhangsan")
        token = csrf_token(client.get("/access").text)
        response = client.post(
            "/access/requests",
            data=_request_form(
                token, "not-an-id 和 another", scope="fields", purpose_code="", purpose_text="x"
            ),
        )
    assert response.status_code == 422
    html = response.text
    assert "不是客户编号" in html and "请至少勾选一个字段" in html
    assert "请选择工作类型" in html and "2 到 900 个字符" in html
    assert ">not-an-id 和 another</textarea>" in html and ">x</textarea>" in html
    assert 'value="fields" checked' in html
    assert 'aria-invalid="true"' in html
    assert _events(engine, "access_request:create") == []


def test_already_seeing_the_customer_is_refused_and_audited(
    app: FastAPI, engine: Engine, vault: Vault, org: Org
) -> None:
    own = make_customer(engine, vault, org, "zhangsan")
    with browser(app) as client:
        login(client, "zhangsan")
        token = csrf_token(client.get("/access").text)
        response = client.post("/access/requests", data=_request_form(token, own))
    assert response.status_code == 409
    assert "你已经能看到这个客户" in response.text
    assert f">{own}</textarea>" in response.text
    assert _events(engine, "access_request:create") == [("deny", "already_has_access", "zhangsan")]


def test_level_change_request_shows_from_and_to(
    app: FastAPI, engine: Engine, vault: Vault, org: Org
) -> None:
    """C2.2: lowering 机密 → 秘密 waits for the customer's head and the officer (same list)."""
    customer_id = make_customer(engine, vault, org, "zhaoliu", level="confidential")
    zhaoliu = load_actor(engine, org, "zhaoliu")
    with unit_of_work(engine) as conn:
        request_level_change(
            conn,
            actor=zhaoliu,
            ctx=CLI_CONTEXT,
            customer_id=customer_id,
            change_in=LevelChangeIn(level="secret", reason="合同已结束，降为秘密"),
            mail=False,
            vault=vault,
        )
    for approver in ("sunqi", "baomiyuan"):
        with browser(app) as client:
            login(client, approver)
            html = client.get("/access").text
        assert "密级变更" in html and "合同已结束，降为秘密" in html
        assert re.search(r"机密</span> → <span[^>]*>秘密", html)
        assert SECRET_NAME not in html


def test_decisions_need_the_csrf_token(
    app: FastAPI, engine: Engine, vault: Vault, org: Org
) -> None:
    customer_id = make_customer(engine, vault, org, "zhaoliu")
    with browser(app) as client:
        login(client, "zhangsan")
        response = client.post("/access/requests", data=_request_form("forged", customer_id))
    assert response.status_code == 403
    assert _events(engine, "access_request:create") == []
    assert _events(engine, "auth:csrf")[0][0] == "deny"


# --- In Chromium ------------------------------------------------------------------------


@pytest.fixture
def second_context(chromium: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    """Another person's browser beside the test's own."""
    ctx = chromium.new_context(
        base_url=live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.xdist_group("browser")
def test_request_and_approval_in_the_browser(
    page: Page,
    second_context: BrowserContext,
    live_server: LiveServer,
    engine: Engine,
    vault: Vault,
    org: Org,
) -> None:
    """zhangsan asks from the 查重 link; sunqi (TOTP) approves in his browser; zhangsan sees the
    grant and ends it; a second request is rejected with a comment."""
    first = make_customer(engine, vault, org, "zhaoliu")
    # Its own phone: a second record with the first one's would be refused (C4.1.3).
    second = make_customer(
        engine, vault, org, "zhaoliu", name="广州某贸易公司", phones=["13912345679"]
    )
    web_login(page, live_server, "zhangsan")
    for customer_id, text in ((first, "年度合同报价"), (second, "回访客户投诉")):
        page.goto(f"/access?customer={customer_id}")
        expect(page.locator("#customer-ids")).to_have_value(customer_id)
        page.locator("#purpose-code").select_option("contract")
        page.locator("#processing-purpose").select_option("contract")
        page.locator("#purpose-text").fill(text)
        page.locator("#duration-hours").select_option("72")
        page.locator("form[action='/access/requests'] button[type=submit]").click()
        expect(page.locator(".notice")).to_contain_text("申请已发送")
    shoot(page, "access-requester")

    sun = second_context.new_page()
    web_login(sun, live_server, "sunqi")
    sun.goto("/access")
    cards = sun.locator("#to-approve .request-card")
    expect(cards).to_have_count(2)
    expect(sun.locator("#to-approve")).not_to_contain_text(SECRET_NAME)
    shoot(sun, "access-approver")
    approve = cards.filter(has_text="年度合同报价")
    approve.locator("textarea[name=comment]").fill("同意")
    approve.get_by_role("button", name="批准").click()
    expect(sun.locator(".notice")).to_contain_text("审批意见已记录")
    reject = sun.locator("#to-approve .request-card").filter(has_text="回访客户投诉")
    reject.locator("textarea[name=comment]").fill("请先联系赵六")
    reject.get_by_role("button", name="拒绝").click()
    expect(sun.locator("#to-approve .request-card")).to_have_count(0)

    page.goto("/access")
    expect(page.locator("#mine")).to_contain_text("请先联系赵六")
    grants = page.locator("#grants tbody tr")
    expect(grants).to_have_count(1)
    expect(grants).to_contain_text(first)
    expect(grants).to_contain_text("2 天 23 小时")
    grants.get_by_role("button").click()
    expect(page.locator(".notice")).to_contain_text("授权已结束")
    expect(page.locator("#grants tbody tr")).to_have_count(0)
    assert csp_violations(page) == [] and csp_violations(sun) == []
