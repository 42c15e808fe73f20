"""Issue 12.1 (C4.1.2, C4.3.4; PIPL art. 13-17): consent records and purpose limitation.

A customer carries what it agreed to, and reveals and access requests state a purpose those
records must cover: a marketing reveal of a customer who agreed to contract use only is refused
(`purpose_not_consented`, audited), and a withdrawal counts from the next request on, while the
record stays in the history.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from baomi import clock
from baomi.audit.models import audit_events
from baomi.consent.purposes import build_purposes, load_purposes
from baomi.errors import ValidationFailed
from tests.support.api import create_customer, login

PHONE = "13912345688"


def _reveal(client: TestClient, headers: dict[str, str], customer_id: str, **body: Any) -> Any:
    payload = {
        "fields": ["phones"],
        "purpose": "marketing",
        "reason_code": "customer_contact",
        "reason": "新品推介电话",
        **body,
    }
    return client.post(f"/api/v1/customers/{customer_id}/reveal", json=payload, headers=headers)


def _consent(client: TestClient, headers: dict[str, str], customer_id: str, **body: Any) -> Any:
    payload = {"purposes": ["marketing"], "scope": ["identity"], "method": "written", **body}
    return client.post(f"/api/v1/customers/{customer_id}/consents", json=payload, headers=headers)


def _denials(engine: Engine, action: str) -> list[Any]:
    with engine.connect() as conn:
        return conn.execute(
            select(audit_events.c.reason, audit_events.c.customer_id).where(
                audit_events.c.action == action, audit_events.c.decision == "deny"
            )
        ).all()


def test_the_purposes_are_listed(client: TestClient) -> None:
    listed = client.get("/api/v1/purposes", headers=login(client, "zhangsan"))
    assert listed.status_code == 200
    assert [(p["code"], p["label_zh"]) for p in listed.json()] == [
        ("contract", "合同履行"),
        ("service", "售后服务"),
        ("marketing", "产品营销"),
        ("provision", "第三方提供"),
    ]


def test_filing_records_the_lawful_basis_it_covers(client: TestClient) -> None:
    headers = login(client, "zhangsan")
    customer = create_customer(client, headers, phones=[PHONE])  # lawful_basis: contract
    [basis] = client.get(f"/api/v1/customers/{customer['id']}/consents", headers=headers).json()
    assert basis["basis"] == "contract" and basis["status"] == "in_force"
    assert basis["purposes"] == ["contract", "service"]
    assert basis["taken_by"] == "zhangsan" and basis["method"] is None


def test_a_marketing_reveal_needs_a_marketing_consent_and_stops_at_withdrawal(
    client: TestClient, engine: Engine
) -> None:
    """The authorization matrix's purpose row: contract use only, then a consent, then its
    withdrawal, each taking effect on the next request."""
    headers = login(client, "zhangsan")
    customer = create_customer(client, headers, phones=[PHONE], notes="只用于合同")
    refused = _reveal(client, headers, customer["id"])
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "purpose_not_consented"
    assert PHONE not in refused.text
    assert ("purpose_not_consented", customer["id"]) in _denials(engine, "customer:reveal")
    # Contract work stays allowed: the basis it was filed on covers it.
    assert _reveal(client, headers, customer["id"], purpose="contract").status_code == 200

    given = _consent(client, headers, customer["id"])
    assert given.status_code == 201, given.text
    assert given.json()["status"] == "in_force" and given.json()["scope"] == ["identity"]
    shown = _reveal(client, headers, customer["id"])
    assert shown.status_code == 200 and shown.json()["data"]["phones"] == ["+86" + PHONE]
    # The consent's scope is identity data: sensitive notes stay out of marketing.
    notes = _reveal(client, headers, customer["id"], fields=["notes"])
    assert notes.status_code == 403 and notes.json()["code"] == "purpose_not_consented"

    url = f"/api/v1/customers/{customer['id']}/consents/{given.json()['id']}/withdraw"
    withdrawn = client.post(url, json={"channel": "phone"}, headers=headers)
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "withdrawn"
    assert withdrawn.json()["withdrawn_channel"] == "phone"
    again = _reveal(client, headers, customer["id"])
    assert again.status_code == 403 and again.json()["code"] == "purpose_not_consented"
    # Never deleted: the history keeps both records, newest first.
    history = client.get(f"/api/v1/customers/{customer['id']}/consents", headers=headers).json()
    assert [(r["basis"], r["status"]) for r in history] == [
        ("consent", "withdrawn"),
        ("contract", "in_force"),
    ]
    twice = client.post(url, json={"channel": "phone"}, headers=headers)
    assert twice.status_code == 409 and twice.json()["code"] == "consent_already_withdrawn"
    with engine.connect() as conn:
        actions = conn.execute(
            select(audit_events.c.action, audit_events.c.details).where(
                audit_events.c.customer_id == customer["id"],
                audit_events.c.action.in_(["consent:record", "consent:withdraw"]),
            )
        ).all()
    assert [a.action for a in actions] == ["consent:record", "consent:withdraw"]
    assert actions[0].details["purposes"] == ["marketing"]


def test_an_expired_consent_covers_nothing(client: TestClient) -> None:
    headers = login(client, "zhangsan")
    customer = create_customer(client, headers, phones=[PHONE])
    now = clock.utcnow()
    old = _consent(
        client,
        headers,
        customer["id"],
        given_at=(now - timedelta(days=400)).isoformat(),
        expires_at=(now - timedelta(days=35)).isoformat(),
    )
    assert old.status_code == 201 and old.json()["status"] == "expired"
    assert _reveal(client, headers, customer["id"]).status_code == 403


def test_an_access_request_states_a_purpose_the_consents_cover(
    client: TestClient, engine: Engine
) -> None:
    owner = login(client, "zhangsan")
    customer = create_customer(client, owner, phones=[PHONE])
    asker = login(client, "zhaoliu")
    body = {
        "customer_ids": [customer["id"]],
        "purpose": "新品推介",
        "purpose_code": "marketing",
        "duration_hours": 24,
    }
    refused = client.post("/api/v1/access-requests", json=body, headers=asker)
    assert refused.status_code == 403 and refused.json()["code"] == "purpose_not_consented"
    assert ("purpose_not_consented", customer["id"]) in _denials(engine, "access_request:create")
    assert _consent(client, owner, customer["id"], scope=["identity", "transaction"]).is_success
    # Still refused for the whole record (its scope leaves notes and needs out) ...
    assert client.post("/api/v1/access-requests", json=body, headers=asker).status_code == 403
    # ... and filed for the fields it covers.
    fields = {**body, "fields": ["name", "phones", "purchases"]}
    filed = client.post("/api/v1/access-requests", json=fields, headers=asker)
    assert filed.status_code == 201, filed.text


def test_what_a_consent_record_must_be(client: TestClient) -> None:
    headers = login(client, "zhangsan")
    customer = create_customer(client, headers)
    other = create_customer(client, headers, name="别的客户")
    visit = client.post(
        f"/api/v1/customers/{other['id']}/communications",
        json={"channel": "visit", "occurred_at": clock.utcnow().isoformat(), "text": "签字同意书"},
        headers=headers,
    )
    assert visit.status_code == 201, visit.text
    attached = client.post(
        f"/api/v1/customers/{other['id']}/communications/{visit.json()['id']}/attachments",
        files={"file": ("同意书.pdf", b"%PDF-1.4 consent", "application/pdf")},
        headers=headers,
    )
    assert attached.status_code == 201, attached.text
    attachment = attached.json()["id"]
    for body, field, code in (
        ({"purposes": ["spam"]}, "purposes", "purpose_unknown"),
        ({"method": None}, "method", "method_required"),
        ({"basis": "legal_obligation"}, "method", "method_only_for_consent"),
        (
            {"given_at": (clock.utcnow() + timedelta(days=1)).isoformat()},
            "given_at",
            "given_in_future",
        ),
    ):
        refused = _consent(client, headers, customer["id"], **body)
        assert refused.status_code == 422, (body, refused.text)
        assert [(e["field"], e["code"]) for e in refused.json()["errors"]] == [(field, code)]
    wrong = _consent(client, headers, customer["id"], evidence_attachment_id=attachment)
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["code"] == "evidence_not_of_customer"
    right = _consent(client, headers, other["id"], evidence_attachment_id=attachment)
    assert right.status_code == 201 and right.json()["evidence_attachment_id"] == attachment


def test_only_those_who_may_edit_the_customer_record_consents(client: TestClient) -> None:
    customer = create_customer(client, login(client, "zhangsan"))
    # Another department's salesperson and the officer (三员分立) hear "no such customer"; so do
    # the auditor and the administrator, whose roles hold no customer data.
    for who in ("zhaoliu", "baomiyuan", "shenji", "admin"):
        headers = login(client, who)
        listed = client.get(f"/api/v1/customers/{customer['id']}/consents", headers=headers)
        recorded = _consent(client, headers, customer["id"])
        assert (listed.status_code, recorded.status_code) == (404, 404), who
    head = login(client, "wangwu")  # head of 华东: may edit
    assert _consent(client, head, customer["id"]).status_code == 201


def test_a_new_lawful_basis_supersedes_the_old_one(client: TestClient) -> None:
    headers = login(client, "zhangsan")
    customer = create_customer(client, headers)
    before = client.get(f"/api/v1/customers/{customer['id']}/consents", headers=headers).json()
    assert len(before) == 1
    changed = client.patch(
        f"/api/v1/customers/{customer['id']}",
        json={"lawful_basis": "legal_obligation"},
        headers=headers,
    )
    assert changed.status_code == 200, changed.text
    history = client.get(f"/api/v1/customers/{customer['id']}/consents", headers=headers).json()
    assert [(r["basis"], r["status"]) for r in history] == [
        ("legal_obligation", "in_force"),
        ("contract", "superseded"),
    ]
    # Service work rested on the contract, which no longer stands.
    service = _reveal(client, headers, customer["id"], purpose="service")
    assert service.status_code == 403


def test_a_company_names_its_own_purposes(tmp_path: Any) -> None:
    (tmp_path / "purposes.toml").write_text(
        '[marketing]\nlabel_zh = "新品推介"\nlabel_en = "New products"\n'
        '[events]\nlabel_zh = "客户活动邀请"\nlabel_en = "Event invitations"\n',
        encoding="utf-8",
    )
    catalog = load_purposes(tmp_path)
    assert [p.code for p in catalog] == ["contract", "service", "marketing", "provision", "events"]
    assert next(p for p in catalog if p.code == "marketing").label_zh == "新品推介"
    try:
        build_purposes({"Bad Code": {"label_zh": "x", "label_en": "y"}})
    except ValidationFailed as refused:
        assert refused.extra["errors"][0]["code"] == "purpose_code_invalid"
    else:
        raise AssertionError("a malformed purpose code was accepted")
