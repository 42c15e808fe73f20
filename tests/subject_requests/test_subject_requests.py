"""Data-subject requests (issue 12 item 4; PIPL art. 44-47, GB/T 35273; C4.1.2, C1.3): recorded
with channel and identity check, due in 15 days by default (30 at most), assigned to the handler
and a security officer, reminded when overdue, answered, and every step audited."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import Engine, select

from baomi.audit.models import audit_events
from baomi.notifications.models import notifications
from baomi.subject_requests.reminders import remind_overdue
from baomi.uow import unit_of_work
from tests.support.api import create_customer, login
from tests.support.clock import FakeClock, move_clock
from tests.support.org import Org

BASE = "/api/v1/subject-requests"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    return move_clock(monkeypatch, datetime.now(UTC).replace(microsecond=0))


def _ask(client: TestClient, headers: dict[str, str], customer_id: str, **extra: Any) -> Any:
    body = {
        "customer_id": customer_id,
        "kind": "access",
        "channel": "phone",
        "identity_method": "known_contact",
        "identity_note": "回拨档案中的电话核实本人",
        **extra,
    }
    return client.post(BASE, json=body, headers=headers)


def _actions(engine: Engine) -> list[tuple[str, str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(audit_events.c.action, audit_events.c.decision, audit_events.c.details)
            .where(audit_events.c.action.like("subject_request:%"))
            .order_by(audit_events.c.id)
        ).all()
    return [(r.action, r.decision, r.details) for r in rows]


def test_record_list_and_answer_a_request(client: TestClient, engine: Engine) -> None:
    zhangsan = login(client, "zhangsan")
    customer = create_customer(client, zhangsan, name="王小明", phones=["13800138000"])
    asked = _ask(client, zhangsan, customer["id"])
    assert asked.status_code == 201, asked.text
    request = asked.json()
    received = datetime.fromisoformat(request["received_at"])
    assert datetime.fromisoformat(request["due_at"]) - received == timedelta(days=15)
    assert request["handler"] == "zhangsan" and request["officer"] == "baomiyuan"
    assert request["status"] == "open" and not request["overdue"]
    # The officer sees every request; the head of 华东 sees it; 华南's head does not.
    for who, sees in (("baomiyuan", True), ("wangwu", True), ("sunqi", False), ("lisi", False)):
        listed = client.get(BASE, headers=login(client, who)).json()
        assert (request["id"] in {r["id"] for r in listed}) is sees, who
    closed = client.post(
        f"{BASE}/{request['id']}/close",
        json={"status": "completed", "outcome": "已寄送个人信息副本"},
        headers=zhangsan,
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "completed"
    again = client.post(
        f"{BASE}/{request['id']}/close",
        json={"status": "rejected", "outcome": "重复"},
        headers=zhangsan,
    )
    assert again.status_code == 409
    actions = [a for a, decision, _ in _actions(engine) if decision == "allow"]
    assert actions == ["subject_request:create", "subject_request:close"]


def test_due_days_are_bounded_by_gbt_35273(client: TestClient) -> None:
    zhangsan = login(client, "zhangsan")
    customer = create_customer(client, zhangsan)
    assert _ask(client, zhangsan, customer["id"], due_days=31).status_code == 422
    thirty = _ask(client, zhangsan, customer["id"], due_days=30).json()
    gap = datetime.fromisoformat(thirty["due_at"]) - datetime.fromisoformat(thirty["received_at"])
    assert gap == timedelta(days=30)


def test_only_the_handler_or_head_records_one(client: TestClient) -> None:
    """C4.2.1: recording a request is work on the customer: others get 404, as for the record."""
    customer = create_customer(client, login(client, "zhangsan"))
    assert _ask(client, login(client, "zhaoliu"), customer["id"]).status_code == 404
    assert _ask(client, login(client, "baomiyuan"), customer["id"]).status_code in (403, 404)


def test_notes_hold_no_identifiers(client: TestClient) -> None:
    """C4.2.2: the request is stored in the clear; a phone in its note is refused."""
    zhangsan = login(client, "zhangsan")
    customer = create_customer(client, zhangsan)
    refused = _ask(client, zhangsan, customer["id"], identity_note="回拨 13800138000 核实")
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["code"] == "identifier_in_note"


def test_withdrawal_withdraws_the_consent(client: TestClient, engine: Engine) -> None:
    """C4.1.2: completing a withdrawal request withdraws the consent record it names."""
    zhangsan = login(client, "zhangsan")
    customer = create_customer(client, zhangsan)
    consent = client.post(
        f"/api/v1/customers/{customer['id']}/consents",
        json={"purposes": ["marketing"], "scope": ["identity"], "method": "written"},
        headers=zhangsan,
    )
    assert consent.status_code == 201, consent.text
    request = _ask(client, zhangsan, customer["id"], kind="withdrawal").json()
    url = f"{BASE}/{request['id']}/close"
    missing = client.post(
        url, json={"status": "completed", "outcome": "撤回营销同意"}, headers=zhangsan
    )
    assert missing.json()["errors"][0]["code"] == "consent_required"
    done = client.post(
        url,
        json={"status": "completed", "outcome": "撤回营销同意", "consent_id": consent.json()["id"]},
        headers=zhangsan,
    )
    assert done.status_code == 200, done.text
    assert done.json()["consent_id"] == consent.json()["id"]
    records = client.get(f"/api/v1/customers/{customer['id']}/consents", headers=zhangsan).json()
    assert next(r for r in records if r["id"] == consent.json()["id"])["status"] == "withdrawn"


def test_the_access_copy_is_a_chinese_pdf_with_an_embedded_font(
    client: TestClient, engine: Engine
) -> None:
    """PIPL art. 45: the copy, read through the batch door (purpose subject_access), audited."""
    zhangsan = login(client, "zhangsan")
    customer = create_customer(
        client, zhangsan, name="王小明", phones=["13800138000"], requirements="需要年度维保"
    )
    request = _ask(client, zhangsan, customer["id"]).json()
    copy = client.get(f"{BASE}/{request['id']}/access-copy", headers=zhangsan)
    assert copy.status_code == 200, copy.text
    assert copy.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(copy.content))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "个人信息副本" in text and "王小明" in text and "需要年度维保" in text
    fonts = [
        font.get_object() for page in reader.pages for font in page["/Resources"]["/Font"].values()
    ]
    descriptors = [
        f["/DescendantFonts"][0].get_object()["/FontDescriptor"]
        for f in fonts
        if "/DescendantFonts" in f
    ] + [f.get("/FontDescriptor") for f in fonts]
    assert any(d is not None and "/FontFile2" in d.get_object() for d in descriptors)
    with engine.connect() as conn:
        reads = conn.execute(
            select(audit_events.c.details).where(
                audit_events.c.action == "customer:read",
                audit_events.c.customer_id == customer["id"],
            )
        ).all()
    purposes = [json.loads(r.details) if isinstance(r.details, str) else r.details for r in reads]
    assert any((p or {}).get("purpose") == "subject_access" for p in purposes)
    assert ("subject_request:access_copy", "allow") in [(a, d) for a, d, _ in _actions(engine)]
    # The officer, who holds no customer data by role (C4.2.1), gets no copy.
    officer = client.get(f"{BASE}/{request['id']}/access-copy", headers=login(client, "baomiyuan"))
    assert officer.status_code == 403


def test_overdue_requests_remind_the_handler_and_the_officer_once_a_day(
    client: TestClient, engine: Engine, org: Org, clock: FakeClock
) -> None:
    zhangsan = login(client, "zhangsan")
    customer = create_customer(client, zhangsan)
    request = _ask(client, zhangsan, customer["id"], due_days=1).json()
    with unit_of_work(engine) as conn:
        assert remind_overdue(conn, now=clock(), mail=False) == {"reminded": 0}
    clock.advance(days=2)
    with unit_of_work(engine) as conn:
        assert remind_overdue(conn, now=clock(), mail=False) == {"reminded": 1}
    clock.advance(hours=3)
    with unit_of_work(engine) as conn:
        assert remind_overdue(conn, now=clock(), mail=False) == {"reminded": 0}
    with engine.connect() as conn:
        told = conn.execute(
            select(notifications.c.user_id, notifications.c.params).where(
                notifications.c.kind == "subject_request_overdue"
            )
        ).all()
    assert {row.user_id for row in told} == {org.user_ids["zhangsan"], org.user_ids["baomiyuan"]}
    again = login(client, "zhangsan")  # the first session ended with the days gone by
    assert client.get(f"{BASE}/{request['id']}", headers=again).json()["overdue"] is True
    assert "subject_request:remind" in [a for a, _, _ in _actions(engine)]
