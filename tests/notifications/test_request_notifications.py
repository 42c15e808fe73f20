"""The approval process reaches the right people, and nobody else (C4.3.1, C3.2)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from baomi.audit.context import CLI_CONTEXT
from baomi.security.actor import console_operator
from baomi.uow import unit_of_work
from baomi.users import service as users
from tests.notifications.conftest import People, inbox, recipients
from tests.support.api import create_customer
from tests.support.org import Org

URL = "/api/v1/access-requests"


def _ask(client: TestClient, people: People, customer_ids: list[str], by: str = "zhaoliu") -> Any:
    body = {
        "purpose_code": "contract",
        "customer_ids": customer_ids,
        "purpose": "跟进合作",
        "duration_hours": 30,
    }
    response = client.post(URL, json=body, headers=people[by])
    assert response.status_code == 201, response.text
    return response.json()


def _decide(client: TestClient, people: People, request_id: str, who: str, verb: str) -> Any:
    response = client.post(f"{URL}/{request_id}/{verb}", headers=people[who])
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(
    ("level", "approvers"),
    [
        ("normal", {"wangwu"}),
        ("secret", {"wangwu", "sunqi"}),
        ("confidential", {"wangwu", "sunqi", "baomiyuan", "wujiu"}),
    ],
)
def test_filing_tells_every_approver_and_nobody_else(
    client: TestClient,
    engine: Engine,
    org: Org,
    people: People,
    with_mailboxes: dict[str, str],
    level: str,
    approvers: set[str],
) -> None:
    """C4.3.1: each approver the level needs; the officer's slot reaches every active officer."""
    with unit_of_work(engine) as conn:  # a disabled officer is told nothing
        operator = console_operator("tests")
        users.disable_user(conn, actor=operator, ctx=CLI_CONTEXT, user_id=with_mailboxes["wujiu"])
        if level == "confidential":
            approvers = approvers - {"wujiu"}
    customer = create_customer(client, people["zhangsan"], level=level)
    request = _ask(client, people, [customer["id"]])
    assert recipients(engine, org, "request_to_approve", with_mailboxes) == approvers
    (first, *_) = [n for n in inbox(engine) if n.kind == "request_to_approve"]
    assert first.params == {
        "request_id": request["id"],
        "request_kind": "access",
        "requester": "zhaoliu",
        "requester_name": "赵六",
        "customer_count": 1,
        "hours": 30,
    }
    assert first.link == f"/access-requests/{request['id']}" and first.read_at is None
    assert {n.kind for n in inbox(engine)} == {"request_to_approve"}


def test_second_officer_is_told_too(
    client: TestClient, engine: Engine, org: Org, people: People, with_mailboxes: dict[str, str]
) -> None:
    customer = create_customer(client, people["zhangsan"], level="confidential")
    _ask(client, people, [customer["id"]])
    told = recipients(engine, org, "request_to_approve", with_mailboxes)
    assert told == {"wangwu", "sunqi", "baomiyuan", "wujiu"}


def test_final_approval_tells_the_requester_only(
    client: TestClient, engine: Engine, org: Org, people: People
) -> None:
    customer = create_customer(client, people["zhangsan"], level="secret")
    request = _ask(client, people, [customer["id"]])
    _decide(client, people, request["id"], "wangwu", "approve")
    # Not final yet (sunqi still has to decide): nobody hears of an outcome.
    assert recipients(engine, org, "request_decided") == set()
    decided = _decide(client, people, request["id"], "sunqi", "approve")
    assert decided["status"] == "approved"
    assert recipients(engine, org, "request_decided") == {"zhaoliu"}
    (note,) = [n for n in inbox(engine) if n.kind == "request_decided"]
    assert note.params["outcome"] == "approved" and note.params["by"] == "sunqi"
    assert note.params["by_name"] == "孙七" and note.params["customer_count"] == 1
    (grant_id,) = decided["grant_ids"]
    grants = client.get("/api/v1/grants", headers=people["baomiyuan"]).json()
    ends_at = next(g["ends_at"] for g in grants if g["id"] == grant_id)
    assert datetime.fromisoformat(note.params["ends_at"]) == datetime.fromisoformat(ends_at)


def test_rejection_tells_the_requester_only(
    client: TestClient, engine: Engine, org: Org, people: People
) -> None:
    customer = create_customer(client, people["zhangsan"], level="secret")
    request = _ask(client, people, [customer["id"]])
    _decide(client, people, request["id"], "sunqi", "reject")
    assert recipients(engine, org, "request_decided") == {"zhaoliu"}
    (note,) = [n for n in inbox(engine) if n.kind == "request_decided"]
    assert note.params["outcome"] == "rejected" and note.params["ends_at"] is None
    assert note.params["by"] == "sunqi"


def test_revocation_tells_the_grantee_unless_they_revoked_it(
    client: TestClient, engine: Engine, org: Org, people: People
) -> None:
    first = create_customer(client, people["zhangsan"])
    second = create_customer(client, people["zhangsan"])
    request = _ask(client, people, [first["id"], second["id"]])
    granted = _decide(client, people, request["id"], "wangwu", "approve")
    one, other = granted["grant_ids"]
    response = client.post(f"/api/v1/grants/{one}/revoke", headers=people["baomiyuan"])
    assert response.status_code == 200, response.text
    assert recipients(engine, org, "grant_revoked") == {"zhaoliu"}
    (note,) = [n for n in inbox(engine) if n.kind == "grant_revoked"]
    assert note.params["grant_id"] == one and note.params["by"] == "baomiyuan"
    assert note.params["request_id"] == request["id"]
    # Ending one's own access early tells nobody.
    response = client.post(f"/api/v1/grants/{other}/revoke", headers=people["zhaoliu"])
    assert response.status_code == 200, response.text
    assert len([n for n in inbox(engine) if n.kind == "grant_revoked"]) == 1


def test_refused_actions_notify_nobody(
    client: TestClient, engine: Engine, org: Org, people: People
) -> None:
    """A refused request or decision rolls back, its notifications with it."""
    customer = create_customer(client, people["zhangsan"])
    own = client.post(
        URL,
        json={
            "purpose_code": "contract",
            "customer_ids": [customer["id"]],
            "purpose": "自己的",
            "duration_hours": 1,
        },
        headers=people["zhangsan"],
    )
    assert own.status_code == 409
    request = _ask(client, people, [customer["id"]])
    stranger = client.post(f"{URL}/{request['id']}/approve", headers=people["sunqi"])
    assert stranger.status_code == 403
    assert [n.kind for n in inbox(engine)] == ["request_to_approve"]
