"""Emergency grants in the browser (C4.3.1, C3.2, issue 10 F3): the customer's head reviews, on
/access, the grants the security officer gave outside the approval process; the officer's list
marks them. Over HTTP on SQLite and PostgreSQL, and in Chromium."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from baomi.audit.context import CLI_CONTEXT
from baomi.customers.vault import Vault
from baomi.grants.schemas import GrantIn
from baomi.grants.service import create_emergency_grant
from baomi.uow import unit_of_work
from tests.support.levels import DEFAULT_LEVELS
from tests.support.org import Org
from tests.support.org import actor as load_actor
from tests.web.conftest import LiveServer, csp_violations, web_login
from tests.web.forms import browser, csrf_token, login
from tests.web.workflows import make_customer, shoot

REASON = "客户来电投诉，负责人赵六联系不上"


def _emergency_grant(engine: Engine, vault: Vault, org: Org) -> str:
    """The officer lets lisi see a 华南 customer (handler zhaoliu, head sunqi) for 4 hours."""
    customer_id = make_customer(engine, vault, org, "zhaoliu")
    officer = load_actor(engine, org, "baomiyuan")
    with unit_of_work(engine) as conn:
        grant = create_emergency_grant(
            conn,
            actor=officer,
            ctx=CLI_CONTEXT,
            levels=DEFAULT_LEVELS,
            tags=vault.tags,
            max_hours=24,
            grant_in=GrantIn(
                user_id=org.user_ids["lisi"],
                customer_id=customer_id,
                duration_hours=4,
                purpose=REASON,
            ),
            mail=False,
        )
    return grant.id


def test_the_head_reviews_and_the_officer_sees_it_marked(
    app: FastAPI, engine: Engine, vault: Vault, org: Org
) -> None:
    grant_id = _emergency_grant(engine, vault, org)
    with browser(app) as officer:
        login(officer, "baomiyuan")
        listed = officer.get("/security").text
    assert "紧急授权" in listed and "待复核" in listed

    with browser(app) as other:
        login(other, "wangwu")  # heads 华东, not the customer's department
        assert 'id="emergency-grants"' not in other.get("/access").text

    with browser(app) as head:
        login(head, "sunqi")
        page = head.get("/access").text
        assert 'id="emergency-grants"' in page and REASON in page
        token = csrf_token(page)
        empty = head.post(f"/access/grants/{grant_id}/review", data={"csrf_token": token})
        assert empty.status_code == 422
        done = head.post(
            f"/access/grants/{grant_id}/review",
            data={"csrf_token": token, "note": "已电话核实，授权合理"},
        )
        assert done.status_code == 303
        shown = head.get(done.headers["location"]).text
        assert "您对紧急授权的复核意见已记录" in shown
        assert "已复核" in shown and "已电话核实，授权合理" in shown
        again = head.post(
            f"/access/grants/{grant_id}/review", data={"csrf_token": token, "note": "再次复核"}
        )
        assert again.status_code == 409 and "已经复核过了" in again.text

    with browser(app) as officer:
        login(officer, "baomiyuan")
        assert "待复核" not in officer.get("/security").text


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.xdist_group("browser")
def test_head_reviews_an_emergency_grant_in_chromium(
    page: Page, live_server: LiveServer, engine: Engine, vault: Vault, org: Org
) -> None:
    _emergency_grant(engine, vault, org)
    web_login(page, live_server, "sunqi")
    page.goto("/access#emergency-grants")
    section = page.locator("#emergency-grants")
    expect(section).to_contain_text(REASON)
    shoot(page, "access-emergency-review")
    section.get_by_label("复核意见").fill("已电话核实，授权合理")
    section.get_by_role("button", name="提交复核意见").click()
    expect(page.locator(".notice")).to_contain_text("复核意见已记录")
    expect(page.locator("#emergency-grants")).to_contain_text("已复核")
    assert csp_violations(page) == []
