"""C2.2: setting or lowering a level is a recorded, approved action.

The handler (or a head over the customer) raises a level directly; lowering is a request of a
second kind, routed by the rule of the customer's current level (head; 机密 also the security
officer), decided through the access-request endpoints, never by the requester, once per
approver, and ended by any rejection.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from baomi.audit.models import audit_events
from tests.support.api import add_person, create_customer, login
from tests.support.org import Org

REQUESTS = "/api/v1/access-requests"


class People:
    """Log each person in once per test (argon2 is slow by design)."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self._headers: dict[str, dict[str, str]] = {}

    def __getitem__(self, username: str) -> dict[str, str]:
        if username not in self._headers:
            self._headers[username] = login(self.client, username)
        return self._headers[username]


@pytest.fixture
def people(client: TestClient) -> People:
    return People(client)


def _level(client: TestClient, people: People, customer_id: str) -> str:
    response = client.get(f"/api/v1/customers/{customer_id}", headers=people["zhangsan"])
    assert response.status_code == 200, response.text
    return str(response.json()["level"])


def _ask(
    client: TestClient,
    headers: dict[str, str],
    customer_id: str,
    level: str,
    reason: str = "项目结束",
) -> Any:
    return client.post(
        f"/api/v1/customers/{customer_id}/level-change-requests",
        json={"level": level, "reason": reason},
        headers=headers,
    )


def _approvers(org: Org, request: dict[str, Any]) -> list[str | None]:
    names = {uid: name for name, uid in org.user_ids.items()}
    return sorted((names.get(a["approver"]) for a in request["approvals"]), key=str)


def _level_events(engine: Engine, customer_id: str) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(audit_events)
                .where(
                    audit_events.c.action == "customer:level_change",
                    audit_events.c.customer_id == customer_id,
                )
                .order_by(audit_events.c.id)
            )
        )


@pytest.mark.parametrize("raiser", ["zhangsan", "wangwu"])
def test_handler_or_head_raises_directly_and_it_is_audited(
    client: TestClient, engine: Engine, org: Org, people: People, raiser: str
) -> None:
    customer = create_customer(client, people["zhangsan"], level="normal")
    url = f"/api/v1/customers/{customer['id']}"
    raised = client.patch(url, json={"level": "secret"}, headers=people[raiser])
    assert raised.status_code == 200 and raised.json()["level"] == "secret"
    [event] = _level_events(engine, customer["id"])
    assert event.actor_id == org.user_ids[raiser] and event.decision == "allow"
    assert event.details == {"from": "normal", "to": "secret"}
    # Lowering by PATCH is refused and points to the request.
    lowered = client.patch(url, json={"level": "普通"}, headers=people[raiser])
    assert lowered.status_code == 409
    assert lowered.json()["code"] == "level_lowering_requires_approval"
    assert lowered.json()["level_change_url"] == f"{url}/level-change-requests"
    assert "level-change-requests" in lowered.json()["detail"]
    assert _level(client, people, customer["id"]) == "secret"


def test_a_grant_holder_cannot_change_the_level(
    client: TestClient, org: Org, people: People
) -> None:
    customer = create_customer(client, people["zhangsan"], level="secret")
    grant = {
        "user_id": org.user_ids["zhaoliu"],
        "customer_id": customer["id"],
        "duration_hours": 2,
        "purpose": "协助",
    }
    assert client.post("/api/v1/grants", json=grant, headers=people["baomiyuan"]).status_code == 201
    asked = _ask(client, people["zhaoliu"], customer["id"], "normal")
    assert asked.status_code == 403 and asked.json()["code"] == "grant_is_read_only"
    assert _ask(client, people["qianba"], customer["id"], "normal").status_code == 404


@pytest.mark.parametrize(
    ("level", "target", "expected"),
    [("secret", "normal", ["wangwu"]), ("confidential", "secret", ["wangwu", None])],
)
def test_lowering_is_approved_by_the_rule_of_the_current_level(
    client: TestClient,
    engine: Engine,
    org: Org,
    people: People,
    level: str,
    target: str,
    expected: list[str | None],
) -> None:
    """秘密: the head approves; 机密: the head and a security officer (None: any officer)."""
    customer = create_customer(client, people["zhangsan"], level=level)
    asked = _ask(client, people["zhangsan"], customer["id"], target)
    assert asked.status_code == 201, asked.text
    request = asked.json()
    assert request["kind"] == "level_change" and request["status"] == "pending"
    assert (request["from_level"], request["target_level"]) == (level, target)
    assert request["customer_ids"] == [customer["id"]] and request["purpose"] == "项目结束"
    assert _approvers(org, request) == sorted(expected, key=str)
    shown = client.get(f"{REQUESTS}/{request['id']}", headers=people["zhangsan"]).json()
    assert (shown["kind"], shown["target_level"]) == ("level_change", target)
    waiting = client.get(REQUESTS, params={"role": "to_approve"}, headers=people["wangwu"]).json()
    assert request["id"] in [r["id"] for r in waiting]

    approve = f"{REQUESTS}/{request['id']}/approve"
    first = client.post(approve, headers=people["wangwu"], json={"comment": "同意降级"})
    assert first.status_code == 200, first.text
    if None in expected:  # the officer's approval is still needed
        assert first.json()["status"] == "pending"
        assert _level(client, people, customer["id"]) == level
        again = client.post(approve, headers=people["wangwu"])
        assert again.status_code == 409 and again.json()["code"] == "already_decided"
        last = client.post(approve, headers=people["baomiyuan"])
        assert last.status_code == 200, last.text
        final = last.json()
        last_approver = "baomiyuan"
    else:
        final = first.json()
        last_approver = "wangwu"
    assert final["status"] == "approved" and final["grant_ids"] == []
    assert _level(client, people, customer["id"]) == target
    [event] = _level_events(engine, customer["id"])
    assert event.actor_id == org.user_ids[last_approver] and event.object_id == request["id"]
    assert event.details == {"from": level, "to": target}
    assert event.reason == "request_approved"


def test_a_rejection_ends_the_request_and_leaves_the_level(
    client: TestClient, engine: Engine, people: People
) -> None:
    customer = create_customer(client, people["zhangsan"], level="confidential")
    request = _ask(client, people["zhangsan"], customer["id"], "normal").json()
    base = f"{REQUESTS}/{request['id']}"
    assert client.post(f"{base}/approve", headers=people["wangwu"]).status_code == 200
    rejected = client.post(
        f"{base}/reject", headers=people["baomiyuan"], json={"comment": "不同意"}
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert _level(client, people, customer["id"]) == "confidential"
    late = client.post(f"{base}/approve", headers=people["baomiyuan"])
    assert late.status_code == 409 and late.json()["code"] == "request_not_pending"
    assert _level_events(engine, customer["id"]) == []
    # Once it has ended, a new request may be made.
    assert _ask(client, people["zhangsan"], customer["id"], "secret").status_code == 201


def test_nobody_approves_their_own_lowering(client: TestClient, org: Org, people: People) -> None:
    """A head asking to lower their own department's customer: an officer stands in for them,
    beside the officer the rule names, so two different officers approve (issue 17.8)."""
    customer = create_customer(client, people["zhangsan"], level="confidential")
    alone = _ask(client, people["wangwu"], customer["id"], "secret")
    assert alone.status_code == 409 and alone.json()["code"] == "approvers_unavailable"
    add_person(
        client,
        username="fubaomi",
        display_name="副保密员",
        employment_type="full_time",
        roles=["security_officer"],
    )
    request = _ask(client, people["wangwu"], customer["id"], "secret").json()
    assert _approvers(org, request) == [None, None]
    own = client.post(f"{REQUESTS}/{request['id']}/approve", headers=people["wangwu"])
    assert own.status_code == 403 and own.json()["code"] == "self_approval"
    stranger = client.post(f"{REQUESTS}/{request['id']}/approve", headers=people["sunqi"])
    assert stranger.status_code == 403 and stranger.json()["code"] == "not_an_approver"
    first = client.post(f"{REQUESTS}/{request['id']}/approve", headers=people["baomiyuan"])
    assert first.status_code == 200 and first.json()["status"] == "pending"
    again = client.post(f"{REQUESTS}/{request['id']}/approve", headers=people["baomiyuan"])
    assert again.status_code == 409 and again.json()["code"] == "already_decided"
    assert _level(client, people, customer["id"]) == "confidential"


def test_what_a_request_must_be(client: TestClient, people: People) -> None:
    customer = create_customer(client, people["zhangsan"], level="secret")
    for level in ("secret", "confidential"):  # not lower: raise with PATCH instead
        refused = _ask(client, people["zhangsan"], customer["id"], level)
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "level"
    unknown = _ask(client, people["zhangsan"], customer["id"], "绝密")
    assert unknown.status_code == 422
    blank = _ask(client, people["zhangsan"], customer["id"], "normal", reason="  ")
    assert blank.status_code == 422 and blank.json()["errors"][0]["field"] == "reason"
    assert _ask(client, people["zhangsan"], customer["id"], "normal").status_code == 201
    twice = _ask(client, people["zhangsan"], customer["id"], "normal")
    assert twice.status_code == 409 and twice.json()["code"] == "level_change_pending"


def test_a_level_moved_since_the_request_makes_it_moot(
    client: TestClient, engine: Engine, people: People
) -> None:
    """Routed for 秘密, the request cannot lower a customer that has since become 机密."""
    customer = create_customer(client, people["zhangsan"], level="secret")
    request = _ask(client, people["zhangsan"], customer["id"], "normal").json()
    url = f"/api/v1/customers/{customer['id']}"
    assert client.patch(url, json={"level": "confidential"}, headers=people["zhangsan"]).is_success
    stale = client.post(f"{REQUESTS}/{request['id']}/approve", headers=people["wangwu"])
    assert stale.status_code == 409 and stale.json()["code"] == "level_changed_since_request"
    assert _level(client, people, customer["id"]) == "confidential"
    shown = client.get(f"{REQUESTS}/{request['id']}", headers=people["wangwu"]).json()
    assert shown["status"] == "pending" and shown["approvals"][0]["decision"] is None
    rejected = client.post(f"{REQUESTS}/{request['id']}/reject", headers=people["wangwu"])
    assert rejected.status_code == 200
    with engine.connect() as conn:
        denied = conn.execute(
            select(audit_events.c.reason).where(
                audit_events.c.action == "customer:level_change",
                audit_events.c.decision == "deny",
            )
        ).scalars()
        assert list(denied) == ["level_changed_since_request"]
