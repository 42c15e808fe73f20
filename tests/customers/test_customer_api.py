"""Customer records through the API: all five kinds of C2.1, validation (C4.1.1), 查重 (C4.1.3)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from baomi import clock
from baomi.audit.models import audit_events
from baomi.customers import timeline
from baomi.customers.vault import Vault
from tests.support.api import PROVENANCE, create_customer, login

FULL_RECORD: dict[str, Any] = {
    "name": "上海示例贸易有限公司",
    "level": "秘密",
    "contacts": [
        {
            "name": "王经理",
            "title": "采购经理",
            "phones": ["021-62345678"],
            "emails": ["Wang@Example.com"],
        }
    ],
    "phones": ["+86 139 1234 5678"],
    "emails": ["Sales@Example.com"],
    "address": "上海市浦东新区世纪大道100号",
    "id_number": "91310000MA1FL8TQ36",
    "purchases": [{"date": "2026-03-01", "item": "服务器", "amount": "128000.00"}],
    "contract_terms": "年度框架协议，账期60天",
    "prices": "单价 32000 元",
    "payment_methods": [{"type": "bank_card", "account": "6222 0212 3456 7894"}],
    "requirements": "扩容存储",
    "purchase_intent": "第三季度采购",
    "competitor_products": "某竞品 X200",
    "notes": "董事长偏好线下会谈",
    "source": "展会名片",
    "lawful_basis": "consent",
}


def test_full_record_round_trip_with_masks(client: TestClient) -> None:
    headers = login(client, "zhangsan")
    created = create_customer(client, headers, **FULL_RECORD)
    data = created["data"]
    assert created["level"] == "secret" and created["level_label"] == "秘密"
    assert created["source"] == "展会名片" and created["lawful_basis"] == "consent"
    assert data["phones"] == ["+8613912345678"]  # normalised to E.164
    assert data["id_number"] == "9131**********TQ36"
    assert data["payment_methods"] == [{"type": "bank_card", "account": "**** 7894"}]
    assert data["notes"] == "******"
    assert sorted(created["masked"]) == ["id_number", "notes", "payment_methods"]
    revealed = client.post(
        f"/api/v1/customers/{created['id']}/reveal",
        json={
            "fields": ["id_number", "payment_methods", "notes"],
            "purpose": "contract",
            "reason_code": "contract_work",
            "reason": "签合同核对",
        },
        headers=headers,
    ).json()["data"]
    assert revealed["id_number"] == "91310000MA1FL8TQ36"
    assert revealed["payment_methods"][0]["account"] == "6222021234567894"
    assert revealed["notes"] == FULL_RECORD["notes"]


def test_ids_are_random_uuids(client: TestClient) -> None:
    headers = login(client, "zhangsan")
    ids = [create_customer(client, headers, name=f"客户{i}")["id"] for i in range(3)]
    assert all(uuid.UUID(i).version == 7 for i in ids)
    assert len({i[-12:] for i in ids}) == 3  # the random tail differs


def test_each_bad_field_gets_its_own_error_and_nothing_is_written(
    client: TestClient, engine: Engine
) -> None:
    headers = login(client, "zhangsan")
    bad = {
        "name": "坏数据",
        "phones": ["12345"],
        "emails": ["not-an-email"],
        "id_number": "110105194912310021",
        "payment_methods": [{"type": "bank_card", "account": "6222021234567890"}],
        "purchases": [{"date": "2026-13-01", "item": "x", "amount": "-1"}],
        **PROVENANCE,
    }
    response = client.post("/api/v1/customers", json=bad, headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "validation_failed"
    assert {e["field"] for e in problem["errors"]} == {
        "phones[0]",
        "emails[0]",
        "id_number",
        "payment_methods[0].account",
        "purchases[0].date",
        "purchases[0].amount",
    }
    assert client.get("/api/v1/customers", headers=headers).json()["total"] == 0


def test_unknown_keys_and_levels_are_refused(client: TestClient) -> None:
    headers = login(client, "zhangsan")
    response = client.post(
        "/api/v1/customers", json={"name": "x", "nmae": "typo", **PROVENANCE}, headers=headers
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "nmae"
    response = client.post(
        "/api/v1/customers", json={"name": "x", "level": "绝密", **PROVENANCE}, headers=headers
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "level"


def test_duplicate_check_finds_exact_values_company_wide(client: TestClient) -> None:
    create_customer(client, login(client, "zhaoliu"), **FULL_RECORD)
    asker = login(client, "zhangsan")

    def check(**query: str) -> dict[str, Any]:
        response = client.get("/api/v1/customers/check", params=query, headers=asker)
        assert response.status_code == 200, response.text
        return dict(response.json())

    hit = {"exists": True, "handler": {"username": "zhaoliu", "department": "华南销售部"}}
    assert check(phone="13912345678") == hit
    assert check(phone="１３９ １２３４ ５６７８") == hit  # full-width digits from an IME
    assert check(phone="+86 21 6234 5678") == hit  # a contact person's phone
    assert check(email="SALES@example.COM") == hit
    assert check(id_number="91310000ma1fl8tq36") == hit
    assert check(name="上海示例贸易 有限公司") == hit
    assert check(phone="13912345679") == {"exists": False, "handler": None}
    assert check(name="上海示例贸易") == {"exists": False, "handler": None}  # exact, not prefix
    bad = client.get("/api/v1/customers/check", params={"phone": "abc"}, headers=asker)
    assert bad.status_code == 422
    two = client.get("/api/v1/customers/check", params={"phone": "1", "email": "a"}, headers=asker)
    assert two.status_code == 422


def test_update_reindexes_and_level_cannot_be_lowered(client: TestClient) -> None:
    headers = login(client, "zhangsan")
    created = create_customer(client, headers, phones=["13800000001"], level="secret")
    url = f"/api/v1/customers/{created['id']}"
    response = client.patch(url, json={"phones": ["13800000002"], "level": "机密"}, headers=headers)
    assert response.status_code == 200 and response.json()["level"] == "confidential"

    def exists(phone: str) -> bool:
        result = client.get("/api/v1/customers/check", params={"phone": phone}, headers=headers)
        return bool(result.json()["exists"])

    assert not exists("13800000001") and exists("13800000002")
    lowered = client.patch(url, json={"level": "normal"}, headers=headers)
    assert (
        lowered.status_code == 409 and lowered.json()["code"] == "level_lowering_requires_approval"
    )


def test_search_is_substring_paged_and_searches_masked_values_masked(client: TestClient) -> None:
    headers = login(client, "zhangsan")
    for i in range(7):
        create_customer(client, headers, name=f"杭州客户{i}", phones=[f"1380000100{i}"])
    create_customer(client, headers, name="机密客户", level="confidential", phones=["13700007777"])
    page = client.get("/api/v1/customers", params={"q": "杭州", "page_size": 5}, headers=headers)
    assert page.json()["total"] == 7 and len(page.json()["items"]) == 5
    page2 = client.get(
        "/api/v1/customers", params={"q": "杭州", "page_size": 5, "page": 2}, headers=headers
    )
    assert len(page2.json()["items"]) == 2
    by_phone = client.get("/api/v1/customers", params={"q": "01003"}, headers=headers)
    assert [i["name"] for i in by_phone.json()["items"]] == ["杭州客户3"]
    # A masked phone is searched as shown (137****7777): its hidden digits find nothing.
    hidden = client.get("/api/v1/customers", params={"q": "0000777"}, headers=headers)
    assert hidden.json()["total"] == 0
    shown = client.get("/api/v1/customers", params={"q": "7777"}, headers=headers)
    assert shown.json()["total"] == 1


def test_reveal_is_rate_limited_and_denials_are_audited(
    client: TestClient, engine: Engine, vault: Vault
) -> None:
    """C4.3.2: revealing is throttled per person, and the refusal is on record."""
    headers = login(client, "zhangsan")
    created = create_customer(client, headers, notes="n")
    limit = vault.limits.per_hour
    url = f"/api/v1/customers/{created['id']}/reveal"
    body = {
        "fields": ["notes"],
        "purpose": "contract",
        "reason_code": "customer_contact",
        "reason": "核对",
    }
    with engine.begin() as conn:  # pretend the limit is almost used up
        rows = [
            {
                "occurred_at": clock.utcnow(),
                "actor_id": created["handler"]["id"],
                "action": "customer:reveal",
                "decision": "allow",
                "reason": "handler",
            }
            for _ in range(limit - 1)
        ]
        conn.execute(audit_events.insert(), rows)
    assert client.post(url, json=body, headers=headers).status_code == 200
    limited = client.post(url, json=body, headers=headers)
    assert limited.status_code == 429 and limited.json()["code"] == "reveal_rate_limited"
    with engine.connect() as conn:
        denied = conn.execute(
            select(audit_events.c.reason).where(
                audit_events.c.action == "customer:reveal", audit_events.c.decision == "deny"
            )
        ).all()
    assert [r.reason for r in denied] == ["rate_limited"]


def test_communications_and_streamed_attachments(client: TestClient) -> None:
    headers = login(client, "zhangsan")
    created = create_customer(client, headers)
    base = f"/api/v1/customers/{created['id']}"
    entry = client.post(
        f"{base}/communications",
        json={"occurred_at": "2026-11-01T10:00:00+08:00", "channel": "visit", "text": "上门拜访"},
        headers=headers,
    )
    assert entry.status_code == 201
    payload = bytes(range(256)) * (timeline.CHUNK_BYTES // 256 * 2 + 3)  # three chunks
    upload = client.post(
        f"{base}/communications/{entry.json()['id']}/attachments",
        files={"file": ("报价单.bin", payload, "application/octet-stream")},
        headers=headers,
    )
    assert upload.status_code == 201, upload.text
    attachment = upload.json()
    assert attachment["size_bytes"] == len(payload)
    listed = client.get(f"{base}/communications", headers=headers).json()
    assert listed[0]["text"] == "上门拜访"
    assert listed[0]["attachments"][0]["filename"] == "报价单.bin"
    download = client.get(f"{base}/attachments/{attachment['id']}", headers=headers)
    assert download.status_code == 200 and download.content == payload
    other = login(client, "zhaoliu")
    assert client.get(f"{base}/attachments/{attachment['id']}", headers=other).status_code == 404


def test_problem_details_for_auth_and_unknown_routes(client: TestClient) -> None:
    response = client.get("/api/v1/customers")
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"
    response = client.get("/api/v1/customers", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401 and response.json()["code"] == "invalid_token"
    response = client.post("/api/v1/auth/login", json={"username": "zhangsan", "password": "x"})
    assert response.status_code == 401 and response.json()["code"] == "invalid_credentials"
    response = client.get("/api/v1/nowhere", headers=login(client, "zhangsan"))
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_invisible_and_missing_customers_answer_alike_and_denials_are_audited(
    client: TestClient, engine: Engine
) -> None:
    created = create_customer(client, login(client, "zhangsan"))
    outsider = login(client, "zhaoliu")
    hidden = client.get(f"/api/v1/customers/{created['id']}", headers=outsider)
    missing = client.get(f"/api/v1/customers/{uuid.uuid4()}", headers=outsider)
    assert hidden.status_code == missing.status_code == 404

    def shape(body: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in body.items() if k not in ("instance", "request_id")}

    assert shape(hidden.json()) == shape(missing.json())
    with engine.connect() as conn:
        denied = conn.execute(
            select(audit_events.c.customer_id, audit_events.c.reason).where(
                audit_events.c.decision == "deny", audit_events.c.action == "customer:read"
            )
        ).all()
    assert (created["id"], "no_relation") in [tuple(r) for r in denied]


def test_heads_file_for_their_staff_but_never_for_roles_without_customer_data(
    client: TestClient, org: Any
) -> None:
    head = login(client, "wangwu")
    for_staff = create_customer(client, head, handler_id=org.user_ids["lisi"])
    assert (
        for_staff["handler"]["username"] == "lisi" and for_staff["department"]["name"] == "上海组"
    )
    for username in ("admin", "shenji"):
        response = client.post(
            "/api/v1/customers",
            json={"name": "x", "handler_id": org.user_ids[username], **PROVENANCE},
            headers=head,
        )
        assert response.status_code == 422, username
    outside = client.post(
        "/api/v1/customers",
        headers=head,
        json={"name": "x", "handler_id": org.user_ids["zhaoliu"], **PROVENANCE},
    )
    assert outside.status_code == 403 and outside.json()["code"] == "outside_own_scope"
