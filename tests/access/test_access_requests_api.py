"""Access requests through the API (C4.3.1: access for work need, through approval; C4.2.1)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from baomi.audit.models import audit_events
from baomi.ids import new_id
from tests.support.api import create_customer, login
from tests.support.org import Org

URL = "/api/v1/access-requests"


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


def _ask(client: TestClient, headers: dict[str, str], customer_ids: list[str], **extra: Any) -> Any:
    body = {
        "purpose_code": "contract",
        "customer_ids": customer_ids,
        "purpose": "跟进合作",
        "duration_hours": 2,
        **extra,
    }
    return client.post(URL, json=body, headers=headers)


def _filed(client: TestClient, people: People, level: str, by: str = "zhangsan") -> str:
    customer_id: str = create_customer(client, people[by], level=level)["id"]
    return customer_id


def _approvers(org: Org, request: dict[str, Any]) -> list[str | None]:
    names = {uid: name for name, uid in org.user_ids.items()}
    return [names.get(a["approver"]) for a in request["approvals"]]


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        ("normal", ["wangwu"]),
        ("secret", ["wangwu", "sunqi"]),
        ("confidential", ["wangwu", "sunqi", None]),
    ],
)
def test_routing_follows_the_customer_level(
    client: TestClient, org: Org, people: People, level: str, expected: list[str | None]
) -> None:
    """C4.3.1 / C2.2: the customer's head; plus the requester's head; plus the officer."""
    customer_id = _filed(client, people, level)
    response = _ask(client, people["zhaoliu"], [customer_id])
    assert response.status_code == 201, response.text
    request = response.json()
    assert request["status"] == "pending" and request["grant_id"] is None
    assert (
        request["customer_ids"] == [customer_id] and request["requester"] == org.user_ids["zhaoliu"]
    )
    assert sorted(_approvers(org, request), key=str) == sorted(expected, key=str)
    roles = [a["role"] for a in request["approvals"]]
    assert ("security_officer" in roles) == (None in expected)


def test_head_found_through_ancestors_and_counted_once(
    client: TestClient, org: Org, people: People
) -> None:
    # lisi's 上海组 has no head of its own: 华东's head approves, once, for both sides.
    customer_id = _filed(client, people, "secret", by="lisi")
    request = _ask(client, people["qianba"], [customer_id]).json()
    assert _approvers(org, request) == ["wangwu"]


def test_nobody_approves_their_own_request(client: TestClient, org: Org, people: People) -> None:
    """A head asking for a customer outside their subtree: the officer stands in for them."""
    customer_id = _filed(client, people, "secret", by="zhaoliu")
    request = _ask(client, people["wangwu"], [customer_id]).json()
    assert sorted(_approvers(org, request), key=str) == sorted(["sunqi", None], key=str)
    own = client.post(f"{URL}/{request['id']}/approve", headers=people["wangwu"])
    assert own.status_code == 403 and own.json()["code"] == "self_approval"
    stranger = client.post(f"{URL}/{request['id']}/approve", headers=people["lisi"])
    assert stranger.status_code == 403 and stranger.json()["code"] == "not_an_approver"


def test_all_approvals_needed_each_given_once(
    client: TestClient, org: Org, people: People, engine: Engine
) -> None:
    customer_id = _filed(client, people, "secret")
    customer_url = f"/api/v1/customers/{customer_id}"
    request = _ask(client, people["zhaoliu"], [customer_id], fields=["name"]).json()
    approve = f"{URL}/{request['id']}/approve"
    first = client.post(approve, headers=people["wangwu"], json={"comment": "同意"})
    assert first.status_code == 200 and first.json()["status"] == "pending"
    again = client.post(approve, headers=people["wangwu"])
    assert again.status_code == 409 and again.json()["code"] == "already_decided"
    assert client.get(customer_url, headers=people["zhaoliu"]).status_code == 404
    to_approve = client.get(URL, params={"role": "to_approve"}, headers=people["sunqi"]).json()
    assert [r["id"] for r in to_approve] == [request["id"]]
    last = client.post(approve, headers=people["sunqi"])
    assert last.status_code == 200, last.text
    done = last.json()
    assert done["status"] == "approved" and done["grant_id"] == done["grant_ids"][0]
    decisions = {a["decision"] for a in done["approvals"]}
    assert decisions == {"approved"} and all(a["decided_at"] for a in done["approvals"])
    shown = client.get(customer_url, headers=people["zhaoliu"])
    assert shown.status_code == 200
    late = client.post(approve, headers=people["wangwu"])
    assert late.status_code == 409 and late.json()["code"] == "request_not_pending"
    with engine.connect() as conn:
        rows = conn.execute(
            select(audit_events.c.action, audit_events.c.actor_id, audit_events.c.decision).where(
                audit_events.c.object_id.in_([request["id"], done["grant_id"]])
            )
        ).all()
    events = [(r.action, r.decision) for r in rows]
    assert ("access_request:create", "allow") in events
    assert events.count(("access_request:approve", "allow")) == 2
    assert ("access_request:approve", "deny") in events  # the double decision, on record
    assert ("grant:create", "allow") in events
    creator = next(r.actor_id for r in rows if r.action == "grant:create")
    assert creator == org.user_ids["sunqi"]  # the last approver


def test_a_rejection_ends_the_request(client: TestClient, people: People) -> None:
    customer_id = _filed(client, people, "secret")
    request = _ask(client, people["zhaoliu"], [customer_id]).json()
    rejected = client.post(
        f"{URL}/{request['id']}/reject", headers=people["sunqi"], json={"comment": "不需要"}
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert rejected.json()["grant_ids"] == []
    after = client.post(f"{URL}/{request['id']}/approve", headers=people["wangwu"])
    assert after.status_code == 409 and after.json()["code"] == "request_not_pending"
    assert client.get(
        f"/api/v1/customers/{customer_id}", headers=people["zhaoliu"]
    ).status_code == (404)


@pytest.mark.parametrize("revoker", ["zhaoliu", "wangwu", "baomiyuan"])
def test_requester_approver_or_officer_revokes_early(
    client: TestClient, people: People, revoker: str
) -> None:
    customer_id = _filed(client, people, "normal")
    customer_url = f"/api/v1/customers/{customer_id}"
    request = _ask(client, people["zhaoliu"], [customer_id]).json()
    granted = client.post(f"{URL}/{request['id']}/approve", headers=people["wangwu"]).json()
    assert client.get(customer_url, headers=people["zhaoliu"]).status_code == 200
    revoke = f"/api/v1/grants/{granted['grant_id']}/revoke"
    outsider = client.post(revoke, headers=people["lisi"])
    assert outsider.status_code == 403 and outsider.json()["code"] == "not_allowed_to_revoke"
    assert client.post(revoke, headers=people[revoker]).status_code == 200
    assert client.get(customer_url, headers=people["zhaoliu"]).status_code == 404
    shown = client.get(f"{URL}/{request['id']}", headers=people["zhaoliu"]).json()
    assert shown["status"] == "revoked"


def test_who_sees_a_request(client: TestClient, people: People) -> None:
    customer_id = _filed(client, people, "normal")
    request = _ask(client, people["zhaoliu"], [customer_id]).json()
    url = f"{URL}/{request['id']}"
    for username in ("zhaoliu", "wangwu", "baomiyuan"):
        assert client.get(url, headers=people[username]).status_code == 200, username
    for username in ("lisi", "sunqi", "shenji", "admin"):
        assert client.get(url, headers=people[username]).status_code == 404, username
    assert client.get(f"{URL}/{new_id()}", headers=people["zhaoliu"]).status_code == 404
    mine = client.get(URL, headers=people["zhaoliu"]).json()
    assert [r["id"] for r in mine] == [request["id"]]
    assert client.get(URL, params={"role": "mine"}, headers=people["lisi"]).json() == []


def test_what_cannot_be_requested(client: TestClient, people: People) -> None:
    customer_id = _filed(client, people, "normal")
    missing = _ask(client, people["zhaoliu"], [customer_id, new_id()])
    shown_as_invisible = client.get(f"/api/v1/customers/{new_id()}", headers=people["zhaoliu"])
    assert missing.status_code == 404
    assert missing.json()["detail"] == shown_as_invisible.json()["detail"]
    assert _ask(client, people["zhaoliu"], ["not-an-id"]).status_code == 404
    own = _ask(client, people["zhangsan"], [customer_id])
    assert own.status_code == 409 and own.json()["code"] == "already_has_access"
    head = _ask(client, people["wangwu"], [customer_id])
    assert head.status_code == 409 and head.json()["code"] == "already_has_access"
    for username in ("baomiyuan", "shenji", "admin"):
        assert _ask(client, people[username], [customer_id]).status_code == 403, username
    bad_fields = _ask(client, people["zhaoliu"], [customer_id], fields=["salary"])
    assert bad_fields.status_code == 422
    assert _ask(client, people["zhaoliu"], [customer_id], duration_hours=0).status_code == 422
    assert client.get(URL, headers=people["zhaoliu"]).json() == []
