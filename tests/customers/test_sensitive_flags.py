"""Identifiers typed into fields that do not protect them (issue 12 item 3, C4.3.2): the save
succeeds, the answer warns with field and kind (never the value), the audit event counts them."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from baomi.audit.models import audit_events
from tests.detect.corpus import C2, ID3, P1, P2
from tests.support.api import create_customer, login


def _events(engine: Engine, action: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(audit_events.c.details)
            .where(audit_events.c.action == action)
            .order_by(audit_events.c.id)
        ).all()
    return [json.loads(r.details) if isinstance(r.details, str) else r.details for r in rows]


def test_a_phone_in_the_requirements_is_flagged_on_create_and_update(
    client: TestClient, engine: Engine
) -> None:
    headers = login(client, "zhangsan")
    created = create_customer(
        client,
        headers,
        requirements=f"扩容，联系王工 {P1[3:]}，订单号 20230512000123456",
        purchases=[{"date": "2026-11-01", "item": f"服务器，付款卡 {C2}", "amount": "12800.00"}],
        notes=f"机密备注里的号码不算：{P2[3:]}",  # notes is a sensitive field, masked already
    )
    assert created["flags"] == [
        {"field": "requirements", "kind": "phone", "count": 1},
        {"field": "purchases", "kind": "bank_card", "count": 1},
    ]
    event = _events(engine, "customer:create")[-1]
    assert event["sensitive_in"] == {"requirements": {"phone": 1}, "purchases": {"bank_card": 1}}
    patched = client.patch(
        f"/api/v1/customers/{created['id']}",
        json={"competitor_products": f"对手法人身份证 {ID3}", "requirements": "扩容"},
        headers=headers,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["flags"] == [
        {"field": "competitor_products", "kind": "id_number", "count": 1},
        {"field": "purchases", "kind": "bank_card", "count": 1},
    ]
    assert _events(engine, "customer:update")[-1]["sensitive_in"] == {
        "competitor_products": {"id_number": 1}
    }
    # The record itself shows the warning on every read, until the values are moved.
    read = client.get(f"/api/v1/customers/{created['id']}", headers=headers).json()
    assert {f["field"] for f in read["flags"]} == {"purchases", "competitor_products"}
    with engine.connect() as conn:
        logged = json.dumps([list(map(str, r)) for r in conn.execute(select(audit_events))])
    for value in (P1[3:], C2, ID3):
        assert value not in logged


def test_a_clean_record_has_no_flags_and_no_audit_detail(
    client: TestClient, engine: Engine
) -> None:
    headers = login(client, "zhangsan")
    created = create_customer(client, headers, requirements="订单号 20230512000123456，金额 1.2 万")
    assert created["flags"] == []
    assert "sensitive_in" not in (_events(engine, "customer:create")[-1] or {})


def test_communications_and_attachments_are_flagged_when_saved(
    client: TestClient, engine: Engine
) -> None:
    headers = login(client, "zhangsan")
    created = create_customer(client, headers)
    base = f"/api/v1/customers/{created['id']}"
    entry = client.post(
        f"{base}/communications",
        json={
            "occurred_at": "2026-11-01T10:00:00+08:00",
            "channel": "phone",
            "text": f"客户换了新号 {P2[3:]}，邮箱 wang@example.com",
        },
        headers=headers,
    )
    assert entry.status_code == 201, entry.text
    assert entry.json()["flags"] == [
        {"field": "text", "kind": "email", "count": 1},
        {"field": "text", "kind": "phone", "count": 1},
    ]
    assert _events(engine, "communication:add")[-1]["sensitive_in"] == {
        "text": {"email": 1, "phone": 1}
    }
    upload = client.post(
        f"{base}/communications/{entry.json()['id']}/attachments",
        files={"file": ("名单.csv", f"姓名,身份证\n王五,{ID3}\n".encode(), "text/csv")},
        headers=headers,
    )
    assert upload.status_code == 201, upload.text
    assert upload.json()["flags"] == [{"field": "file", "kind": "id_number", "count": 1}]
    event = _events(engine, "attachment:add")[-1]
    assert event["sensitive_in"] == {"file": {"id_number": 1}}
    listed = client.get(f"{base}/communications", headers=headers).json()
    assert [f["kind"] for f in listed[0]["flags"]] == ["email", "phone"]
