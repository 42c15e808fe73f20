"""The home page per role over HTTP, on SQLite and PostgreSQL (C3.2, C4.2.1, C4.3.2)."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from baomi.audit.models import audit_events
from tests.support.api import create_customer
from tests.support.api import login as api_login
from tests.support.org import Org
from tests.web.activity import seed
from tests.web.forms import browser, login

# 2 days ago zhangsan opened 5 records and revealed 2 fields; today lisi opened 3; 赵六 (华南)
# opened 7 today; the head wangwu sees only his own departments' people.
PLAN = {
    ("zhangsan", 2): (5, 2),
    ("lisi", 0): (3, 0),
    ("zhaoliu", 0): (7, 1),
}


def _row(html: str, chart: str, name: str) -> list[str]:
    """The numbers of one row in a chart's data table."""
    section = html[html.index(f'id="{chart}"') :]
    section = section[: section.index("</figure>")]
    found = re.search(rf'<th scope="row">{re.escape(name)}</th>(.*?)</tr>', section, re.S)
    assert found, f"no row {name} in {chart}"
    return re.findall(r'<td class="num">([^<]+)</td>', found.group(1))


def _nav(html: str) -> list[str]:
    nav = html[html.index('class="mainnav"') : html.index("</nav>")]
    return re.findall(r'<a href="([^"]+)"', nav)


def test_salesperson_sees_own_customers_and_no_charts(app: FastAPI, client: TestClient) -> None:
    headers = api_login(client, "zhangsan")
    create_customer(client, headers, name="上海晨光贸易有限公司")
    with browser(app) as web:
        login(web, "zhangsan")
        home = web.get("/").text
    assert "上海晨光贸易有限公司" in home
    assert "chart-per-day" not in home
    # C4.2.1 / 三员分立: the menu offers only what the role may use.
    assert {"/", "/account"} <= set(_nav(home))
    assert not {"/audit", "/admin", "/security"} & set(_nav(home))
    # C4.3.2: a page with customer data carries the viewer's watermark.
    assert "张三 · zhangsan" in home[home.index('class="watermark"') :]


def test_head_sees_volume_of_own_departments_per_day_and_person(
    app: FastAPI, engine: Engine, org: Org
) -> None:
    """C3.2: 王五 (华东) sees 张三, 李四 (上海组 below 华东) and 钱八; not 赵六 (华南)."""
    seed(engine, org, PLAN)
    with browser(app) as web:
        login(web, "wangwu")
        home = web.get("/").text
    assert _row(home, "chart-per-person", "张三") == ["5", "2"]
    assert _row(home, "chart-per-person", "李四") == ["3", "0"]
    assert _row(home, "chart-per-person", "钱八") == ["0", "0"]
    assert "赵六" not in home
    days = re.findall(r'<th scope="row">([^<]+)</th>', home[home.index('id="chart-per-day"') :])
    assert len(days) >= 14
    per_day = [_row(home, "chart-per-day", day) for day in days[:14]]
    assert per_day[-1] == ["3", "0"] and per_day[-3] == ["5", "2"]  # today, two days ago
    assert sum(int(a) for a, _ in per_day) == 8
    assert 'role="img"' in home and "<desc" in home  # a text alternative for each chart


def test_officer_sees_everyone_who_works_with_customers(
    app: FastAPI, engine: Engine, org: Org
) -> None:
    seed(engine, org, PLAN)
    with browser(app) as web:
        login(web, "baomiyuan")
        home = web.get("/").text
    assert _row(home, "chart-per-person", "赵六") == ["7", "1"]
    assert _row(home, "chart-per-person", "王五") == ["0", "0"]
    assert "审计员" not in home and "系统管理员" not in home.split('class="watermark"')[0]
    assert "我的客户" not in home  # C4.2.1: no customer data by the officer's role
    with engine.connect() as conn:
        views = conn.execute(
            select(func.count()).where(audit_events.c.action == "activity:view")
        ).scalar_one()
    assert views == 1


def test_auditor_and_administrator_see_no_customer_data(app: FastAPI, client: TestClient) -> None:
    """C4.2.1 / 三员分立: their homes show the log's state and the organisation, nothing else."""
    headers = api_login(client, "zhangsan")
    create_customer(client, headers, name="绝不外泄科技公司")
    with browser(app) as web:
        login(web, "shenji")
        auditor = web.get("/").text
        login(web, "admin")
        admin = web.get("/").text
    assert "绝不外泄科技公司" not in auditor and "绝不外泄科技公司" not in admin
    assert "已封存的事件" in auditor
    assert "在用账户" in admin
    assert not {"/customers", "/access", "/admin", "/security"} & set(_nav(auditor))
    assert not {"/customers", "/access", "/audit", "/security"} & set(_nav(admin))


def test_refusals_show_as_alerts_to_the_person_and_their_head(
    app: FastAPI, client: TestClient
) -> None:
    south = api_login(client, "zhaoliu")
    theirs = create_customer(client, south, name="华南客户")
    east = api_login(client, "zhangsan")
    assert client.get(f"/api/v1/customers/{theirs['id']}", headers=east).status_code in (403, 404)
    with browser(app) as web:
        login(web, "zhangsan")
        own = web.get("/").text
        login(web, "wangwu")
        head = web.get("/").text
    for html in (own, head):
        assert "近 7 天有 1 次操作被拒绝" in html
        assert "打开客户" in html
    assert "华南客户" not in own and "华南客户" not in head
