"""Organisation management (三员分立, C4.2.1): the administrator manages accounts but never knows a
working password, and what would let an account reach customer data waits for the security
officer. Issue 10 F1: the administrator's puppet head is the reproduction these tests close."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from baomi.audit.models import audit_events
from tests.support.api import create_customer, login
from tests.support.org import Org

NEW_PASSWORD = "a-long-passphrase-2026"


def _user(org: Org, **overrides: object) -> dict[str, object]:
    return {
        "username": "newhire",
        "display_name": "新员工",
        "employment_type": "part_time",
        "department_id": org.departments["华南销售部"],
        "roles": ["salesperson"],
        **overrides,
    }


def _activate(client: TestClient, username: str, code: str, password: str = NEW_PASSWORD) -> Any:
    body = {"username": username, "code": code, "password": password}
    return client.post("/api/v1/auth/activate", json=body)


def _password_login(client: TestClient, username: str, password: str = NEW_PASSWORD) -> Any:
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


def _approve(client: TestClient, change_id: str, as_: str = "baomiyuan") -> Any:
    return client.post(
        f"/api/v1/account-changes/{change_id}/approve",
        json={"comment": "已核实"},
        headers=login(client, as_),
    )


def test_separation_of_duties_is_enforced_and_audited(
    client: TestClient, org: Org, engine: Engine
) -> None:
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
    with engine.connect() as conn:
        refused = conn.execute(
            select(audit_events.c.reason).where(
                audit_events.c.action == "account_change:request",
                audit_events.c.decision == "deny",
            )
        ).all()
    assert [r.reason for r in refused] == ["separation_of_duties"] * 3


def test_only_the_administrator_manages_users(client: TestClient, org: Org) -> None:
    for username in ("zhangsan", "wangwu", "baomiyuan", "shenji"):
        headers = login(client, username)
        assert client.post("/api/v1/users", json=_user(org), headers=headers).status_code == 403
        assert client.get("/api/v1/users", headers=headers).status_code == 403


def test_the_administrators_puppet_head_reaches_nothing(
    client: TestClient, org: Org, engine: Engine
) -> None:
    """F1 reproduction: admin creates `fakehead` as a head, makes it head of 上海组 and tries to
    log in as it. No password is admin's to choose; the role and the headship wait for the
    officer; until then the account sees no customer."""
    create_customer(client, login(client, "lisi"), level="secret")  # 上海组's customer
    admin = login(client, "admin")
    with_password = client.post(
        "/api/v1/users",
        json={**_user(org, username="fakehead", roles=["department_head"]), "password": "x" * 20},
        headers=admin,
    )
    assert with_password.status_code == 422  # the administrator never chooses a password
    created = client.post(
        "/api/v1/users",
        json=_user(org, username="fakehead", roles=["department_head"]),
        headers=admin,
    )
    assert created.status_code == 201, created.text
    invitation = created.json()
    assert invitation["user"]["roles"] == [] and invitation["user"]["activation_pending"] is True
    assert invitation["pending_change"]["roles_after"] == ["department_head"]
    fakehead = invitation["user"]["id"]
    head = client.put(
        f"/api/v1/departments/{org.departments['上海组']}/head",
        json={"user_id": fakehead},
        headers=admin,
    )
    # Not a head (yet): the role waits for the officer. The account's state, not the request,
    # is what conflicts (issue 18 item 9).
    assert head.status_code == 409 and head.json()["code"] == "head_role_required"

    # No password works before the person sets one; admin can only use the activation code...
    assert _password_login(client, "fakehead", "baomi-test-2026-pw").status_code == 401
    assert _activate(client, "fakehead", invitation["activation_code"]).status_code == 204
    token = _password_login(client, "fakehead")
    assert token.status_code == 200
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    # ...and what it opens holds no role: no customer list, nothing to reveal.
    assert client.get("/api/v1/customers", headers=headers).status_code == 403

    # The officer sees who asked for what, and rejects it.
    pending = client.get(
        "/api/v1/account-changes?status=pending", headers=login(client, "baomiyuan")
    ).json()
    assert [c["user_id"] for c in pending] == [fakehead]
    rejected = client.post(
        f"/api/v1/account-changes/{pending[0]['id']}/reject",
        json={"comment": "查无此人"},
        headers=login(client, "baomiyuan"),
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    users = {u["username"]: u for u in client.get("/api/v1/users", headers=admin).json()}
    assert users["fakehead"]["roles"] == []
    with engine.connect() as conn:
        events = conn.execute(
            select(audit_events.c.action, audit_events.c.actor_username, audit_events.c.details)
            .where(audit_events.c.action.like("account_change:%"))
            .order_by(audit_events.c.id)
        ).all()
    assert [(e.action, e.actor_username) for e in events] == [
        ("account_change:request", "admin"),
        ("account_change:reject", "baomiyuan"),
    ]
    details = events[0].details
    details = json.loads(details) if isinstance(details, str) else details
    assert details == {
        "user": "fakehead",
        "kind": "roles",
        "roles_before": [],
        "roles_after": ["department_head"],
    }


def test_an_approved_head_takes_effect_and_the_current_head_is_told(
    client: TestClient, org: Org, engine: Engine
) -> None:
    admin = login(client, "admin")
    created = client.post(
        "/api/v1/users",
        json=_user(org, username="newhead", roles=["department_head"]),
        headers=admin,
    ).json()
    # Nobody approves their own request, and the administrator is not an approver.
    assert _approve(client, created["pending_change"]["id"], as_="admin").status_code == 403
    approved = _approve(client, created["pending_change"]["id"])
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    user = created["user"]["id"]
    asked = client.put(
        f"/api/v1/departments/{org.departments['华南销售部']}/head",
        json={"user_id": user},
        headers=admin,
    )
    assert asked.status_code == 202 and asked.json()["status"] == "pending"
    told = client.get("/api/v1/notifications", headers=login(client, "sunqi")).json()["items"]
    assert [n["kind"] for n in told] == ["account_change_notice"]
    assert _approve(client, asked.json()["id"]).status_code == 200
    departments = client.get("/api/v1/departments", headers=admin).json()
    south = next(d for d in departments if d["id"] == org.departments["华南销售部"])
    assert south["head_user_id"] == user
    with engine.connect() as conn:
        changed = conn.execute(
            select(audit_events.c.actor_username).where(
                audit_events.c.action == "department:head_change",
                audit_events.c.object_id == user,
            )
        ).all()
    assert [c.actor_username for c in changed] == ["baomiyuan"]


def test_activation_then_login_and_disable(client: TestClient, org: Org) -> None:
    admin = login(client, "admin")
    created = client.post("/api/v1/users", json=_user(org), headers=admin)
    assert created.status_code == 201, created.text
    invitation = created.json()
    assert invitation["user"]["employment_type"] == "part_time"
    assert client.post("/api/v1/users", json=_user(org), headers=admin).status_code == 409
    code = invitation["activation_code"]
    wrong = _activate(client, "newhire", code.replace(code[0], "Z" if code[0] != "Z" else "Y"))
    assert wrong.status_code == 401 and wrong.json()["code"] == "activation_invalid"
    other_user = _activate(client, "zhangsan", code)
    assert other_user.status_code == 401
    weak = _activate(client, "newhire", code, password="short")
    assert weak.status_code == 422 and weak.json()["errors"][0]["field"] == "password"
    assert _activate(client, "newhire", code.lower()).status_code == 204  # case and dashes
    assert _activate(client, "newhire", code).status_code == 401  # used once
    assert _approve(client, invitation["pending_change"]["id"]).status_code == 200
    token = {"Authorization": f"Bearer {_password_login(client, 'newhire').json()['access_token']}"}
    assert client.get("/api/v1/customers", headers=token).status_code == 200
    user_id = invitation["user"]["id"]
    assert client.post(f"/api/v1/users/{user_id}/disable", headers=admin).status_code == 204
    # Disabling ends every session at once (C4.5.2), and the account stays on record (C4.5.3).
    assert client.get("/api/v1/customers", headers=token).status_code == 401
    assert _password_login(client, "newhire").status_code == 401
    users = {u["username"]: u for u in client.get("/api/v1/users", headers=admin).json()}
    assert users["newhire"]["is_active"] is False


def test_reset_password_locks_until_the_officer_unlocks_and_keeps_mfa(
    client: TestClient, org: Org
) -> None:
    """F1: an administrator's reset works like activation and the person is told. An account
    with customer data stays locked until the security officer has confirmed with the person:
    the administrator held the code, so signing in at once would be the puppet again."""
    admin = login(client, "admin")
    zhangsan = login(client, "zhangsan")
    user_id = org.user_ids["zhangsan"]
    reset = client.post(f"/api/v1/users/{user_id}/reset-password", headers=admin)
    assert reset.status_code == 200
    assert reset.json()["locked_until_officer_unlocks"] is True
    assert client.get("/api/v1/customers", headers=zhangsan).status_code == 401
    assert _password_login(client, "zhangsan", "baomi-test-2026-pw").status_code == 401
    assert _activate(client, "zhangsan", reset.json()["activation_code"]).status_code == 204
    assert _password_login(client, "zhangsan").status_code == 401  # locked
    officer = login(client, "baomiyuan")
    assert client.post(f"/api/v1/users/{user_id}/unlock", headers=officer).status_code == 204
    token = _password_login(client, "zhangsan").json()["access_token"]
    told = client.get("/api/v1/notifications", headers={"Authorization": f"Bearer {token}"}).json()[
        "items"
    ]
    assert [n["kind"] for n in told] == ["password_reset"]
    # The reset does not touch the second factor: a head still needs their code.
    head_reset = client.post(
        f"/api/v1/users/{org.user_ids['wangwu']}/reset-password", headers=admin
    ).json()
    assert _activate(client, "wangwu", head_reset["activation_code"]).status_code == 204
    unlock = f"/api/v1/users/{org.user_ids['wangwu']}/unlock"
    assert client.post(unlock, headers=officer).status_code == 204
    no_code = _password_login(client, "wangwu")
    assert no_code.status_code == 401 and no_code.json()["code"] == "mfa_required"


def test_roles_removed_apply_at_once_roles_added_wait(client: TestClient, org: Org) -> None:
    admin = login(client, "admin")
    lisi = login(client, "lisi")
    user_id = org.user_ids["lisi"]
    raised = client.put(
        f"/api/v1/users/{user_id}/roles",
        json={"roles": ["salesperson", "department_head"]},
        headers=admin,
    )
    assert raised.status_code == 202 and raised.json()["roles_after"] == [
        "department_head",
        "salesperson",
    ]
    assert client.get("/api/v1/customers", headers=lisi).status_code == 200  # unchanged yet
    assert _approve(client, raised.json()["id"]).status_code == 200
    # The change of roles ended lisi's sessions: they sign in again under the new roles.
    assert client.get("/api/v1/customers", headers=lisi).status_code == 401
    lisi = login(client, "lisi")
    lowered = client.put(
        f"/api/v1/users/{user_id}/roles", json={"roles": ["salesperson"]}, headers=admin
    )
    assert lowered.status_code == 200 and lowered.json()["roles"] == ["salesperson"]
    assert client.get("/api/v1/customers", headers=lisi).status_code == 401
    own = client.put(
        f"/api/v1/users/{org.user_ids['admin']}/roles",
        json={"roles": ["administrator", "auditor"]},
        headers=admin,
    )
    assert own.status_code == 422  # 三员分立 before anything else
    moved = client.put(
        f"/api/v1/users/{user_id}/department",
        json={"department_id": org.departments["华南销售部"]},
        headers=admin,
    )
    assert moved.status_code == 202


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


def test_messages_say_the_rule_not_a_regex_or_a_one_character_minimum(
    client: TestClient, org: Org
) -> None:
    """Issue 19: a raw regex for a bad username, "at least 1 character" for a 12-character rule."""
    admin = login(client, "admin")
    bad = client.post(
        "/api/v1/users", json=_user(org, username="Li Si", email="nope"), headers=admin
    )
    assert bad.status_code == 422
    messages = {e["field"]: e["message"] for e in bad.json()["errors"]}
    assert messages["username"].startswith("start with a lowercase letter")
    assert messages["email"].startswith("not an e-mail address")
    assert "^" not in json.dumps(messages)  # no pattern shown to a person
    created = client.post("/api/v1/users", json=_user(org), headers=admin).json()
    empty = _activate(client, "newhire", created["activation_code"], password="")
    assert empty.status_code == 422
    assert "at least 12 characters" in empty.json()["errors"][0]["message"]


def test_a_blank_department_name_is_refused(client: TestClient) -> None:
    """Issue 19: a name of spaces made a department nobody could tell apart."""
    admin = login(client, "admin")
    blank = client.post("/api/v1/departments", json={"name": "   "}, headers=admin)
    assert blank.status_code == 422
    assert blank.json()["errors"][0]["code"] == "name_blank"
    padded = client.post("/api/v1/departments", json={"name": " 华北销售部 "}, headers=admin)
    assert padded.status_code == 201, padded.text
    names = [d["name"] for d in client.get("/api/v1/departments", headers=admin).json()]
    assert "华北销售部" in names
