"""The auditor's page (C1.3, C6): search with filters and paging, verification, proof download;
the wrong roles get 403; no customer data anywhere. Over HTTP on SQLite and PostgreSQL, and in
Chromium."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, select

from baomi.audit import guards, leaf, proofcheck, runner
from baomi.audit.context import CLI_CONTEXT, RequestContext
from baomi.audit.models import audit_events
from baomi.audit.service import append, event
from baomi.audit.settings import AuditSettings
from baomi.audit.tags import Action, Decision
from baomi.customers.reasons import RevealReason
from baomi.customers.service import reveal
from baomi.customers.vault import Vault
from baomi.uow import unit_of_work
from tests.support.org import Org
from tests.support.org import actor as load_actor
from tests.web.conftest import LiveServer, csp_violations, web_login
from tests.web.forms import browser, csrf_token, login, submit_login
from tests.web.workflows import SECRET_NAME, SECRET_PHONE, make_customer, shoot


def _events(engine: Engine, action: str) -> list[tuple[str, str, str | None, object]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                audit_events.c.decision,
                audit_events.c.reason,
                audit_events.c.object_id,
                audit_events.c.details,
            )
            .where(audit_events.c.action == action)
            .order_by(audit_events.c.id)
        )
        return [(r.decision, r.reason, r.object_id, r.details) for r in rows]


def _rows(html: str) -> list[str]:
    """The table rows of the events table."""
    body = html[html.index('class="table events"') :]
    return re.findall(r"<tr>(.*?)</tr>", body[body.index("<tbody>") :], re.S)


def _event_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', "".join(_rows(html)))]


def _seal(app: FastAPI, engine: Engine) -> None:
    runner.seal_now(engine, settings=AuditSettings(home=app.state.settings.home))


@pytest.mark.parametrize(
    ("username", "status"),
    [("shenji", 200), ("zhangsan", 403), ("baomiyuan", 403), ("admin", 403)],
)
def test_only_the_auditor_opens_the_audit_page(
    app: FastAPI, engine: Engine, username: str, status: int
) -> None:
    """三员分立: the log is the auditor's; the officer and the administrator do not read it."""
    with browser(app) as client:
        login(client, username)
        home = client.get("/").text
        pages = [client.get(path) for path in ("/audit", "/audit/events/1/proof")]
    assert [p.status_code for p in pages] == [status, status]
    assert ('href="/audit"' in home) is (status == 200)
    refused = [e for e in _events(engine, "page:open") if e[0] == "deny"]
    assert len(refused) == (0 if status == 200 else 2)


def test_search_by_action_decision_person_and_day(app: FastAPI, engine: Engine) -> None:
    with browser(app) as other:
        login(other, "zhangsan")
        assert submit_login(other, "lisi", password="wrong-password").status_code == 401
    with browser(app) as client:
        login(client, "shenji")
        refused = client.get("/audit?action=auth:login&decision=deny").text
        allowed = client.get("/audit?actor=zhangsan&action=auth:login").text
        none_yet = client.get("/audit?until=2020-01-01").text
    assert len(_rows(refused)) == 1 and "lisi" in _rows(refused)[0]
    assert "拒绝" in _rows(refused)[0] and 'value="auth:login" selected' in refused
    assert len(_rows(allowed)) == 1 and "zhangsan" in _rows(allowed)[0]
    assert "没有符合条件的事件" in none_yet
    # The log audits its own readers (C1.3).
    searches = _events(engine, "audit:search")
    assert len(searches) == 3 and {s[0] for s in searches} == {"allow"}


def test_bad_filters_are_said_and_kept(app: FastAPI) -> None:
    with browser(app) as client:
        login(client, "shenji")
        response = client.get("/audit?since=yesterday&customer_id=abc&actor=zhangsan")
    assert response.status_code == 422
    assert "请使用 2026-03-01 这样的日期" in response.text
    assert "请填写完整编号" in response.text
    assert 'value="yesterday"' in response.text and 'value="zhangsan"' in response.text


def test_pages_of_fifty_newest_first(app: FastAPI, engine: Engine) -> None:
    ctx = RequestContext(request_id="seed-paging")
    with unit_of_work(engine) as conn:
        for n in range(60):
            append(
                conn,
                event(
                    ctx=ctx,
                    actor_id=None,
                    actor_username="seed",
                    action=Action.CUSTOMER_CHECK,
                    decision=Decision.ALLOW,
                    reason="ok",
                    object_id=f"probe-{n}",
                ),
            )
    with browser(app) as client:
        login(client, "shenji")
        first = client.get("/audit?action=customer:check").text
        ids = _event_ids(first)
        assert len(ids) == 50 and ids == sorted(ids, reverse=True)
        older = re.search(r'href="(/audit\?[^"]*before=\d+[^"]*)"', first)
        assert older, "no link to older events"
        second = client.get(older.group(1).replace("&amp;", "&")).text
    rest = _event_ids(second)
    assert len(rest) == 10 and max(rest) < min(ids)
    assert "probe-0" in second and "probe-59" in first


def test_no_customer_data_on_the_page_or_in_the_proofs(
    app: FastAPI, engine: Engine, vault: Vault, org: Org
) -> None:
    """C1.3: events carry ids and field names; the values never reach the auditor."""
    customer_id = make_customer(engine, vault, org, "zhaoliu")
    zhaoliu = load_actor(engine, org, "zhaoliu")
    with unit_of_work(engine) as conn:
        reveal(
            conn,
            actor=zhaoliu,
            ctx=CLI_CONTEXT,
            vault=vault,
            customer_id=customer_id,
            fields=["phones"],
            purpose="contract",
            reason_code=RevealReason.CUSTOMER_CONTACT,
            reason="回电确认交货时间",
        )
    _seal(app, engine)
    with browser(app) as client:
        login(client, "shenji")
        html = client.get(f"/audit?customer_id={customer_id}").text
        rows = _rows(html)
        proofs = [client.get(f"/audit/events/{n}/proof").text for n in _event_ids(html)]
    assert {"customer:create", "customer:reveal"} <= set(
        re.findall(r"<code>(customer:\w+)</code>", html)
    )
    assert any("phones" in row for row in rows)
    for text in [html, *proofs]:
        assert SECRET_NAME not in text and SECRET_PHONE not in text
        assert SECRET_PHONE[-4:] not in text  # not even the masked tail


def test_proof_download_verifies_offline(app: FastAPI, engine: Engine) -> None:
    with browser(app) as client:
        login(client, "zhangsan")
    with browser(app) as client:
        login(client, "shenji")
        html = client.get("/audit?actor=zhangsan&action=auth:login").text
        (event_id,) = _event_ids(html)
        response = client.get(f"/audit/events/{event_id}/proof")  # sealed on demand
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["content-disposition"] == (
        f'attachment; filename="baomi-audit-event-{event_id}-proof.json"'
    )
    assert proofcheck.check_text(response.content) == (proofcheck.VALID, "valid inclusion")
    doc = json.loads(response.content)
    assert leaf.decode(doc["leaf"].encode())["id"] == event_id
    # A changed proof does not verify.
    doc["leafIdx"] = doc["leafIdx"] + 1 if doc["leafIdx"] + 1 < doc["treeSize"] else 0
    if doc["treeSize"] > 1:
        assert proofcheck.check_text(json.dumps(doc))[0] == proofcheck.INVALID
    assert (
        "allow",
        "auditor",
        str(event_id),
        None,
    ) in _events(engine, "audit:verify")


def test_full_verification_passes_then_catches_tampering(app: FastAPI, engine: Engine) -> None:
    """The page runs the CLI's verifier; an event changed after sealing fails it, by number."""
    _seal(app, engine)
    with browser(app) as client:
        login(client, "shenji")
        token = csrf_token(client.get("/audit").text)
        passed = client.post("/audit/verify", data={"csrf_token": token})
        assert passed.status_code == 200
        assert "校验通过" in passed.text
        with engine.begin() as conn:
            for stmt in guards.drop_ddl(conn.dialect.name):
                conn.exec_driver_sql(stmt)
            conn.exec_driver_sql("UPDATE audit_events SET reason = 'forged' WHERE id = 3")
        failed = client.post("/audit/verify", data={"csrf_token": token})
    assert "校验失败" in failed.text
    assert "event 3 " in failed.text
    results = [e[3] for e in _events(engine, "audit:verify") if e[1] == "full_verification"]
    outcomes = [(json.loads(d) if isinstance(d, str) else d)["ok"] for d in results]
    assert outcomes == [True, False]


def test_the_unsealed_window_is_shown_and_never_called_verified(
    app: FastAPI, engine: Engine
) -> None:
    """C1.3: how many events wait for a checkpoint, and for how long; they are not "verified"."""
    _seal(app, engine)
    with browser(app) as client:
        login(client, "shenji")  # its sign-in event now waits for the next checkpoint
        page = client.get("/audit").text
        token = csrf_token(page)
        checked = client.post("/audit/verify", data={"csrf_token": token}).text
    waiting = re.search(r"<dt>待封存</dt><dd>([\d,]+)</dd>", page)
    assert waiting and int(waiting.group(1).replace(",", "")) >= 1
    assert re.search(r"<dt>最早一条已等待</dt>\s*<dd>\d+\s*秒钟?</dd>", page)
    assert "校验通过" in checked
    assert re.search(r"<dt>尚未封存（未校验）</dt><dd>[1-9]", checked)


# --- In Chromium ------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.xdist_group("browser")
def test_auditor_searches_verifies_and_downloads_a_proof(
    page: Page, live_server: LiveServer, engine: Engine, vault: Vault, org: Org, tmp_path: Path
) -> None:
    make_customer(engine, vault, org, "zhaoliu")
    web_login(page, live_server, "shenji")
    page.goto("/audit")
    page.locator("#filter-action").select_option("customer:create")
    page.get_by_role("button", name="搜索").click()
    rows = page.locator("table.events tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("zhaoliu")
    expect(page.locator("main")).not_to_contain_text(SECRET_NAME)
    with page.expect_download() as info:
        rows.first.locator("a[download]").click()
    saved = tmp_path / "proof.json"
    info.value.save_as(saved)
    assert info.value.suggested_filename.endswith("-proof.json")
    assert proofcheck.check_text(saved.read_bytes())[0] == proofcheck.VALID
    shoot(page, "audit-search")

    page.get_by_role("button", name="立即校验整个日志").click()
    expect(page.locator(".verification-result")).to_contain_text("校验通过")

    def verify_again() -> None:
        page.locator("form[action='/audit/verify'] button").click()
        expect(page.locator(".verification-result")).to_be_visible()

    page.goto("/audit")
    shoot(page, "audit-verification", then=verify_again, full_page=False)
    assert csp_violations(page) == []


def test_a_missing_signing_key_is_said_on_the_page_and_never_replaced(
    app: FastAPI, engine: Engine
) -> None:
    """Issue 18: without its key the log cannot be verified or sealed here; nothing makes one."""
    _seal(app, engine)
    key = AuditSettings(home=app.state.settings.home).resolved_key_file
    key.unlink()
    key.with_suffix(".vkey").unlink()
    with browser(app) as client:
        login(client, "shenji")
        page = client.get("/audit")
        assert page.status_code == 200
        checked = client.post("/audit/verify", data={"csrf_token": csrf_token(page.text)})
        assert checked.status_code == 200
        assert "no audit log signing key" in checked.text
        assert "校验通过" not in checked.text
    assert not key.exists() and not key.with_suffix(".vkey").exists()
