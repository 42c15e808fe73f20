"""Issue 19 item 4 on the administrator's and the officer's pages (三员分立, C1.3, C4.2.1): rename
and move a department, correct and enable a person, and the department every salesperson needs.
Over HTTP on SQLite and PostgreSQL (Chinese first), and in Chromium with screenshots."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, select

from baomi.audit.models import audit_events
from baomi.users.schemas import UserOut
from baomi.users.service import list_departments, list_users
from tests.support.org import Org
from tests.web.conftest import LiveServer, csp_violations, web_login
from tests.web.forms import browser, csrf_token, login
from tests.web.test_accessibility import violations
from tests.web.workflows import shoot

DEPARTMENTS = "/admin/departments"


def _parents(engine: Engine) -> dict[str, str | None]:
    with engine.connect() as conn:
        found = list_departments(conn)
    names = {d.id: d.name for d in found}
    return {d.name: names.get(d.parent_id or "") for d in found}


def _person(engine: Engine, username: str) -> UserOut:
    with engine.connect() as conn:
        return next(u for u in list_users(conn) if u.username == username)


def _actions(engine: Engine, action: str) -> list[tuple[str, str, str | None]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(audit_events.c.decision, audit_events.c.reason, audit_events.c.actor_username)
            .where(audit_events.c.action == action)
            .order_by(audit_events.c.id)
        )
        return [(r.decision, r.reason, r.actor_username) for r in rows]


def _decide_all(app: FastAPI, decision: str = "approve") -> str:
    """The security officer decides every pending change on their page; returns the page."""
    with browser(app) as officer:
        login(officer, "baomiyuan")
        page = officer.get("/security/account-changes").text
        token = csrf_token(page)
        for change_id in re.findall(r'action="/security/account-changes/([^/]+)/decision"', page):
            done = officer.post(
                f"/security/account-changes/{change_id}/decision",
                data={"csrf_token": token, "decision": decision},
            )
            assert done.status_code == 303, done.text
        return page


def _post(client: TestClient, path: str, **data: object) -> Response:
    token = csrf_token(client.get("/admin").text)
    return client.post(path, data={"csrf_token": token, **data})


def test_rename_a_department_on_its_page(app: FastAPI, engine: Engine, org: Org) -> None:
    south = org.departments["华南销售部"]
    with browser(app) as client:
        login(client, "admin")
        page = client.get(DEPARTMENTS).text
        assert f'action="/admin/departments/{south}/name"' in page
        done = _post(client, f"{DEPARTMENTS}/{south}/name", name="华南大区")
        assert done.status_code == 303
        shown = client.get(done.headers["location"]).text
        assert "部门已更名" in shown and "华南大区" in shown
        blank = _post(client, f"{DEPARTMENTS}/{south}/name", name="   ")
        taken = _post(client, f"{DEPARTMENTS}/{south}/name", name="上海组")
    assert blank.status_code == 422 and "请填写部门名称" in blank.text
    assert taken.status_code == 409 and "已有同名部门" in taken.text
    assert "华南大区" in _parents(engine)
    assert _actions(engine, "department:rename") == [("allow", "ok", "admin")]


def test_move_a_department_waits_for_the_officer(app: FastAPI, engine: Engine, org: Org) -> None:
    """C1.3: the move goes to the security officer, who sees it in words and approves it."""
    shanghai, south = org.departments["上海组"], org.departments["华南销售部"]
    east = org.departments["华东销售部"]
    with browser(app) as client:
        login(client, "admin")
        page = client.get(DEPARTMENTS).text
        # 华东 cannot be offered a place under itself or under 上海组, which is below it.
        choices = re.search(rf'<select id="parent-{east}".*?</select>', page, re.S)
        assert choices and "上海组" not in choices.group(0) and "华南销售部" in choices.group(0)
        cycle = _post(client, f"{DEPARTMENTS}/{east}/parent", parent_id=shanghai)
        assert cycle.status_code == 409
        assert "部门不能调到自身或其下级部门之下" in cycle.text
        same = _post(client, f"{DEPARTMENTS}/{shanghai}/parent", parent_id=east)
        assert same.status_code == 409 and "该部门已在此位置" in same.text
        done = _post(client, f"{DEPARTMENTS}/{shanghai}/parent", parent_id=south)
        assert done.status_code == 303
        shown = client.get(done.headers["location"]).text
        assert "调整申请已提交保密员" in shown and "调到 华南销售部 之下" in shown
        pending = client.get("/admin").text
        assert re.search(r"<strong>上海组</strong> —\s*调到 华南销售部 之下", pending)
    assert _parents(engine)["上海组"] == "华东销售部"
    officer_page = _decide_all(app)
    card = re.search(r'<article class="request-card".*?</article>', officer_page, re.S)
    assert card is not None
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", card.group(0)))
    assert "调整上级部门: 部门 上海组" in text
    assert "隶属 华东销售部 → 隶属 华南销售部" in text
    assert _parents(engine)["上海组"] == "华南销售部"
    with browser(app) as officer:
        login(officer, "baomiyuan")
        decided = officer.get("/security/account-changes").text
    assert "已批准" in decided and "上海组" in decided


def test_a_move_to_the_top_level(app: FastAPI, engine: Engine, org: Org) -> None:
    shanghai = org.departments["上海组"]
    with browser(app) as client:
        login(client, "admin")
        done = _post(client, f"{DEPARTMENTS}/{shanghai}/parent", parent_id="")
        assert done.status_code == 303
        assert "调整为顶级部门" in client.get(DEPARTMENTS).text
    officer_page = _decide_all(app)
    assert "→ <strong>顶级</strong>" in officer_page
    assert _parents(engine)["上海组"] is None


def test_edit_a_person(app: FastAPI, engine: Engine, org: Org) -> None:
    zhaoliu = org.user_ids["zhaoliu"]
    with browser(app) as client:
        login(client, "admin")
        page = client.get("/admin").text
        assert f'action="/admin/users/{zhaoliu}/edit"' in page
        done = _post(
            client,
            f"/admin/users/{zhaoliu}/edit",
            display_name="赵六六",
            email="zhaoliu@example.com",
            employment_type="full_time",
        )
        assert done.status_code == 303
        assert "修改已保存" in client.get(done.headers["location"]).text
        bad = _post(
            client,
            f"/admin/users/{zhaoliu}/edit",
            display_name="赵六六",
            email="不是地址",
            employment_type="full_time",
        )
        blank = _post(
            client,
            f"/admin/users/{zhaoliu}/edit",
            display_name="  ",
            email="",
            employment_type="full_time",
        )
    assert bad.status_code == 422 and "name@example.com" in bad.text
    assert blank.status_code == 422 and "请填写姓名" in blank.text
    person = _person(engine, "zhaoliu")
    assert (person.display_name, person.email, person.employment_type) == (
        "赵六六",
        "zhaoliu@example.com",
        "full_time",
    )
    assert _actions(engine, "user:edit") == [("allow", "ok", "admin")]


def test_enable_a_salesperson_again_once_the_officer_approves(
    app: FastAPI, engine: Engine, org: Org
) -> None:
    """C4.2.1: giving an account back its access to customer data waits for the officer."""
    qianba = org.user_ids["qianba"]
    with browser(app) as client:
        login(client, "admin")
        assert _post(client, f"/admin/users/{qianba}/disable").status_code == 303
        page = client.get("/admin").text
        assert f'action="/admin/users/{qianba}/enable"' in page and "重新启用" in page
        done = _post(client, f"/admin/users/{qianba}/enable")
        assert done.status_code == 303
        shown = client.get(done.headers["location"]).text
        assert "重新启用的申请已提交保密员" in shown
        assert "重新启用等待保密员审批" in shown
        assert f'action="/admin/users/{qianba}/enable"' not in shown
    assert _person(engine, "qianba").is_active is False
    officer_page = _decide_all(app)
    assert "重新启用账户" in officer_page and "钱八" in officer_page
    assert _person(engine, "qianba").is_active is True
    with browser(app) as client:
        login(client, "admin")
        again = _post(client, f"/admin/users/{qianba}/enable")
    assert again.status_code == 409 and "该账户未被停用" in again.text


def test_a_salesperson_needs_a_department(app: FastAPI, engine: Engine, org: Org) -> None:
    """The add form says it under the department; a move out of every department is refused."""
    with browser(app) as client:
        login(client, "admin")
        token = csrf_token(client.get("/admin").text)
        form = {
            "csrf_token": token,
            "username": "zhoujiu",
            "display_name": "周九",
            "employment_type": "full_time",
            "department_id": "",
            "roles": ["salesperson"],
            "email": "",
        }
        added = client.post("/admin/users", data=form)
        out = _post(client, f"/admin/users/{org.user_ids['zhangsan']}/department", department_id="")
    assert added.status_code == 422
    error = re.search(r'<p class="field-error" id="user-department-id-error">(.*?)</p>', added.text)
    assert error and "必须属于某个部门" in error.group(1)
    assert 'value="zhoujiu"' in added.text
    assert out.status_code == 409 and "必须属于某个部门" in out.text
    assert _person(engine, "zhangsan").department_name == "华东销售部"


def test_someone_without_customer_work_leaves_their_department_at_once(
    app: FastAPI, engine: Engine, org: Org
) -> None:
    """An auditor placed in a department may leave it: it opens nothing (no officer needed)."""
    with browser(app) as client:
        login(client, "admin")
        token = csrf_token(client.get("/admin").text)
        client.post(
            "/admin/users",
            data={"csrf_token": token, "username": "shenji2", "display_name": "审计员二",
                  "employment_type": "full_time", "department_id": org.departments["华南销售部"],
                  "roles": ["auditor"], "email": ""},
        )  # fmt: skip
    _decide_all(app)
    shenji2 = _person(engine, "shenji2")
    with browser(app) as client:
        login(client, "admin")
        done = _post(client, f"/admin/users/{shenji2.id}/department", department_id="")
        assert done.status_code == 303
        assert "此人现已不属于任何部门" in client.get(done.headers["location"]).text
    assert _person(engine, "shenji2").department_id is None


# --- In Chromium ------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.xdist_group("browser")
def test_rename_and_move_in_the_browser(page: Page, live_server: LiveServer) -> None:
    engine, org = live_server.engine, live_server.org
    shanghai = org.departments["上海组"]
    web_login(page, live_server, "admin")
    page.goto(DEPARTMENTS)
    row = page.locator(f"li:has(#parent-{shanghai})")
    row.locator("summary").click()
    row.get_by_label("新名称").fill("上海一组")
    row.get_by_role("button", name="更名").click()
    expect(page.locator(".notice")).to_contain_text("部门已更名")
    row = page.locator(f"li:has(#parent-{shanghai})")
    row.locator("summary").click()
    row.locator(f"#parent-{shanghai}").select_option(label="华南销售部")
    row.get_by_role("button", name="调整上级部门").click()
    expect(page.locator(".notice")).to_contain_text("调整申请已提交保密员")
    expect(page.locator(".dept-waiting")).to_contain_text("调到 华南销售部 之下")
    assert _parents(engine)["上海一组"] == "华东销售部"

    def open_row() -> None:
        page.locator(f"li:has(#parent-{shanghai}) summary").click()

    shoot(page, "admin-departments-move", then=open_row)
    assert violations(page) == []  # with the rename and move forms open
    page.goto("/admin")
    page.locator(f"tr:has([action='/admin/users/{org.user_ids['zhaoliu']}/edit']) summary").click()
    expect(page.locator(f"#edit-email-{org.user_ids['zhaoliu']}")).to_be_visible()
    assert violations(page) == []  # with the edit form open
    assert csp_violations(page) == []

    page.context.clear_cookies()
    web_login(page, live_server, "baomiyuan")
    page.goto("/security/account-changes")
    card = page.locator("#account-changes .request-card")
    expect(card).to_contain_text("上海一组")
    expect(card).to_contain_text("隶属 华南销售部")
    shoot(page, "security-account-changes-department")
    card.get_by_role("button", name="批准").click()
    expect(page.locator(".notice")).to_contain_text("已批准")
    assert _parents(engine)["上海一组"] == "华南销售部"
    assert csp_violations(page) == []
