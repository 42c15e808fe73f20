"""Emergency grants (C4.3.1, issue 10 F3): access given outside the approval process states a
reason, lasts at most a day, is told at once to the customer's handler and heads, is marked as
such everywhere, and is reviewed afterwards by a head of the customer's department."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from baomi import clock
from baomi.audit.models import audit_events
from tests.support.api import create_customer, login
from tests.support.org import Org


def _secret_customer_in_the_south(client: TestClient) -> dict[str, Any]:
    """A 机密 customer handled by zhaoliu in 华南销售部 (head: sunqi)."""
    return create_customer(client, login(client, "zhaoliu"), level="confidential")


def _grant(client: TestClient, org: Org, customer_id: str, **extra: Any) -> Any:
    body = {
        "user_id": org.user_ids["lisi"],
        "customer_id": customer_id,
        "duration_hours": 4,
        "purpose": "客户来电投诉，负责人联系不上",
        **extra,
    }
    return client.post("/api/v1/grants", json=body, headers=login(client, "baomiyuan"))


def _inbox(client: TestClient, username: str) -> list[dict[str, Any]]:
    page = client.get("/api/v1/notifications", headers=login(client, username)).json()
    return [n for n in page["items"] if n["kind"] == "emergency_grant"]


def test_a_direct_grant_is_an_emergency_grant_told_at_once(
    client: TestClient, org: Org, engine: Engine
) -> None:
    """The issue's reproduction: the officer grants lisi a 华南 机密 customer directly."""
    customer = _secret_customer_in_the_south(client)
    created = _grant(client, org, customer["id"])
    assert created.status_code == 201, created.text
    grant = created.json()
    assert grant["emergency"] is True and grant["request_id"] is None
    assert grant["reviewed_at"] is None
    # The handler and the head hear of it at once; nobody else does.
    for username in ("zhaoliu", "sunqi"):
        told = _inbox(client, username)
        assert len(told) == 1, username
        assert told[0]["params"]["grant_id"] == grant["id"]
        assert told[0]["params"]["grantee"] == "lisi"
        assert "紧急授权" in told[0]["title"]
    for username in ("wangwu", "zhangsan", "lisi", "baomiyuan"):
        assert _inbox(client, username) == [], username
    # Marked in the officer's list and in the audit log.
    listed = client.get("/api/v1/grants", headers=login(client, "baomiyuan")).json()
    assert [g["emergency"] for g in listed if g["id"] == grant["id"]] == [True]
    with engine.connect() as conn:
        row = conn.execute(
            select(audit_events.c.reason, audit_events.c.details).where(
                audit_events.c.action == "grant:create", audit_events.c.object_id == grant["id"]
            )
        ).one()
    details = json.loads(row.details) if isinstance(row.details, str) else row.details
    assert row.reason == "emergency" and details["emergency"] is True


def test_an_emergency_grant_lasts_at_most_a_day(client: TestClient, org: Org) -> None:
    customer = _secret_customer_in_the_south(client)
    too_long = _grant(client, org, customer["id"], duration_hours=25)
    assert too_long.status_code == 422
    assert too_long.json()["errors"][0]["field"] == "duration_hours"
    assert "at most 24 hours" in too_long.json()["errors"][0]["message"]
    starts = clock.utcnow() + timedelta(hours=1)
    far_end = _grant(
        client,
        org,
        customer["id"],
        duration_hours=None,
        starts_at=starts.isoformat(),
        ends_at=(starts + timedelta(hours=24, seconds=1)).isoformat(),
    )
    assert far_end.status_code == 422 and far_end.json()["errors"][0]["field"] == "ends_at"
    assert _grant(client, org, customer["id"], duration_hours=24).status_code == 201


def test_the_customers_head_reviews_it_once(client: TestClient, org: Org, engine: Engine) -> None:
    customer = _secret_customer_in_the_south(client)
    grant = _grant(client, org, customer["id"]).json()
    head, other_head = login(client, "sunqi"), login(client, "wangwu")

    waiting = client.get("/api/v1/grants/emergency?unreviewed=true", headers=head).json()
    assert [g["id"] for g in waiting] == [grant["id"]]
    assert client.get("/api/v1/grants/emergency", headers=other_head).json() == []

    note = {"note": "已与客户核实，授权合理"}
    refused = client.post(f"/api/v1/grants/{grant['id']}/review", json=note, headers=other_head)
    assert refused.status_code == 403
    assert refused.json()["code"] == "not_allowed_to_review"

    reviewed = client.post(f"/api/v1/grants/{grant['id']}/review", json=note, headers=head)
    assert reviewed.status_code == 200, reviewed.text
    assert reviewed.json()["reviewed_by"] == org.user_ids["sunqi"]
    assert reviewed.json()["review_note"] == note["note"]
    again = client.post(f"/api/v1/grants/{grant['id']}/review", json=note, headers=head)
    assert again.status_code == 409 and again.json()["code"] == "grant_already_reviewed"
    assert client.get("/api/v1/grants/emergency?unreviewed=true", headers=head).json() == []

    with engine.connect() as conn:
        events = conn.execute(
            select(audit_events.c.actor_username, audit_events.c.decision)
            .where(audit_events.c.action == "grant:review")
            .order_by(audit_events.c.id)
        ).all()
    assert [tuple(e) for e in events] == [("wangwu", "deny"), ("sunqi", "allow")]


def test_the_head_may_end_an_emergency_grant(client: TestClient, org: Org) -> None:
    customer = _secret_customer_in_the_south(client)
    grant = _grant(client, org, customer["id"]).json()
    revoke = f"/api/v1/grants/{grant['id']}/revoke"
    assert client.post(revoke, headers=login(client, "wangwu")).status_code == 403
    ended = client.post(revoke, headers=login(client, "sunqi"))
    assert ended.status_code == 200 and ended.json()["active"] is False
