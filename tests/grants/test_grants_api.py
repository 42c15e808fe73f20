"""Explicit, time-bound grants (C4.2.1, C4.3.1) managed by the security officer."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from baomi.audit.models import audit_events
from tests.support.api import create_customer, login
from tests.support.org import Org


def test_only_the_security_officer_manages_grants(client: TestClient, org: Org) -> None:
    customer = create_customer(client, login(client, "zhangsan"))
    body = {
        "user_id": org.user_ids["zhaoliu"],
        "customer_id": customer["id"],
        "duration_hours": 1,
        "purpose": "协助",
    }
    for username in ("zhangsan", "wangwu", "admin", "shenji"):
        response = client.post("/api/v1/grants", json=body, headers=login(client, username))
        assert response.status_code == 403, username
    officer = login(client, "baomiyuan")
    created = client.post("/api/v1/grants", json=body, headers=officer)
    assert created.status_code == 201 and created.json()["active"] is True


def test_grant_validation(client: TestClient, org: Org) -> None:
    customer = create_customer(client, login(client, "zhangsan"))
    officer = login(client, "baomiyuan")
    base = {"user_id": org.user_ids["zhaoliu"], "customer_id": customer["id"], "purpose": "协助"}
    cases = {
        "no end": ({**base}, "ends_at"),
        "both ends": ({**base, "duration_hours": 1, "ends_at": "2030-01-01T00:00:00Z"}, "ends_at"),
        "end before start": (
            {**base, "starts_at": "2030-01-02T00:00:00Z", "ends_at": "2030-01-01T00:00:00Z"},
            "ends_at",
        ),
        "unknown field": ({**base, "duration_hours": 1, "fields": ["salary"]}, "fields"),
        "auditor grantee": (
            {**base, "duration_hours": 1, "user_id": org.user_ids["shenji"]},
            "user_id",
        ),
    }
    for name, (body, field) in cases.items():
        response = client.post("/api/v1/grants", json=body, headers=officer)
        assert response.status_code == 422, name
        assert response.json()["errors"][0]["field"] == field, name
    missing = client.post(
        "/api/v1/grants", json={**base, "duration_hours": 1, "customer_id": "nope"}, headers=officer
    )
    assert missing.status_code == 404


def test_revocation_is_effective_at_once_and_audited(
    client: TestClient, org: Org, engine: Engine
) -> None:
    customer = create_customer(client, login(client, "zhangsan"))
    officer, reader = login(client, "baomiyuan"), login(client, "zhaoliu")
    grant = client.post(
        "/api/v1/grants",
        headers=officer,
        json={
            "user_id": org.user_ids["zhaoliu"],
            "customer_id": customer["id"],
            "duration_hours": 1,
            "purpose": "协助",
        },
    ).json()
    url = f"/api/v1/customers/{customer['id']}"
    assert client.get(url, headers=reader).status_code == 200
    assert client.post(f"/api/v1/grants/{grant['id']}/revoke", headers=officer).status_code == 200
    assert client.get(url, headers=reader).status_code == 404
    again = client.post(f"/api/v1/grants/{grant['id']}/revoke", headers=officer)
    assert again.status_code == 409 and again.json()["code"] == "grant_already_revoked"
    listed = client.get("/api/v1/grants", params={"active": True}, headers=officer).json()
    assert grant["id"] not in {g["id"] for g in listed}
    with engine.connect() as conn:
        actions = [
            r.action
            for r in conn.execute(
                select(audit_events.c.action)
                .where(audit_events.c.object_id == grant["id"])
                .order_by(audit_events.c.id)
            )
        ]
    assert actions == ["grant:create", "grant:revoke"]
