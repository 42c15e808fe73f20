"""The system administrator's pages: users, departments, roles (三员分立, C1.3, C4.5.3). Over
HTTP on SQLite and PostgreSQL, and in Chromium; no customer data; the other roles get 403."""

from __future__ import annotations

import json
import re

import pytest
from fastapi import FastAPI
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, select

from baomi.audit.models import audit_events
from baomi.customers.vault import Vault
from baomi.users.service import list_departments, list_users
from tests.support.org import PASSWORD, Org
from tests.web.conftest import LiveServer, csp_violations, web_login
from tests.web.forms import browser, csrf_token, login, submit_login
from tests.web.workflows import SECRET_NAME, make_customer, shoot

PAGES = ("/admin", "/admin/departments", "/admin/roles")
NEW_PASSWORD = "copper lantern orchard 1958"


def _events(engine: Engine, action: str) -> list[tuple[str, str, str | None]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(audit_events.c.decision, audit_events.c.reason, audit_events.c.actor_username)
            .where(audit_events.c.action == action)
            .order_by(audit_events.c.id)
        )
        return [(r.decision, r.reason, r.actor_username) for r in rows]


def _user_form(token: str, **changes: object) -> dict[str, object]:
    return {
        "csrf_token": token,
        "username": "zhoujiu",
        "display_name": "周九",
        "employment_type": "part_time",
        "department_id": "",
        "roles": ["salesperson"],
        "email": "",
        **changes,
    }


def _users(engine: Engine) -> dict[str, list[str]]:
    with engine.connect() as conn:
        return {u.username: [r.value for r in u.roles] for u in list_users(conn)}


@pytest.mark.parametrize("username", ["zhangsan", "wangwu", "baomiyuan", "shenji"])
def test_only_the_administrator_opens_the_admin_pages(
    app: FastAPI, engine: Engine, username: str
) -> None:
    with browser(app) as client:
        login(client, username)
        home = client.get("/").text
        statuses = [client.get(path).status_code for path in PAGES]
    assert statuses == [403] * len(PAGES)
    assert 'href="/admin"' not in home
    assert [e[0] for e in _events(engine, "page:open")] == ["deny"] * len(PAGES)


def test_page_refusals_name_the_permission(app: FastAPI, engine: Engine, org: Org) -> None:
    """Issue 11 §2, C1.3: a page refused to a role is on record with the permission it needs,
    as an API route's refusal is ("a|b": the access page opens with either)."""
    with browser(app) as client:
        login(client, "shenji")
        assert client.get("/admin/roles").status_code == 403
        assert client.get("/access").status_code == 403
    with engine.connect() as conn:
        rows = conn.execute(
            select(audit_events.c.actor_id, audit_events.c.details)
            .where(audit_events.c.action == "page:open", audit_events.c.decision == "deny")
            .order_by(audit_events.c.id)
        ).all()
    details = [json.loads(r.details) if isinstance(r.details, str) else r.details for r in rows]
    assert {r.actor_id for r in rows} == {org.user_ids["shenji"]}
    assert [(d["page"], d["permission"]) for d in details] == [
        ("/admin/roles", "user:manage"),
        ("/access", "customer:work|grant:manage"),
    ]


def _code(html: str) -> str:
    found = re.search(r'<p class="code-big"><code>([A-Z0-9-]+)</code></p>', html)
    assert found, "no activation code on the page"
    return found.group(1)


def _activate(app: FastAPI, username: str, code: str, password: str = NEW_PASSWORD) -> int:
    with browser(app) as person:
        token = csrf_token(person.get("/activate").text)
        form = {"csrf_token": token, "username": username, "code": code}
        done = person.post("/activate", data={**form, "password": password, "repeat": password})
        return done.status_code


def _approve_all(app: FastAPI) -> str:
    """The security officer approves every pending account change on their page."""
    with browser(app) as officer:
        login(officer, "baomiyuan")
        page = officer.get("/security/account-changes").text
        token = csrf_token(page)
        for change_id in re.findall(r'action="/security/account-changes/([^/]+)/decision"', page):
            done = officer.post(
                f"/security/account-changes/{change_id}/decision",
                data={"csrf_token": token, "decision": "approve", "comment": "已核实"},
            )
            assert done.status_code == 303
        return page


def test_admin_adds_a_part_timer_who_sets_their_own_password(
    app: FastAPI, engine: Engine, org: Org
) -> None:
    """C1.2 / 三员分立 (issue 10 F1): no password is the administrator's; the code is shown once;
    the roles take effect when the security officer approves."""
    with browser(app) as client:
        login(client, "admin")
        page = client.get("/admin").text
        assert "张三" in page and "兼职" in page  # 赵六 is part-time
        assert 'id="user-password"' not in page
        added = client.post(
            "/admin/users",
            data=_user_form(csrf_token(page), department_id=org.departments["华南销售部"]),
        )
        assert added.status_code == 200 and "用户已添加" in added.text
        code = _code(added.text)
        assert "尚未激活" in added.text and "等待保密员审批" in added.text
        assert code not in client.get("/admin").text  # shown once, on that answer only
    assert _users(engine)["zhoujiu"] == []
    assert _events(engine, "user:create")[-1] == ("allow", "ok", "admin")
    with browser(app) as newcomer:
        assert submit_login(newcomer, "zhoujiu", password=NEW_PASSWORD).status_code == 401
    assert _activate(app, "zhoujiu", code, password="short") == 422
    assert _activate(app, "zhoujiu", "WRONG-CODE") == 401
    assert _activate(app, "zhoujiu", code) == 303
    assert _activate(app, "zhoujiu", code) == 401  # used once
    waiting = _approve_all(app)
    assert "周九" in waiting and "兼职" not in waiting
    assert _users(engine)["zhoujiu"] == ["salesperson"]
    with browser(app) as newcomer:
        assert submit_login(newcomer, "zhoujiu", password=NEW_PASSWORD).status_code == 303


def test_admin_resets_a_password_and_changes_roles(app: FastAPI, engine: Engine, org: Org) -> None:
    with browser(app) as client:
        login(client, "admin")
        token = csrf_token(client.get("/admin").text)
        reset = client.post(
            f"/admin/users/{org.user_ids['qianba']}/reset-password", data={"csrf_token": token}
        )
        assert reset.status_code == 200 and "密码已重置" in reset.text
        assert "在保密员与本人核实并解锁之前，账户保持锁定" in reset.text
        code = _code(reset.text)
        roles = client.post(
            f"/admin/users/{org.user_ids['qianba']}/roles",
            data={"csrf_token": token, "roles": ["salesperson", "department_head"]},
        )
        assert roles.status_code == 303
        assert "新增的角色等待保密员审批" in client.get(roles.headers["location"]).text
        mixed = client.post(
            f"/admin/users/{org.user_ids['qianba']}/roles",
            data={"csrf_token": token, "roles": ["salesperson", "auditor"]},
        )
        assert mixed.status_code == 422 and "三员分立" in mixed.text
    with browser(app) as qian:
        assert submit_login(qian, "qianba", password=PASSWORD).status_code == 401
    assert _activate(app, "qianba", code) == 303
    assert _users(engine)["qianba"] == ["salesperson"]
    _approve_all(app)
    assert sorted(_users(engine)["qianba"]) == ["department_head", "salesperson"]


@pytest.mark.parametrize(
    "roles",
    [
        ["administrator", "auditor"],
        ["security_officer", "auditor"],
        ["security_officer", "salesperson"],
    ],
)
def test_separation_of_duties_is_refused_inline(
    app: FastAPI, engine: Engine, roles: list[str]
) -> None:
    """三员分立 (MLPS 2.0): the service refuses; the form says why under the roles, keeps the
    rest."""
    with browser(app) as client:
        login(client, "admin")
        token = csrf_token(client.get("/admin").text)
        response = client.post("/admin/users", data=_user_form(token, roles=roles))
    assert response.status_code == 422
    html = response.text
    error = re.search(r'<p class="field-error" id="user-roles-error">(.*?)</p>', html)
    assert error and "三员分立" in error.group(1)
    assert 'aria-describedby="user-roles-help user-roles-error"' in html
    for role in roles:
        assert f'value="{role}" checked' in html
    assert 'value="zhoujiu"' in html and 'value="周九"' in html
    assert "zhoujiu" not in _users(engine)


def test_taken_and_malformed_usernames_are_said_inline(
    app: FastAPI, engine: Engine, org: Org
) -> None:
    south = org.departments["华南销售部"]
    with browser(app) as client:
        login(client, "admin")
        token = csrf_token(client.get("/admin").text)
        taken = client.post(
            "/admin/users", data=_user_form(token, username="zhangsan", department_id=south)
        )
        malformed = client.post(
            "/admin/users", data=_user_form(token, username="Bad Name", roles=[])
        )
    assert taken.status_code == 409 and "该用户名已被使用" in taken.text
    assert malformed.status_code == 422
    assert "以字母开头" in malformed.text and "请至少选择一个角色" in malformed.text
    assert "zhoujiu" not in _users(engine)


def test_disable_ends_sign_in_and_keeps_the_record(app: FastAPI, engine: Engine, org: Org) -> None:
    """C4.5.3: a leaver's account is disabled, not deleted; the audit log keeps naming them."""
    with browser(app) as qian:
        login(qian, "qianba")
        with browser(app) as client:
            login(client, "admin")
            page = client.get("/admin").text
            assert 'action="/admin/users/' + org.user_ids["admin"] + '/disable"' not in page
            done = client.post(
                f"/admin/users/{org.user_ids['qianba']}/disable",
                data={"csrf_token": csrf_token(page)},
            )
            assert done.status_code == 303
            listed = client.get("/admin?done=disabled").text
        assert qian.get("/").status_code == 303  # the open session ended at once
    row = re.search(r"<tr>\s*<td>钱八.*?</tr>", listed, re.S)
    assert row and "已停用" in row.group(0)
    with browser(app) as again:
        assert submit_login(again, "qianba", password=PASSWORD).status_code == 401
    assert _events(engine, "user:disable") == [("allow", "ok", "admin")]


def test_departments_tree_add_and_set_head(app: FastAPI, engine: Engine, org: Org) -> None:
    with browser(app) as client:
        login(client, "admin")
        page = client.get("/admin/departments").text
        # The tree: 上海组 sits below 华东销售部, with its head and headcount.
        order = [m for m in re.findall(r"<strong>(.*?)</strong>", page) if "部" in m or "组" in m]
        assert order.index("上海组") == order.index("华东销售部") + 1
        assert re.search(r"depth-1\">\s*<div class=\"dept-line\">\s*<strong>上海组", page)
        token = csrf_token(page)
        added = client.post(
            "/admin/departments",
            data={
                "csrf_token": token,
                "name": "深圳组",
                "parent_id": org.departments["华南销售部"],
                "head_user_id": "",
            },
        )
        assert added.status_code == 303
        with engine.connect() as conn:
            shenzhen = next(d for d in list_departments(conn) if d.name == "深圳组")
        head = client.post(
            f"/admin/departments/{shenzhen.id}/head",
            data={"csrf_token": token, "user_id": org.user_ids["sunqi"]},
        )
        assert head.status_code == 303
        assert "批准后生效" in client.get(head.headers["location"]).text
        not_a_head = client.post(
            f"/admin/departments/{shenzhen.id}/head",
            data={"csrf_token": token, "user_id": org.user_ids["zhangsan"]},
        )
        duplicate = client.post(
            "/admin/departments",
            data={"csrf_token": token, "name": "深圳组", "parent_id": "", "head_user_id": ""},
        )
        blank = client.post(
            "/admin/departments",
            data={"csrf_token": token, "name": "  ", "parent_id": "", "head_user_id": ""},
        )
    assert not_a_head.status_code == 409 and "负责人必须具有部门负责人角色" in not_a_head.text
    assert duplicate.status_code == 409 and "已有同名部门" in duplicate.text
    assert blank.status_code == 422 and "请填写部门名称" in blank.text
    with engine.connect() as conn:
        shenzhen = next(d for d in list_departments(conn) if d.name == "深圳组")
    assert shenzhen.parent_id == org.departments["华南销售部"]
    assert shenzhen.head_user_id is None  # the security officer has not approved yet
    _approve_all(app)
    with engine.connect() as conn:
        shenzhen = next(d for d in list_departments(conn) if d.name == "深圳组")
    assert shenzhen.head_user_id == org.user_ids["sunqi"]


def test_roles_page_shows_the_three_separate_people(app: FastAPI) -> None:
    with browser(app) as client:
        login(client, "admin")
        html = client.get("/admin/roles").text
    rows = dict(re.findall(r'<th scope="row">(.*?)</th>(.*?)</tr>', html, re.S))
    holders = {name.split(" <")[0]: row for name, row in rows.items()}
    assert "保密员" in holders["保密员"] and "baomiyuan" in holders["保密员"]
    assert "shenji" in holders["审计员"] and "admin" in holders["系统管理员"]
    assert "查阅和校验审计日志" in holders["审计员"]
    assert html.count('<span class="badge badge-role">三员</span>') == 3


def test_no_customer_data_on_admin_pages(
    app: FastAPI, engine: Engine, vault: Vault, org: Org
) -> None:
    make_customer(engine, vault, org, "zhaoliu")
    with browser(app) as client:
        login(client, "admin")
        for path in PAGES:
            assert SECRET_NAME not in client.get(path).text


# --- In Chromium ------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.xdist_group("browser")
def test_admin_adds_a_user_and_is_refused_a_second_role_in_the_browser(
    page: Page, live_server: LiveServer, engine: Engine
) -> None:
    web_login(page, live_server, "admin")

    def officer_and_auditor() -> None:
        page.locator("#user-username").fill("zhoujiu")
        page.locator("#user-display-name").fill("周九")
        page.locator("#user-employment").select_option("full_time")
        page.locator("#add-user input[name=roles][value=security_officer]").check()
        page.locator("#add-user input[name=roles][value=auditor]").check()
        page.locator("form[action='/admin/users'] button[type=submit]").click()
        expect(page.locator("#user-roles-error")).to_be_visible()

    page.goto("/admin")
    officer_and_auditor()
    expect(page.locator("#user-roles-error")).to_contain_text("三员分立")
    expect(page.locator("#user-username")).to_have_value("zhoujiu")
    page.goto("/admin")
    shoot(page, "admin-users-refused", then=officer_and_auditor, full_page=False)

    page.locator("#add-user").get_by_label("审计员").uncheck()
    page.get_by_role("button", name="添加用户").click()
    expect(page.locator(".notice")).to_contain_text("用户已添加")
    expect(page.locator(".code-big")).to_be_visible()
    expect(page.locator("tbody")).to_contain_text("周九")
    expect(page.locator("#pending-changes")).to_contain_text("周九")
    assert _users(engine)["zhoujiu"] == []  # the officer has not approved yet
    names = iter(("wushi", "zhengshiyi"))

    def add_another() -> None:
        page.locator("#user-username").fill(next(names))
        page.locator("#user-display-name").fill("新同事")
        page.locator("#add-user input[name=roles][value=salesperson]").check()
        page.locator("#user-department").select_option(label="华南销售部")
        page.get_by_role("button", name="Add the user").or_(
            page.get_by_role("button", name="添加用户")
        ).click()
        expect(page.locator(".code-big")).to_be_visible()

    page.goto("/admin")
    shoot(page, "admin-users-activation", then=add_another)
    page.goto("/admin")
    shoot(page, "admin-users")
    for path in ("/admin/departments", "/admin/roles"):
        page.goto(path)
        shoot(page, path.strip("/").replace("/", "-"))
    assert csp_violations(page) == []
