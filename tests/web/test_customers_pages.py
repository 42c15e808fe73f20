"""The customer pages over HTTP, on SQLite and PostgreSQL: list, search, filters, paging, 查重
with the one-click access request, the record with reveal, the level change and the timeline."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select

from baomi.access.models import access_requests
from baomi.audit.context import CLI_CONTEXT
from baomi.customers.fields import FIELDS
from baomi.customers.validation import CHANNELS, PAYMENT_TYPES
from baomi.customers.vault import Vault
from baomi.grants.schemas import GrantIn
from baomi.grants.service import create_emergency_grant
from baomi.uow import unit_of_work
from baomi.web.pages.customers import display
from tests.support.levels import DEFAULT_LEVELS
from tests.support.org import Org, actor
from tests.web.customers_support import (
    FULL_RECORD,
    FakeClock,
    events,
    file_customer,
    moved_clock_fixture,  # noqa: F401 - the moved_clock fixture
)
from tests.web.forms import browser, fresh_code, login, page_token

HTMX = {"HX-Request": "true"}


def _results(html: str) -> list[str]:
    """The customer names of a results table, in order."""
    return re.findall(r'<td><a href="/customers/[0-9a-f-]+">([^<]+)</a></td>', html)


def _field(html: str, name: str) -> str:
    """The shown value of one field of the record page."""
    found = re.search(rf'<dd data-field="{name}">(.*?)</dd>', html, re.S)
    assert found, f"no field {name}"
    return found.group(1)


def test_every_field_and_code_has_a_label() -> None:
    assert set(display.FIELD_LABELS) >= set(FIELDS)
    assert set(display.PAYMENT_TYPE_NAMES) == PAYMENT_TYPES
    assert set(display.CHANNEL_NAMES) == CHANNELS
    assert {f for s in display.SECTIONS for f in s.fields} == set(FIELDS)


@pytest.mark.parametrize(
    "path", ["/customers", "/customers/new", "/customers/check", "/customers/x/edit"]
)
def test_customer_pages_are_behind_login(app: FastAPI, path: str) -> None:
    with browser(app) as client:
        response = client.get(path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


def test_list_shows_what_i_may_see_watermarked_and_never_cached(
    app: FastAPI, engine: Engine, vault: Vault, org: Org
) -> None:
    """C4.2.1: my customers, not another department's; C4.3.2 watermark; C4.2.2 no-store."""
    file_customer(engine, vault, org, "zhangsan", name="杭州甲公司")
    file_customer(engine, vault, org, "zhaoliu", name="广州乙公司")
    with browser(app) as client:
        login(client, "zhangsan")
        response = client.get("/customers")
    assert response.status_code == 200
    assert '<a href="/customers" aria-current="page">客户</a>' in response.text  # in the menu
    assert _results(response.text) == ["杭州甲公司"]
    assert "广州乙公司" not in response.text
    assert response.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert 'class="watermark"' in response.text and 'data-watermark="zhangsan"' in response.text
    assert events(engine, "customer:list", actor_username="zhangsan")


def test_search_filters_and_pages_and_htmx_gets_only_the_results(
    app: FastAPI, engine: Engine, vault: Vault, org: Org
) -> None:
    for i in range(23):
        file_customer(
            engine, vault, org, "zhangsan", name=f"苏州客户{i:02d}", phones=[f"139000011{i:02d}"]
        )
    file_customer(engine, vault, org, "qianba", name="钱八的客户", level="secret")
    with browser(app) as client:
        login(client, "wangwu")  # head of 华东: sees both handlers' customers
        first = client.get("/customers", params={"size": 20})
        assert len(_results(first.text)) == 20 and "24 个客户" in first.text
        second = client.get(
            "/customers",
            params={"size": 20, "page": 2},
            headers={**HTMX, "HX-Target": "customer-results"},
        )
        assert second.status_code == 200
        assert second.text.lstrip().startswith('<section id="customer-results"')  # the part only
        assert "<html" not in second.text and len(_results(second.text)) == 4
        by_phone = client.get("/customers", params={"q": "13900001107"})
        assert _results(by_phone.text) == ["苏州客户07"]
        by_name = client.get("/customers", params={"q": "客户1"})
        assert sorted(_results(by_name.text)) == [f"苏州客户1{i}" for i in range(10)]
        secret = client.get("/customers", params={"level": "secret"})
        assert _results(secret.text) == ["钱八的客户"]
        handled = client.get("/customers", params={"handler": org.user_ids["qianba"]})
        assert _results(handled.text) == ["钱八的客户"]
        bad = client.get("/customers", params={"level": "绝对机密"})
        assert bad.status_code == 200 and "请选择一个级别" in bad.text  # told, not an error page
    assert events(engine, "customer:search", actor_username="wangwu")


def test_roles_without_customer_work_get_no_list(app: FastAPI, engine: Engine) -> None:
    """C4.2.1: the auditor has no customer pages; the refusal is audited."""
    with browser(app) as client:
        login(client, "shenji")
        response = client.get("/customers")
        home = client.get("/")
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")  # an error page
    assert "你的角色无权访问客户资料" in response.text
    assert 'href="/customers"' not in home.text
    assert events(engine, "customer:list", actor_username="shenji", decision="deny")


def test_check_finds_a_customer_of_another_department_and_requests_access(
    app: FastAPI, engine: Engine, vault: Vault, org: Org
) -> None:
    """C4.1.3 查重 answers existence and handler only; one click files the request (C4.3.1)."""
    customer_id = file_customer(engine, vault, org, "zhaoliu", name="广州丙公司", **FULL_RECORD)
    with browser(app) as client:
        login(client, "zhangsan")
        token = page_token(client, "/customers")
        answer = client.post(
            "/customers/check",
            data={"kind": "phone", "value": "139 1234 5678", "csrf_token": token},
            headers=HTMX,
        )
        assert answer.status_code == 200
        assert "赵六" in answer.text and "华南销售部" in answer.text
        assert "广州丙公司" not in answer.text and "13912345678" not in answer.text
        assert f'action="/customers/{customer_id}/access-request"' in answer.text
        purpose = re.search(r'id="ask-purpose"[^>]*value="([^"]+)"', answer.text)
        assert purpose and purpose.group(1) == "跟进查重发现的客户"
        filed = client.post(
            f"/customers/{customer_id}/access-request",
            data={
                "purpose": purpose.group(1),
                "purpose_code": "contract",
                "duration_hours": "24",
                "csrf_token": token,
            },
            headers=HTMX,
        )
        assert filed.status_code == 200 and 'id="access-requested"' in filed.text
        assert "孙七" in filed.text  # the customer's head decides
        again = client.post(
            f"/customers/{customer_id}/access-request",
            data={
                "purpose": "再次申请",
                "purpose_code": "contract",
                "duration_hours": "24",
                "csrf_token": token,
            },
            headers=HTMX,
        )
    with engine.connect() as conn:
        rows = conn.execute(select(access_requests)).all()
    assert len(rows) == 2 and {r.details["hours"] for r in rows} == {24}
    assert again.status_code == 200
    assert events(engine, "customer:check", actor_username="zhangsan", reason="match")


@pytest.mark.parametrize(
    ("kind", "value", "found"),
    [
        ("credit_code", "91310000ma1fl8tq36", True),
        ("id_number", "110101199003074477", False),
        ("email", "SALES@example.com", True),
        ("name", "广州丙公司", True),
    ],
)
def test_check_kinds(
    app: FastAPI, engine: Engine, vault: Vault, org: Org, kind: str, value: str, found: bool
) -> None:
    file_customer(engine, vault, org, "zhaoliu", name="广州丙公司", **FULL_RECORD)
    with browser(app) as client:
        login(client, "zhangsan")
        token = page_token(client, "/customers")
        answer = client.post(
            "/customers/check", data={"kind": kind, "value": value, "csrf_token": token}
        )
    assert answer.status_code == 200
    assert ("这个客户已存在" in answer.text) is found
    assert ("公司里没有匹配的客户" in answer.text) is not found


def test_check_of_an_invalid_value_says_so_and_keeps_it(app: FastAPI) -> None:
    with browser(app) as client:
        login(client, "zhangsan")
        token = page_token(client, "/customers")
        answer = client.post(
            "/customers/check", data={"kind": "phone", "value": "12ab", "csrf_token": token}
        )
    assert answer.status_code == 422
    assert 'value="12ab"' in answer.text
    assert "不是有效的电话号码" in answer.text


def test_record_masks_sensitive_fields_until_revealed_with_a_reason(
    app: FastAPI, engine: Engine, vault: Vault, org: Org
) -> None:
    """C4.3.2: ID number, payment and notes masked; a reveal needs a reason; it is audited."""
    customer_id = file_customer(engine, vault, org, "zhangsan", name="杭州丁公司", **FULL_RECORD)
    with browser(app) as client:
        login(client, "zhangsan")
        record = client.get(f"/customers/{customer_id}")
        assert record.status_code == 200 and record.headers["cache-control"] == "no-store"
        assert "9131**********TQ36" in _field(record.text, "id_number")
        assert "董事长偏好线下会谈" not in record.text and "91310000MA1FL8TQ36" not in record.text
        assert "139 1234 5678" in _field(record.text, "phones")  # not masked at 普通
        assert "年度框架协议" in record.text and "data-watermark" in record.text
        form = client.get(
            f"/customers/{customer_id}/reveal", params={"field": "notes"}, headers=HTMX
        )
        assert '<option value="contract_work">合同办理</option>' in form.text
        token = page_token(client, f"/customers/{customer_id}")
        url = f"/customers/{customer_id}/reveal"
        no_reason = client.post(url, data={"field": "notes", "csrf_token": token}, headers=HTMX)
        assert no_reason.status_code == 200 and "请选择原因" in no_reason.text
        assert "董事长偏好线下会谈" not in no_reason.text
        shown = client.post(
            url,
            data={
                "field": ["notes", "id_number"],
                "purpose": "contract",
                "reason_code": "contract_work",
                "reason": "核对合同条款",
                "csrf_token": token,
            },
            headers=HTMX,
        )
        assert shown.status_code == 200
        assert 'id="value-notes" hx-swap-oob="true"' in shown.text
        assert "董事长偏好线下会谈" in shown.text and "91310000MA1FL8TQ36" in shown.text
        without_js = client.post(
            url,
            data={
                "field": "notes",
                "purpose": "contract",
                "reason_code": "complaint",
                "reason": "处理投诉",
                "csrf_token": token,
            },
        )
        assert "董事长偏好线下会谈" in _field(without_js.text, "notes")
        assert "9131**" in _field(without_js.text, "id_number")  # only what was asked
        reload = client.get(f"/customers/{customer_id}")
        assert "董事长偏好线下会谈" not in reload.text  # shown once, masked again
    reveals = events(engine, "customer:reveal", customer_id=customer_id, decision="allow")
    assert [e.details["reason_code"] for e in reveals] == ["contract_work", "complaint"]
    assert all("董事长" not in str(e.details) for e in reveals)


def test_timeline_with_an_attachment_downloaded_through_the_audited_service(
    app: FastAPI, engine: Engine, vault: Vault, org: Org
) -> None:
    """C2.1 (e): communication records and their files; the download is audited (C4.3.2)."""
    customer_id = file_customer(engine, vault, org, "zhangsan", name="杭州戊公司")
    with browser(app) as client:
        login(client, "zhangsan")
        token = page_token(client, f"/customers/{customer_id}")
        added = client.post(
            f"/customers/{customer_id}/communications",
            data={
                "occurred_at": "2026-03-02T10:30",
                "channel": "visit",
                "text": "上门拜访，谈续约",
                "csrf_token": token,
            },
            files={"file": ("纪要.txt", "会议纪要：续约三年".encode(), "text/plain")},
        )
        assert added.status_code == 303
        assert added.headers["location"] == f"/customers/{customer_id}?done=communication#timeline"
        record = client.get(f"/customers/{customer_id}?done=communication")
        assert "上门拜访，谈续约" in record.text and "已添加沟通记录" in record.text
        link = re.search(rf'href="(/customers/{customer_id}/attachments/[0-9a-f-]+)"', record.text)
        assert link and "纪要.txt" in record.text
        download = client.get(link.group(1))
        assert download.status_code == 200
        assert download.content == "会议纪要：续约三年".encode()
        assert download.headers["content-disposition"].startswith("attachment;")
        empty = client.post(
            f"/customers/{customer_id}/communications",
            data={"occurred_at": "昨天", "channel": "visit", "text": "", "csrf_token": token},
        )
    assert empty.status_code == 422
    assert "请填写日期和时间" in empty.text and "请填写此项" in empty.text
    assert events(engine, "attachment:download", customer_id=customer_id)


def test_level_is_raised_at_once_and_lowered_only_by_request(
    app: FastAPI, engine: Engine, vault: Vault, org: Org
) -> None:
    """C2.2: raising is a change; lowering is a request the level's approvers decide."""
    customer_id = file_customer(engine, vault, org, "zhangsan", name="杭州己公司")
    url = f"/customers/{customer_id}/level"
    with browser(app) as client:
        login(client, "zhangsan")
        token = page_token(client, f"/customers/{customer_id}")
        raised = client.post(
            url, data={"level": "secret", "from_level": "normal", "csrf_token": token}
        )
        assert raised.status_code == 303 and raised.headers["location"].endswith(
            "done=level_raised"
        )
        no_reason = client.post(
            url, data={"level": "normal", "from_level": "secret", "csrf_token": token}
        )
        assert no_reason.status_code == 422 and "请填写此项" in no_reason.text
        asked = client.post(
            url,
            data={
                "level": "normal",
                "from_level": "secret",
                "reason": "合作结束",
                "csrf_token": token,
            },
        )
        assert asked.headers["location"].endswith("done=level_requested")
        record = client.get(f"/customers/{customer_id}")
    assert "level level-secret" in record.text  # still 秘密 until approved
    with engine.connect() as conn:
        kinds = conn.execute(select(access_requests.c.kind)).scalars().all()
    assert kinds == ["level_change"]


def test_a_grant_gives_a_read_only_record(
    app: FastAPI, engine: Engine, vault: Vault, org: Org
) -> None:
    """C4.2.1: through a grant, the record without the edit controls."""
    customer_id = file_customer(engine, vault, org, "zhaoliu", name="广州庚公司")
    officer = actor(engine, org, "baomiyuan")
    with unit_of_work(engine) as conn:
        create_emergency_grant(
            conn,
            levels=DEFAULT_LEVELS,
            tags=vault.tags,
            max_hours=24,
            actor=officer,
            ctx=CLI_CONTEXT,
            grant_in=GrantIn(
                user_id=org.user_ids["zhangsan"],
                customer_id=customer_id,
                purpose="测试授权",
                duration_hours=4,
            ),
            mail=False,
        )
    with browser(app) as browser_client:
        login(browser_client, "zhangsan")
        record = browser_client.get(f"/customers/{customer_id}")
    assert record.status_code == 200 and "广州庚公司" in record.text
    assert "通过访问授权" in record.text
    assert f'href="/customers/{customer_id}/edit"' not in record.text
    assert f'action="/customers/{customer_id}/level"' not in record.text


def _form_values(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "新客户",
        "level": "normal",
        "lawful_basis": "contract",
        "source": "电话拜访",
        **overrides,
    }


def test_confidential_reveal_asks_for_the_code_then_reveals(
    app: FastAPI, engine: Engine, vault: Vault, org: Org, moved_clock: FakeClock
) -> None:
    """C4.2.4: at 机密 a reveal needs a second factor within the window; the dialog asks for
    the code, confirms it (step-up) and reveals in the same answer."""
    customer_id = file_customer(
        engine, vault, org, "zhangsan", name="杭州机密公司", level="confidential", **FULL_RECORD
    )
    url = f"/customers/{customer_id}/reveal"
    with browser(app) as client:
        login(client, "wangwu")  # head of 华东, TOTP at login
        moved_clock.advance(minutes=11)  # the login's verification is now too old
        token = page_token(client, f"/customers/{customer_id}")
        form = {
            "field": "notes",
            "purpose": "contract",
            "reason_code": "complaint",
            "reason": "处理投诉",
            "csrf_token": token,
        }
        asked = client.post(url, data=form, headers=HTMX)
        assert asked.status_code == 200 and 'id="reveal-otp"' in asked.text
        assert "请输入身份验证应用中的一次性验证码" in asked.text
        assert 'value="complaint" selected' in asked.text and ">处理投诉</textarea>" in asked.text
        wrong = client.post(url, data={**form, "otp": "000000"}, headers=HTMX)
        assert 'id="reveal-otp"' in wrong.text and "验证码无效" in wrong.text
        shown = client.post(url, data={**form, "otp": fresh_code(client, "wangwu")}, headers=HTMX)
        assert shown.status_code == 200 and FULL_RECORD["notes"] in shown.text
    assert [e.decision for e in events(engine, "auth:step_up")] == ["deny", "allow"]
    reveals = events(engine, "customer:reveal", customer_id=customer_id)
    assert [(e.decision, e.reason) for e in reveals] == [
        ("deny", "step_up_required"),
        ("allow", "department_head"),
    ]


def test_salesperson_without_mfa_is_told_to_turn_it_on(
    app: FastAPI, engine: Engine, vault: Vault, org: Org
) -> None:
    customer_id = file_customer(
        engine, vault, org, "zhangsan", name="杭州机密二号", level="confidential", notes="机密备注"
    )
    with browser(app) as client:
        login(client, "zhangsan")
        token = page_token(client, f"/customers/{customer_id}")
        answer = client.post(
            f"/customers/{customer_id}/reveal",
            data={
                "field": "notes",
                "purpose": "contract",
                "reason_code": "other",
                "reason": "核对",
                "csrf_token": token,
            },
            headers=HTMX,
        )
    assert "需要两步验证" in answer.text and 'href="/account/mfa"' in answer.text
    assert "机密备注" not in answer.text


def test_the_security_officer_checks_but_gets_no_request_form(
    app: FastAPI, engine: Engine, vault: Vault, org: Org
) -> None:
    """The officer may use 查重 (C4.1.3) but holds no customer work (C4.2.1): no list, no ask."""
    file_customer(engine, vault, org, "zhaoliu", name="广州辛公司", phones=["13912345678"])
    with browser(app) as client:
        login(client, "baomiyuan")
        box = client.get("/customers/check")
        assert box.status_code == 200 and 'id="check-form"' in box.text
        assert client.get("/customers").status_code == 403
        token = page_token(client, "/customers/check")
        answer = client.post(
            "/customers/check", data={"kind": "phone", "value": "13912345678", "csrf_token": token}
        )
    assert answer.status_code == 200 and "这个客户已存在" in answer.text and "赵六" in answer.text
    assert "access-request" not in answer.text and "广州辛公司" not in answer.text
