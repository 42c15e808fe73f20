"""The security officer's pages (保密员): grants, levels and rules, locked accounts, keys. Over
HTTP on SQLite and PostgreSQL, and in Chromium; the other roles get 403 (三员分立)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, select

from baomi import clock
from baomi.app import create_app
from baomi.audit.context import CLI_CONTEXT
from baomi.audit.models import audit_events
from baomi.auth import lockout
from baomi.config import Settings
from baomi.crypto.keys import LocalKeyFileProvider
from baomi.customers.vault import Vault
from baomi.grants.schemas import GrantIn
from baomi.grants.service import create_emergency_grant
from baomi.keystore import rotation as rotation_steps
from baomi.security import levels
from baomi.uow import unit_of_work
from tests.support.levels import DEFAULT_LEVELS
from tests.support.org import Org
from tests.support.org import actor as load_actor
from tests.web.conftest import LiveServer, csp_violations, web_login
from tests.web.forms import browser, csrf_token, login, submit_login
from tests.web.workflows import SECRET_NAME, make_customer, shoot

PAGES = ("/security", "/security/levels", "/security/accounts", "/security/keys")


def _events(engine: Engine, action: str) -> list[tuple[str, str, str | None]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(audit_events.c.decision, audit_events.c.reason, audit_events.c.actor_username)
            .where(audit_events.c.action == action)
            .order_by(audit_events.c.id)
        )
        return [(r.decision, r.reason, r.actor_username) for r in rows]


def _grant(engine: Engine, vault: Vault, org: Org, customer_id: str, user: str = "zhangsan") -> str:
    officer = load_actor(engine, org, "baomiyuan")
    with unit_of_work(engine) as conn:
        out = create_emergency_grant(
            conn,
            levels=DEFAULT_LEVELS,
            tags=vault.tags,
            max_hours=24,
            actor=officer,
            ctx=CLI_CONTEXT,
            grant_in=GrantIn(
                user_id=org.user_ids[user],
                customer_id=customer_id,
                duration_hours=24,
                purpose="[handover] 接手赵六的客户",
            ),
            mail=False,
        )
    return out.id


def _lock(engine: Engine, username: str) -> None:
    """Fail the sign-in of `username` until the account locks (the real lockout rule)."""
    policy = lockout.Policy()
    now = clock.utcnow()
    with unit_of_work(engine) as conn:
        for n in range(policy.lockout):
            lockout.record_failure(
                conn,
                policy=policy,
                username=username,
                client_addr=f"192.0.2.{n}",
                now=now - timedelta(hours=2),
            )


@pytest.mark.parametrize("username", ["zhangsan", "wangwu", "shenji", "admin"])
def test_only_the_officer_opens_the_security_pages(
    app: FastAPI, engine: Engine, username: str
) -> None:
    with browser(app) as client:
        login(client, username)
        home = client.get("/").text
        statuses = [client.get(path).status_code for path in PAGES]
    assert statuses == [403] * len(PAGES)
    assert 'href="/security"' not in home
    assert len(_events(engine, "page:open")) == len(PAGES)


def test_officer_sees_every_part(app: FastAPI) -> None:
    with browser(app) as client:
        login(client, "baomiyuan")
        home = client.get("/").text
        pages = {path: client.get(path) for path in PAGES}
    assert 'href="/security"' in home
    assert {p: r.status_code for p, r in pages.items()} == dict.fromkeys(PAGES, 200)
    for path in PAGES:  # the tabs show each part, the current one marked
        assert f'<a href="{path}" aria-current="page">' in pages[path].text


def test_grants_list_and_revoke(app: FastAPI, engine: Engine, vault: Vault, org: Org) -> None:
    """C4.2.1: the officer ends a grant now; the list names the customer by id only."""
    customer_id = make_customer(engine, vault, org, "zhaoliu")
    grant_id = _grant(engine, vault, org, customer_id)
    with browser(app) as client:
        login(client, "baomiyuan")
        listed = client.get("/security").text
        assert customer_id in listed and "张三" in listed and "接手同事的工作" in listed
        assert "剩余 23 小时" in listed or "剩余 1 天" in listed
        assert SECRET_NAME not in listed
        nobody = client.get(f"/security?user={org.user_ids['lisi']}").text
        assert "没有符合条件的授权" in nobody
        revoked = client.post(
            f"/security/grants/{grant_id}/revoke", data={"csrf_token": csrf_token(listed)}
        )
        assert revoked.status_code == 303
        assert revoked.headers["location"] == "/security?done=revoked"
        active = client.get("/security?done=revoked").text
        everything = client.get("/security?show=all").text
        again = client.post(
            f"/security/grants/{grant_id}/revoke", data={"csrf_token": csrf_token(listed)}
        )
    assert "授权已结束" in active and customer_id not in active
    assert customer_id in everything and "已撤销" in everything
    assert again.status_code == 409 and "该授权已经结束" in again.text
    assert _events(engine, "grant:revoke") == [("allow", "ok", "baomiyuan")]


def test_levels_table_reads_the_one_configuration(
    engine: Engine, vault: Vault, database: tuple[str, Org], tmp_path: Path
) -> None:
    """C2.2: BAOMI_LEVELS and levels.toml, as every control reads them, shown read-only."""
    home = tmp_path / "home"
    home.mkdir()
    (home / levels.LEVELS_FILE).write_text(
        '[secret]\nretention_days = 365\nlabel_en = "Restricted"\n', encoding="utf-8"
    )
    settings = Settings(
        home=home, database_url=database[0], levels="normal,secret,confidential,top_secret"
    )
    own = Vault.from_settings(settings, vault.provider)
    app = create_app(settings=settings, engine=engine, vault=own)
    with browser(app) as client:
        login(client, "baomiyuan")
        html = client.get("/security/levels").text
    rows = dict(
        re.findall(r'<tr>\s*<th scope="row"><span class="level level-(\w+)">(.*?)</tr>', html, re.S)
    )
    assert list(rows) == ["normal", "secret", "confidential", "top_secret"]
    assert "绝密" in rows["top_secret"] and "365 天" in rows["secret"]
    for code, row in rows.items():
        rule = levels.build_levels(settings.levels).rule_of(code)
        assert ("禁止导出" in row) is (not rule.export_allowed)
        assert ("保密员" in row) is (levels.Approver.SECURITY_OFFICER in rule.access_approvers)
    assert "证件号或信用代码" in rows["normal"]  # always masked (C4.3.2)
    assert "电话" not in rows["normal"] and "电话" in rows["confidential"]


def test_unlock_a_locked_account(app: FastAPI, engine: Engine, org: Org) -> None:
    _lock(engine, "lisi")
    with browser(app) as lisi:
        refused = submit_login(lisi, "lisi")  # the right password, but locked
    assert refused.status_code == 401 and "已被锁定" in refused.text
    with browser(app) as client:
        login(client, "baomiyuan")
        listed = client.get("/security/accounts").text
        assert "李四" in listed
        action = f'action="/security/accounts/{org.user_ids["lisi"]}/unlock"'
        assert action in listed
        done = client.post(
            f"/security/accounts/{org.user_ids['lisi']}/unlock",
            data={"csrf_token": csrf_token(listed)},
        )
        assert done.status_code == 303
        after = client.get("/security/accounts?done=unlocked").text
    assert "账户已解锁" in after and "没有被锁定的账户" in after
    with browser(app) as lisi:
        login(lisi, "lisi")
    assert _events(engine, "auth:unlock") == [("allow", "unlocked", "baomiyuan")]


def test_key_status_counts_data_keys_per_version(
    app: FastAPI, engine: Engine, vault: Vault, org: Org
) -> None:
    """C4.2.2: one data key per customer, all under the active master-key version."""
    for n in range(3):  # one phone each: a second record with one phone is refused (C4.1.3)
        make_customer(engine, vault, org, "zhaoliu", phones=[f"1391234560{n}"])
    active = vault.provider.active_version()
    with browser(app) as client:
        login(client, "baomiyuan")
        html = client.get("/security/keys").text
    row = re.search(rf'<tr class="current">\s*<td class="num">{active}</td>(.*?)</tr>', html, re.S)
    assert row and "有效" in row.group(1) and '<td class="num">3</td>' in row.group(1)
    assert "3 / 3（100%）" in html
    assert 'max="3" value="3"' in html


def test_rewrap_progress_of_an_unfinished_rotation(
    engine: Engine,
    database: tuple[str, Org],
    org: Org,
    key_provider: LocalKeyFileProvider,
    tmp_path: Path,
) -> None:
    """C4.2.2: a rotation stopped after one batch shows 1 of 3 data keys under the new version."""
    copy = tmp_path / "master.key"  # this test's own key file: the session's stays at version 1
    shutil.copy2(key_provider.path, copy)
    provider = LocalKeyFileProvider.load(copy)
    own = Vault.from_provider(provider)
    for n in range(3):
        make_customer(engine, own, org, "zhaoliu", phones=[f"1391234560{n}"])
    rotation = rotation_steps.start_rotation(engine, provider)
    assert rotation_steps.rewrap_batch(engine, provider, rotation=rotation, batch_size=1) == 1
    settings = Settings(home=tmp_path / "home", database_url=database[0])
    app = create_app(settings=settings, engine=engine, vault=own)
    with browser(app) as client:
        login(client, "baomiyuan")
        html = client.get("/security/keys").text
    assert "轮换到版本 2 尚未完成" in html
    assert "1 / 3（33%）" in html
    versions = re.findall(
        r'<td class="num">(\d+)</td>\s*<td>([^<]+)</td>\s*<td class="num">(\d+)</td>', html
    )
    assert versions == [("1", "旧版本（仍可解封）", "2"), ("2", "有效", "1")]


# --- In Chromium ------------------------------------------------------------------------


@pytest.fixture
def locked_wangwu(engine: Engine) -> Iterator[None]:
    _lock(engine, "wangwu")
    yield


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.xdist_group("browser")
def test_officer_unlocks_and_revokes_in_the_browser(
    page: Page,
    live_server: LiveServer,
    engine: Engine,
    vault: Vault,
    org: Org,
    locked_wangwu: None,
) -> None:
    customer_id = make_customer(engine, vault, org, "zhaoliu")
    _grant(engine, vault, org, customer_id)
    web_login(page, live_server, "baomiyuan")
    page.goto("/security/accounts")
    row = page.locator("tbody tr").filter(has_text="王五")
    expect(row).to_have_count(1)
    shoot(page, "security-accounts")
    page.get_by_role("button", name="解锁 wangwu").click()
    expect(page.locator(".notice")).to_contain_text("账户已解锁")
    expect(page.locator("tbody tr")).to_have_count(0)

    page.goto("/security")
    grants = page.locator("tbody tr")
    expect(grants).to_have_count(1)
    expect(grants).to_contain_text(customer_id)
    shoot(page, "security-grants")
    page.locator("tbody tr").get_by_role("button").click()
    expect(page.locator(".notice")).to_contain_text("授权已结束")
    expect(page.locator("tbody tr")).to_have_count(0)

    for tab in ("/security/levels", "/security/keys"):
        page.goto(tab)
        shoot(page, tab.strip("/").replace("/", "-"))
    assert csp_violations(page) == []
    assert _events(engine, "auth:unlock") == [("allow", "unlocked", "baomiyuan")]
