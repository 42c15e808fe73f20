"""C4.2.1 need-to-know, checked through the API: every role × relation × level × action.

Relations: handler; same department (and sub-team) but not handler; head of the customer's
department (also through a sub-team); head of another department; another department's
salesperson; a grant that is active, expired, revoked, or limited to named fields; and the roles
that get no customer data
by their nature (security officer, auditor, administrator — 三员分立).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update

from baomi.audit.models import audit_events
from baomi.customers.models import customers
from baomi.customers.vault import Vault
from baomi.grants import tags as grant_tags
from baomi.grants.models import access_grants
from baomi.keystore.models import data_keys
from tests.support.api import create_customer, login
from tests.support.org import Org

LEVELS = ["normal", "secret", "confidential"]
CONTACT_MASKED = {"normal": False, "secret": False, "confidential": True}


def _grant(client: TestClient, officer: dict[str, str], **body: Any) -> dict[str, Any]:
    response = client.post("/api/v1/grants", json=body, headers=officer)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _status(client: TestClient, headers: dict[str, str], customer_id: str) -> dict[str, int]:
    base = f"/api/v1/customers/{customer_id}"
    return {
        "read": client.get(base, headers=headers).status_code,
        "reveal": client.post(
            f"{base}/reveal",
            json={
                "fields": ["notes"],
                "purpose": "contract",
                "reason_code": "other",
                "reason": "matrix check",
            },
            headers=headers,
        ).status_code,
        "update": client.patch(
            base, json={"requirements": "更新需求"}, headers=headers
        ).status_code,
    }


ALLOWED = {"read": 200, "reveal": 200, "update": 200}
INVISIBLE = {"read": 404, "reveal": 404, "update": 404}
READ_ONLY = {"read": 200, "reveal": 200, "update": 403}


@pytest.mark.parametrize("level", LEVELS)
def test_matrix(client: TestClient, org: Org, engine: Engine, vault: Vault, level: str) -> None:
    people = {u: login(client, u) for u in org.user_ids}
    officer = people["baomiyuan"]
    # zhangsan (华东销售部) handles one customer; lisi (上海组, under 华东) another.
    east = create_customer(
        client,
        people["zhangsan"],
        level=level,
        phones=["13800138000"],
        notes="备注",
        id_number="11010519491231002X",
    )
    shanghai = create_customer(client, people["lisi"], level=level, name="上海客户")
    now = datetime.now(UTC)
    _grant(
        client,
        officer,
        user_id=org.user_ids["zhaoliu"],
        customer_id=east["id"],
        duration_hours=2,
        purpose="协助跟进",
    )
    expired = _grant(
        client,
        officer,
        user_id=org.user_ids["sunqi"],
        customer_id=east["id"],
        duration_hours=2,
        purpose="已过期",
    )
    # Three hours pass for this grant (a grant may not be dated back: issue 17.8); the row is
    # moved with its tag, as the clock would have moved it (issue 17.5).
    with engine.begin() as conn:
        stored = conn.execute(
            select(access_grants).where(access_grants.c.id == expired["id"])
        ).one()
        window = {"starts_at": now - timedelta(hours=3), "ends_at": now - timedelta(hours=1)}
        tag = grant_tags.tag_of(vault.tags, {**stored._mapping, **window})
        conn.execute(
            update(access_grants)
            .where(access_grants.c.id == expired["id"])
            .values(**window, row_tag=tag)
        )
    revoked = _grant(
        client,
        officer,
        user_id=org.user_ids["lisi"],
        customer_id=east["id"],
        duration_hours=2,
        purpose="将被撤销",
    )
    assert client.post(f"/api/v1/grants/{revoked['id']}/revoke", headers=officer).status_code == 200
    _grant(
        client,
        officer,
        user_id=org.user_ids["zhaoliu"],
        customer_id=shanghai["id"],
        fields=["name"],
        duration_hours=2,
        purpose="只看名称",
    )

    expected = {
        ("zhangsan", "east"): ALLOWED,  # handler
        ("qianba", "east"): INVISIBLE,  # same department, not the handler
        ("lisi", "east"): INVISIBLE,  # sub-team of the department, revoked grant
        ("wangwu", "east"): ALLOWED,  # head of the department
        ("wangwu", "shanghai"): ALLOWED,  # head, through the sub-team
        ("zhangsan", "shanghai"): INVISIBLE,  # colleague in the parent department
        ("sunqi", "east"): INVISIBLE,  # other department's head, expired grant
        ("zhaoliu", "east"): READ_ONLY,  # active whole-record grant
        ("zhaoliu", "shanghai"): {"read": 200, "reveal": 403, "update": 403},  # name only
        ("baomiyuan", "east"): INVISIBLE,  # 三员分立: security officer
        ("shenji", "east"): INVISIBLE,  # auditor
        ("admin", "east"): INVISIBLE,  # administrator
    }
    if level == "confidential":
        # C4.2.4 / C4.3.2 step-up: revealing 机密 needs a recent second factor, which these
        # salespeople have not set up (the heads logged in with one a moment ago).
        for key in (("zhangsan", "east"), ("zhaoliu", "east")):
            expected[key] = {**expected[key], "reveal": 403}
    ids = {"east": east["id"], "shanghai": shanghai["id"]}
    actual = {key: _status(client, people[key[0]], ids[key[1]]) for key in expected}
    assert actual == expected

    # Masking: sensitive fields always, contacts at levels that say so (C4.3.2).
    seen = client.get(f"/api/v1/customers/{east['id']}", headers=people["zhaoliu"]).json()
    assert seen["data"]["notes"] == "******"
    assert seen["data"]["id_number"] == "1101**********002X"
    assert ("phones" in seen["masked"]) is CONTACT_MASKED[level]
    limited = client.get(f"/api/v1/customers/{shanghai['id']}", headers=people["zhaoliu"]).json()
    assert set(limited["data"]) == {"name"} and "notes" in limited["withheld"]

    # Deleting (C4.5.1): a grant is read-only, the administrator sees nothing, and neither the
    # handler nor the head destroys a record alone: that is the approved destruction procedure.
    url = f"/api/v1/customers/{east['id']}"
    assert client.delete(url, headers=people["zhaoliu"]).status_code == 403
    assert client.delete(url, headers=people["admin"]).status_code == 404
    for alone in ("zhangsan", "wangwu"):
        refused = client.delete(url, headers=people[alone])
        assert refused.status_code == 409 and refused.json()["code"] == (
            "destruction_requires_approval"
        )
    assert client.get(url, headers=people["zhangsan"]).status_code == 200


@pytest.mark.parametrize("username", ["baomiyuan", "shenji", "admin"])
def test_roles_without_customer_data_cannot_list(client: TestClient, username: str) -> None:
    """C4.2.1 / 三员分立: administrators and auditors get no customer data by their role."""
    response = client.get("/api/v1/customers", headers=login(client, username))
    assert response.status_code == 403
    assert response.json()["code"] == "role_without_customer_access"


def test_list_contains_exactly_what_each_person_may_see(client: TestClient, org: Org) -> None:
    people = {u: login(client, u) for u in ("zhangsan", "lisi", "wangwu", "zhaoliu", "sunqi")}
    mine = create_customer(client, people["zhangsan"], name="张三的客户")
    team = create_customer(client, people["lisi"], name="李四的客户")
    south = create_customer(client, people["zhaoliu"], name="赵六的客户")

    def listed(user: str) -> set[str]:
        page = client.get("/api/v1/customers", headers=people[user]).json()
        return {item["id"] for item in page["items"]}

    assert listed("zhangsan") == {mine["id"]}
    assert listed("lisi") == {team["id"]}
    assert listed("wangwu") == {mine["id"], team["id"]}
    assert listed("zhaoliu") == {south["id"]}
    assert listed("sunqi") == {south["id"]}


def test_nobody_destroys_a_customer_alone(client: TestClient, engine: Engine) -> None:
    """C4.5.1 forbids 私自销毁: destruction is a procedure with approval, not one request.

    Before: the handler's DELETE answered 204 and soft-deleted the row, its data key and
    ciphertext left behind, decryptable. Now: 409 `destruction_requires_approval` for the handler
    and the head alike, audited as a deny event; the record is untouched and still in 查重.
    """
    handler, head = login(client, "zhangsan"), login(client, "wangwu")
    created = create_customer(client, handler, phones=["13800138000"], notes="备注")
    url = f"/api/v1/customers/{created['id']}"
    for headers in (handler, head):
        refused = client.delete(url, headers=headers)
        assert refused.status_code == 409
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == "destruction_requires_approval"
        assert "PATCH" in refused.json()["detail"]  # a record to correct is edited
    assert client.get(url, headers=handler).json()["data"]["name"] == created["data"]["name"]
    check = client.get("/api/v1/customers/check", params={"phone": "13800138000"}, headers=head)
    assert check.json()["exists"] is True
    with engine.connect() as conn:
        row = conn.execute(
            select(customers.c.deleted_at, data_keys.c.wrapped, data_keys.c.shredded_at)
            .join(data_keys, data_keys.c.id == customers.c.data_key_id)
            .where(customers.c.id == created["id"])
        ).one()
        events = conn.execute(
            select(audit_events.c.actor_username, audit_events.c.decision, audit_events.c.reason)
            .where(
                audit_events.c.action == "customer:delete",
                audit_events.c.customer_id == created["id"],
            )
            .order_by(audit_events.c.id)
        ).all()
    assert row.deleted_at is None and row.wrapped is not None and row.shredded_at is None
    assert [tuple(e) for e in events] == [
        ("zhangsan", "deny", "destruction_requires_approval"),
        ("wangwu", "deny", "destruction_requires_approval"),
    ]


def test_role_refusals_over_the_api_are_audited(client: TestClient, engine: Engine) -> None:
    """C1.3 (issue 11 §2): a salesperson probing the auditor's, the officer's and the
    administrator's routes gets 403 each time, and each leaves a deny event naming the
    permission it lacked."""
    seller = login(client, "zhangsan")
    probes = [
        ("GET", "/api/v1/audit/events", "audit:read"),
        ("POST", "/api/v1/grants", "grant:manage"),
        ("GET", "/api/v1/users", "user:manage"),
    ]
    for method, path, _ in probes:
        assert client.request(method, path, headers=seller, json={}).status_code == 403, path
    with engine.connect() as conn:
        rows = conn.execute(
            select(audit_events.c.actor_username, audit_events.c.details)
            .where(audit_events.c.action == "api:call", audit_events.c.decision == "deny")
            .order_by(audit_events.c.id)
        ).all()
    seen = [
        (r.actor_username, (json.loads(r.details) if isinstance(r.details, str) else r.details))
        for r in rows
    ]
    assert [(who, d["method"], d["route"], d["permission"]) for who, d in seen] == [
        ("zhangsan", method, path, permission) for method, path, permission in probes
    ]
