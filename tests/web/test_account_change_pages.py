"""Dual control of accounts in the browser (三员分立, C4.2.1, issue 10 F1): the new person sets
their own password on /activate, and the security officer approves their roles on
/security/account-changes. Over HTTP on SQLite and PostgreSQL, and in Chromium."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from baomi.audit.context import CLI_CONTEXT
from baomi.security.roles import Role
from baomi.uow import unit_of_work
from baomi.users.invite import Invitation, invite_user
from baomi.users.schemas import EmploymentType
from baomi.users.service import list_users
from tests.support.org import Org
from tests.support.org import actor as load_actor
from tests.web.conftest import LiveServer, csp_violations, web_login
from tests.web.forms import browser, csrf_token, login, submit_login
from tests.web.workflows import shoot

NEW_PASSWORD = "copper lantern orchard 1958"


def _invite(engine: Engine, org: Org, username: str = "zhoujiu") -> Invitation:
    admin = load_actor(engine, org, "admin")
    with unit_of_work(engine) as conn:
        return invite_user(
            conn,
            actor=admin,
            ctx=CLI_CONTEXT,
            username=username,
            display_name="周九",
            employment_type=EmploymentType.FULL_TIME,
            department_id=org.departments["华南销售部"],
            roles={Role.SALESPERSON},
            mail=False,
        )


def _roles(engine: Engine, username: str) -> list[str]:
    with engine.connect() as conn:
        return next([r.value for r in u.roles] for u in list_users(conn) if u.username == username)


@pytest.mark.parametrize("username", ["zhangsan", "wangwu", "admin", "shenji"])
def test_only_the_security_officer_decides(app: FastAPI, org: Org, username: str) -> None:
    with browser(app) as client:
        login(client, username)
        assert client.get("/security/account-changes").status_code == 403


def test_the_officer_rejects_and_nothing_changes(app: FastAPI, engine: Engine, org: Org) -> None:
    invitation = _invite(engine, org)
    assert invitation.pending_change is not None
    with browser(app) as officer:
        login(officer, "baomiyuan")
        page = officer.get("/security/account-changes").text
        assert "周九" in page and "销售人员" in page and "系统管理员" in page
        done = officer.post(
            f"/security/account-changes/{invitation.pending_change.id}/decision",
            data={"csrf_token": csrf_token(page), "decision": "reject", "comment": "查无此人"},
        )
        assert done.status_code == 303
        shown = officer.get(done.headers["location"]).text
        assert "已驳回" in shown and "查无此人" in shown
        again = officer.post(
            f"/security/account-changes/{invitation.pending_change.id}/decision",
            data={"csrf_token": csrf_token(page), "decision": "approve"},
        )
        assert again.status_code == 409 and "已经处理过了" in again.text
    assert _roles(engine, "zhoujiu") == []


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.xdist_group("browser")
def test_a_new_person_activates_and_the_officer_approves_in_chromium(
    page: Page, live_server: LiveServer
) -> None:
    engine, org = live_server.engine, live_server.org
    invitation = _invite(engine, org)
    # The person sets their own password with the code the administrator handed over.
    page.goto("/activate")
    shoot(page, "activate")
    page.locator("#username").fill("zhoujiu")
    page.locator("#code").fill(invitation.activation.code)
    page.locator("#password").fill(NEW_PASSWORD)
    page.locator("#repeat").fill(NEW_PASSWORD)
    page.locator("form[action='/activate'] button[type=submit]").click()
    expect(page.locator(".notice")).to_contain_text("密码已设置")
    assert csp_violations(page) == []

    page.context.clear_cookies()
    web_login(page, live_server, "baomiyuan")
    page.goto("/security/account-changes")
    card = page.locator("#account-changes .request-card")
    expect(card).to_contain_text("周九")
    shoot(page, "security-account-changes")
    card.get_by_role("button", name="批准").click()
    expect(page.locator(".notice")).to_contain_text("已批准")
    assert _roles(engine, "zhoujiu") == ["salesperson"]
    assert csp_violations(page) == []
    with browser(live_server.app) as person:
        assert submit_login(person, "zhoujiu", password=NEW_PASSWORD).status_code == 303
