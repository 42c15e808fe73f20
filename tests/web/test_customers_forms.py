"""The create and edit forms (C4.1.1): each problem in the reader's language next to its input,
everything typed kept; editing never writes a masked value back (C4.3.2)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from baomi.audit.context import CLI_CONTEXT
from baomi.customers import service
from baomi.customers.vault import Vault
from baomi.uow import unit_of_work
from tests.support.org import Org, actor
from tests.web.customers_support import FULL_RECORD, events, file_customer
from tests.web.forms import browser, login, page_token

BAD_INPUT = {
    "name": "苏州辛公司",
    "level": "normal",
    "lawful_basis": "contract",
    "source": "展会名片",
    "phones": "13912345678\n12345",
    "emails": "not-an-address",
    "id_number": "110105194912310022",  # wrong check digit
    "contacts-0-name": "李经理",
    "contacts-0-phones": "021-6234567x",
    "purchases-0-date": "2026-13-01",
    "purchases-0-item": "服务器",
    "purchases-0-amount": "-5",
    "payment_methods-0-type": "bank_card",
    "payment_methods-0-account": "6222021234567895",  # fails Luhn
    "notes": "<b>保留我</b>",
}


def _error(html: str, slot: str) -> str:
    """The message(s) shown under one input."""
    found = re.search(
        rf'<div class="field-error" id="{re.escape(slot)}-error">(.*?)</div>', html, re.S
    )
    assert found, f"no message for {slot}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))).strip()


def _form_fields(html: str) -> dict[str, str]:
    """What a browser would send for the form as shown (inputs, textareas, chosen options)."""
    fields = dict(
        re.findall(r'<input id="f-[^"]+" name="([^"]+)" type="[a-z]+" value="([^"]*)"', html)
    )
    fields.update(
        re.findall(r'<textarea id="f-[^"]+" name="([^"]+)"[^>]*>([^<]*)</textarea>', html)
    )
    for name, options in re.findall(
        r'<select id="f-[^"]+" name="([^"]+)"[^>]*>(.*?)</select>', html, re.S
    ):
        chosen = re.search(r'<option value="([^"]*)" selected>', options)
        fields[name] = chosen.group(1) if chosen else ""
    return {name: value.replace("&amp;", "&") for name, value in fields.items()}


def _post_new(client: TestClient, form: dict[str, Any]) -> Any:
    token = page_token(client, "/customers/new")
    return client.post("/customers/new", data={**form, "csrf_token": token})


def test_create_shows_each_problem_in_chinese_next_to_its_field_and_loses_nothing(
    app: FastAPI, engine: Engine
) -> None:
    with browser(app) as client:
        login(client, "zhangsan")
        response = _post_new(client, BAD_INPUT)
    assert response.status_code == 422
    page = response.text
    assert _error(page, "phones") == "第 2 项：不是有效的电话号码（大陆号码可省略 +86）。"
    assert _error(page, "emails") == "第 1 项：不是有效的电子邮箱地址。"
    assert "校验位或格式有误" in _error(page, "id_number")
    assert "不是有效的电话号码" in _error(page, "contacts-0-phones")
    assert _error(page, "purchases-0-date") == "请按 2026-03-31 的格式填写日期。"
    assert "不小于 0 的金额" in _error(page, "purchases-0-amount")
    assert "Luhn" in _error(page, "payment_methods-0-account")
    assert "有 7 处问题" in page
    # Nothing is lost: every value comes back, escaped.
    assert 'value="苏州辛公司"' in page and "13912345678\n12345</textarea>" in page
    assert 'value="021-6234567x"' in page and 'value="6222021234567895"' in page
    assert "&lt;b&gt;保留我&lt;/b&gt;</textarea>" in page
    assert 'aria-invalid="true"' in page
    assert not events(engine, "customer:create", decision="allow")


def test_create_messages_in_english(app: FastAPI) -> None:
    with browser(app) as client:
        login(client, "zhangsan")
        token = page_token(client, "/customers/new")
        client.post("/account/language", data={"locale": "en", "csrf_token": token})
        blank = _post_new(client, {**BAD_INPUT, "name": ""})
        response = _post_new(client, BAD_INPUT)
    assert '<html lang="en">' in response.text
    # The shape of the body is checked before the service's rules (two passes).
    assert (
        _error(blank.text, "name") == "Fill this in." and 'value="6222021234567895"' in blank.text
    )
    assert _error(response.text, "phones") == (
        "Item 2: Not a valid phone number (mainland numbers may leave out +86)."
    )
    assert "check digit" in _error(response.text, "id_number")


def test_create_files_a_valid_customer_and_shows_it(app: FastAPI, engine: Engine) -> None:
    form = {
        "name": "苏州壬公司",
        "level": "secret",
        "lawful_basis": "consent",
        "source": "展会名片",
        "phones": "139 1234 5678\n\n+86 21 6234 5678",
        "id_number": "11010519491231002x",
        "contacts-1-name": "周总",  # a row after a blank one
        "contacts-1-emails": "zhou@example.com, z2@example.com",
        "purchases-0-date": "2026-02-01",
        "purchases-0-item": "存储",
        "purchases-0-amount": "9800.50",
        "notes": "只在工作日联系",
    }
    with browser(app) as client:
        login(client, "zhangsan")
        response = _post_new(client, form)
        assert response.status_code == 303, response.text
        location = response.headers["location"]
        assert location.endswith("?done=created")
        record = client.get(location)
    assert "客户已录入" in record.text and "苏州壬公司" in record.text
    assert "139 1234 5678" in record.text and "周总" in record.text
    assert "¥9,800.50" in record.text
    assert "只在工作日联系" not in record.text  # notes are masked (C4.3.2)
    created = events(engine, "customer:create", decision="allow")
    assert len(created) == 1 and created[0].details["level"] == "secret"


def test_edit_changes_only_what_changed_and_keeps_masked_values(
    app: FastAPI, engine: Engine, vault: Vault, org: Org
) -> None:
    customer_id = file_customer(engine, vault, org, "zhangsan", name="苏州癸公司", **FULL_RECORD)
    with browser(app) as client:
        login(client, "zhangsan")
        form_page = client.get(f"/customers/{customer_id}/edit")
        assert form_page.status_code == 200
        assert "董事长偏好线下会谈" not in form_page.text  # masked: never in an input
        assert "91310000MA1FL8TQ36" not in form_page.text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form_page.text)
        assert token
        fields = _form_fields(form_page.text)
        fields.update({"name": "苏州癸有限公司", "csrf_token": token.group(1)})
        saved = client.post(f"/customers/{customer_id}/edit", data=fields)
        assert saved.status_code == 303, saved.text
        bad = client.post(
            f"/customers/{customer_id}/edit",
            data={**fields, "id_number": "123", "phones": "13912345678"},
        )
        assert bad.status_code == 422 and "校验位或格式有误" in _error(bad.text, "id_number")
        # C4.1.1: a source is corrected, never emptied.
        blank = client.post(f"/customers/{customer_id}/edit", data={**fields, "source": ""})
        assert blank.status_code == 422
        assert _error(blank.text, "source") == "请填写资料来源，例如展会名片。"
    who = actor(engine, org, "zhangsan")
    with unit_of_work(engine) as conn:
        shown = service.reveal(
            conn,
            actor=who,
            ctx=CLI_CONTEXT,
            vault=vault,
            customer_id=customer_id,
            fields=["notes", "id_number", "name", "payment_methods"],
            purpose="contract",
            reason_code="compliance_check",
            reason="核对编辑结果",
        )
    assert shown.data["name"] == "苏州癸有限公司"
    assert shown.data["notes"] == FULL_RECORD["notes"]
    assert shown.data["id_number"] == FULL_RECORD["id_number"]
    assert shown.data["payment_methods"][0]["account"] == "6222021234567894"
    updates = events(engine, "customer:update", customer_id=customer_id, decision="allow")
    assert [e.fields for e in updates] == [["name"]]


def test_source_and_lawful_basis_are_asked_for_not_preset(app: FastAPI) -> None:
    """C4.1.1: the filer states both; left out, each is asked for in Chinese under its input.
    No confidentiality period is offered when filing (C2.2: it would lower the level unapproved)."""
    with browser(app) as client:
        login(client, "zhangsan")
        empty = client.get("/customers/new").text
        response = _post_new(client, {"name": "苏州子公司", "level": "secret"})
    assert re.search(r'<select id="f-basis" name="lawful_basis" required', empty)
    assert '<option value="" selected>请选择…</option>' in empty
    assert re.search(
        r'<input id="f-source" name="source" type="text" value="" maxlength="200" required', empty
    )
    assert 'name="confidential_until"' not in empty
    assert response.status_code == 422
    assert _error(response.text, "source") == "请填写资料来源，例如展会名片。"
    assert _error(response.text, "lawful_basis") == "请选择取得该资料的合法依据。"
    assert 'value="苏州子公司"' in response.text  # nothing typed is lost


def test_a_customer_on_file_is_refused_in_the_form_with_a_one_click_request(
    app: FastAPI, engine: Engine, vault: Vault, org: Org
) -> None:
    """C4.1.3: the form shows the 查重 answer (handler and department only) and the prefilled
    access request of the 查重 page (C4.3.1), which one click files."""
    existing = file_customer(
        engine, vault, org, "zhaoliu", name="广州丑公司", phones=["13912345678"]
    )
    form = {
        "name": "广州丑",
        "level": "normal",
        "lawful_basis": "contract",
        "source": "电话拜访",
        "phones": "139 1234 5678",
        "notes": "我的备注",
    }
    with browser(app) as client:
        login(client, "zhangsan")
        refused = _post_new(client, form)
        assert refused.status_code == 409
        page = refused.text
        assert "公司已有该客户的资料（查重）" in page
        assert "赵六" in page and "华南销售部" in page
        assert "广州丑公司" not in page  # nothing of the record on file
        assert f'action="/customers/{existing}/access-request"' in page
        assert 'value="广州丑"' in page and "我的备注</textarea>" in page  # the draft is kept
        token = page_token(client, "/customers/new")
        filed = client.post(
            f"/customers/{existing}/access-request",
            data={
                "purpose": "跟进查重发现的客户",
                "purpose_code": "contract",
                "duration_hours": "24",
                "csrf_token": token,
            },
            headers={"HX-Request": "true"},
        )
    assert filed.status_code == 200 and 'id="access-requested"' in filed.text
    assert not events(engine, "customer:create", decision="allow", actor_username="zhangsan")
    [denied] = events(engine, "customer:create", decision="deny")
    assert denied.reason == "duplicate_customer" and denied.customer_id == existing


def test_the_record_page_offers_no_delete(
    app: FastAPI, engine: Engine, vault: Vault, org: Org
) -> None:
    """C4.5.1: nothing in the web UI deletes a customer (DELETE answers 409 in the API)."""
    customer_id = file_customer(engine, vault, org, "zhangsan", name="苏州丑公司")
    with browser(app) as client:
        login(client, "zhangsan")
        pages = [client.get(url).text for url in (f"/customers/{customer_id}", "/customers")]
    for page in pages:
        assert "hx-delete" not in page and "/delete" not in page
        assert "删除" not in page
