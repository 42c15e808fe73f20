"""Organisation management by the administrator: 三员分立, password rules, disabling."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.support.api import login
from tests.support.org import Org


def _user(org: Org, **overrides: object) -> dict[str, object]:
    return {
        "username": "newhire",
        "display_name": "新员工",
        "password": "a-long-passphrase-2026",
        "employment_type": "part_time",
        "department_id": org.departments["华南销售部"],
        "roles": ["salesperson"],
        **overrides,
    }


def test_separation_of_duties_is_enforced(client: TestClient, org: Org) -> None:
    admin = login(client, "admin")
    for roles in (
        ["administrator", "auditor"],
        ["security_officer", "auditor"],
        ["administrator", "salesperson"],
    ):
        response = client.post("/api/v1/users", json=_user(org, roles=roles), headers=admin)
        assert response.status_code == 422, roles
        assert response.json()["errors"][0]["field"] == "roles"
        assert "三员分立" in response.json()["errors"][0]["message"]


def test_only_the_administrator_manages_users(client: TestClient, org: Org) -> None:
    for username in ("zhangsan", "wangwu", "baomiyuan", "shenji"):
        headers = login(client, username)
        assert client.post("/api/v1/users", json=_user(org), headers=headers).status_code == 403
        assert client.get("/api/v1/users", headers=headers).status_code == 403


def test_create_login_and_disable(client: TestClient, org: Org) -> None:
    admin = login(client, "admin")
    weak = client.post("/api/v1/users", json=_user(org, password="short"), headers=admin)
    assert weak.status_code == 422 and weak.json()["errors"][0]["field"] == "password"
    created = client.post("/api/v1/users", json=_user(org), headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["employment_type"] == "part_time"
    taken = client.post("/api/v1/users", json=_user(org), headers=admin)
    assert taken.status_code == 409
    token = login(client, "newhire", "a-long-passphrase-2026")
    assert client.get("/api/v1/customers", headers=token).status_code == 200
    user_id = created.json()["id"]
    assert client.post(f"/api/v1/users/{user_id}/disable", headers=admin).status_code == 204
    # Disabling ends every session at once (C4.5.2), and the account stays on record (C4.5.3).
    assert client.get("/api/v1/customers", headers=token).status_code == 401
    relogin = client.post(
        "/api/v1/auth/login", json={"username": "newhire", "password": "a-long-passphrase-2026"}
    )
    assert relogin.status_code == 401
    users = {u["username"]: u for u in client.get("/api/v1/users", headers=admin).json()}
    assert users["newhire"]["is_active"] is False


def test_departments_form_a_tree(client: TestClient, org: Org) -> None:
    admin = login(client, "admin")
    team = client.post(
        "/api/v1/departments",
        headers=admin,
        json={"name": "深圳组", "parent_id": org.departments["华南销售部"]},
    )
    assert team.status_code == 201 and team.json()["parent_id"] == org.departments["华南销售部"]
    dup = client.post("/api/v1/departments", headers=admin, json={"name": "深圳组"})
    assert dup.status_code == 409
