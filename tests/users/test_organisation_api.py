"""Issue 19 item 4, organisation dead ends, over the API on SQLite and PostgreSQL: departments
renamed (at once) and moved under another parent (a change for the security officer, C1.3: a
head supervises the whole subtree); people edited (at once) and enabled again (with customer data,
once the officer approves, C4.2.1); nobody who works with customers left without a department."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from baomi.audit.models import audit_events
from baomi.notifications.kinds import Kind
from baomi.notifications.messages import render
from tests.support.api import create_customer, login
from tests.support.org import Org

ADMIN, OFFICER = "admin", "baomiyuan"


def _events(engine: Engine, action: str) -> list[tuple[str, str, str | None, dict[str, Any]]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                audit_events.c.decision,
                audit_events.c.reason,
                audit_events.c.actor_username,
                audit_events.c.details,
            )
            .where(audit_events.c.action == action)
            .order_by(audit_events.c.id)
        ).all()
    return [
        (
            r.decision,
            r.reason,
            r.actor_username,
            (json.loads(r.details) if isinstance(r.details, str) else r.details) or {},
        )
        for r in rows
    ]


def _departments(client: TestClient) -> dict[str, dict[str, Any]]:
    listed = client.get("/api/v1/departments", headers=login(client, ADMIN)).json()
    return {d["name"]: d for d in listed}


def _users(client: TestClient) -> dict[str, dict[str, Any]]:
    listed = client.get("/api/v1/users", headers=login(client, ADMIN)).json()
    return {u["username"]: u for u in listed}


def _sees(client: TestClient, headers: dict[str, str], customer_id: str) -> bool:
    """Whether the person may open the customer (404 otherwise: its existence stays hidden)."""
    status = client.get(f"/api/v1/customers/{customer_id}", headers=headers).status_code
    assert status in (200, 404)
    return status == 200


def _decide(client: TestClient, change_id: str, verdict: str = "approve") -> Any:
    return client.post(
        f"/api/v1/account-changes/{change_id}/{verdict}", json={}, headers=login(client, OFFICER)
    )


# --- Department rename ----------------------------------------------------------------------


def test_rename_a_department_at_once_with_the_name_rules(
    client: TestClient, org: Org, engine: Engine
) -> None:
    admin = login(client, ADMIN)
    south = org.departments["华南销售部"]
    renamed = client.patch(
        f"/api/v1/departments/{south}", json={"name": " 华南大区 "}, headers=admin
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json() == {"id": south, "name": "华南大区", "parent_id": None,
                              "head_user_id": org.user_ids["sunqi"]}  # fmt: skip
    blank = client.patch(f"/api/v1/departments/{south}", json={"name": "  "}, headers=admin)
    assert blank.status_code == 422 and blank.json()["errors"][0]["code"] == "name_blank"
    taken = client.patch(f"/api/v1/departments/{south}", json={"name": "上海组"}, headers=admin)
    assert taken.status_code == 409 and taken.json()["code"] == "conflict"
    unknown = client.patch(f"/api/v1/departments/{org.user_ids['admin']}", json={"name": "x"},
                           headers=admin)  # fmt: skip
    assert unknown.status_code == 404
    extra = client.patch(f"/api/v1/departments/{south}", json={"name": "x", "parent_id": None},
                         headers=admin)  # fmt: skip
    assert extra.status_code == 422  # unknown keys are refused, not dropped
    by_officer = client.patch(
        f"/api/v1/departments/{south}", json={"name": "保密部"}, headers=login(client, OFFICER)
    )
    assert by_officer.status_code == 403
    assert set(_departments(client)) == {"华东销售部", "上海组", "华南大区"}
    assert _events(engine, "department:rename") == [
        ("allow", "ok", "admin", {"name_before": "华南销售部", "name_after": "华南大区"})
    ]


# --- Department moves (kind "parent") -------------------------------------------------------


def test_a_department_moves_under_another_once_the_officer_approves(
    client: TestClient, org: Org, engine: Engine
) -> None:
    """C1.3: moving 上海组 under 华南销售部 gives 孙七 (华南's head) 李四's customers and takes them
    from 王五 (华东's head): it waits for the security officer, and the heads are told."""
    customer = create_customer(client, login(client, "lisi"), level="secret")
    admin = login(client, ADMIN)
    shanghai, south = org.departments["上海组"], org.departments["华南销售部"]
    asked = client.put(
        f"/api/v1/departments/{shanghai}/parent", json={"parent_id": south}, headers=admin
    )
    assert asked.status_code == 202, asked.text
    change = asked.json()
    assert (change["kind"], change["user_id"], change["department_id"]) == (
        "parent", None, shanghai,
    )  # fmt: skip
    assert change["department_before"] == org.departments["华东销售部"]
    assert change["department_after"] == south and change["status"] == "pending"
    assert _departments(client)["上海组"]["parent_id"] == org.departments["华东销售部"]
    sunqi = login(client, "sunqi")
    assert not _sees(client, sunqi, customer["id"])
    # The officers decide; the heads of the departments concerned are told.
    for head in ("wangwu", "sunqi"):
        told = client.get("/api/v1/notifications", headers=login(client, head)).json()["items"]
        assert [n["kind"] for n in told] == ["account_change_notice"], head
        assert "上海组" in told[0]["body"]
    pending = client.get(
        "/api/v1/account-changes?status=pending", headers=login(client, OFFICER)
    ).json()
    assert [c["id"] for c in pending] == [change["id"]]

    approved = _decide(client, change["id"])
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert _departments(client)["上海组"]["parent_id"] == south
    assert _sees(client, sunqi, customer["id"])
    assert not _sees(client, login(client, "wangwu"), customer["id"])
    request_details = _events(engine, "account_change:request")[-1][3]
    assert request_details == {
        "department": "上海组",
        "kind": "parent",
        "parent_before": org.departments["华东销售部"],
        "parent_after": south,
    }
    assert _events(engine, "department:move") == [
        (
            "allow",
            "ok",
            "baomiyuan",
            {
                "department": "上海组",
                "parent_before": org.departments["华东销售部"],
                "parent_after": south,
                "change": change["id"],
                "approved_by": "baomiyuan",
            },
        )
    ]


def test_to_the_top_level_is_a_null_parent(client: TestClient, org: Org) -> None:
    """The change row keeps NULL for the top level: ParentIn's parent_id is a required key."""
    admin = login(client, ADMIN)
    shanghai = org.departments["上海组"]
    missing = client.put(f"/api/v1/departments/{shanghai}/parent", json={}, headers=admin)
    assert missing.status_code == 422
    asked = client.put(
        f"/api/v1/departments/{shanghai}/parent", json={"parent_id": None}, headers=admin
    )
    assert asked.status_code == 202, asked.text
    assert asked.json()["department_after"] is None
    assert asked.json()["department_before"] == org.departments["华东销售部"]
    assert _decide(client, asked.json()["id"]).status_code == 200
    assert _departments(client)["上海组"]["parent_id"] is None
    # Back under 华东 from the top: the "before" is the top level (null).
    back = client.put(
        f"/api/v1/departments/{shanghai}/parent",
        json={"parent_id": org.departments["华东销售部"]},
        headers=admin,
    )
    assert back.status_code == 202 and back.json()["department_before"] is None


def test_cycles_and_no_ops_are_refused(client: TestClient, org: Org, engine: Engine) -> None:
    admin = login(client, ADMIN)
    east, shanghai = org.departments["华东销售部"], org.departments["上海组"]
    below = client.put(
        f"/api/v1/departments/{east}/parent", json={"parent_id": shanghai}, headers=admin
    )
    assert below.status_code == 409 and below.json()["code"] == "department_cycle"
    itself = client.put(f"/api/v1/departments/{east}/parent", json={"parent_id": east},
                        headers=admin)  # fmt: skip
    assert itself.status_code == 409 and itself.json()["code"] == "department_cycle"
    same = client.put(f"/api/v1/departments/{shanghai}/parent", json={"parent_id": east},
                      headers=admin)  # fmt: skip
    assert same.status_code == 409 and same.json()["code"] == "already_there"
    top = client.put(f"/api/v1/departments/{east}/parent", json={"parent_id": None},
                     headers=admin)  # fmt: skip
    assert top.status_code == 409 and top.json()["code"] == "already_there"
    nowhere = client.put(
        f"/api/v1/departments/{east}/parent", json={"parent_id": org.user_ids["lisi"]},
        headers=admin,
    )  # fmt: skip
    assert nowhere.status_code == 404
    by_seller = client.put(
        f"/api/v1/departments/{shanghai}/parent", json={"parent_id": None},
        headers=login(client, "zhangsan"),
    )  # fmt: skip
    assert by_seller.status_code == 403
    assert client.get("/api/v1/account-changes", headers=admin).json() == []
    refused = [e for e in _events(engine, "account_change:request") if e[0] == "deny"]
    assert [e[1] for e in refused] == ["department_cycle", "department_cycle"]


def test_a_cycle_made_while_a_move_waited_is_refused_at_approval(
    client: TestClient, org: Org, engine: Engine
) -> None:
    """华南 under 上海组 waits; meanwhile 华东 (上海组's parent) goes under 华南 and is approved.
    Approving the first would close a circle: the officer's approval is refused, on record."""
    admin = login(client, ADMIN)
    east, shanghai = org.departments["华东销售部"], org.departments["上海组"]
    south = org.departments["华南销售部"]
    first = client.put(
        f"/api/v1/departments/{south}/parent", json={"parent_id": shanghai}, headers=admin
    ).json()
    second = client.put(
        f"/api/v1/departments/{east}/parent", json={"parent_id": south}, headers=admin
    ).json()
    assert _decide(client, second["id"]).status_code == 200
    late = _decide(client, first["id"])
    assert late.status_code == 409 and late.json()["code"] == "department_cycle"
    assert _departments(client)["华南销售部"]["parent_id"] is None
    pending = client.get("/api/v1/account-changes?status=pending", headers=admin).json()
    assert [c["id"] for c in pending] == [first["id"]]  # still waiting; the officer may reject
    assert _decide(client, first["id"], "reject").status_code == 200
    assert [e[:2] for e in _events(engine, "account_change:approve") if e[0] == "deny"] == [
        ("deny", "department_cycle")
    ]


def test_a_newer_move_of_the_same_department_withdraws_the_older(
    client: TestClient, org: Org
) -> None:
    admin = login(client, ADMIN)
    shanghai = org.departments["上海组"]
    url = f"/api/v1/departments/{shanghai}/parent"
    older = client.put(url, json={"parent_id": None}, headers=admin).json()
    newer = client.put(url, json={"parent_id": org.departments["华南销售部"]}, headers=admin)
    states = {
        c["id"]: c["status"] for c in client.get("/api/v1/account-changes", headers=admin).json()
    }
    assert states == {older["id"]: "withdrawn", newer.json()["id"]: "pending"}


def test_parent_changes_render_in_both_languages() -> None:
    params = {"change_id": "c1", "change_kind": "parent", "department": "上海组", "by": "admin",
              "by_name": "系统管理员"}  # fmt: skip
    chinese = render(Kind.ACCOUNT_CHANGE_TO_APPROVE, params, "zh_CN")
    english = render(Kind.ACCOUNT_CHANGE_TO_APPROVE, params, "en")
    assert "部门 上海组（调整上级部门）" in chinese.body and "账户" not in chinese.body
    assert "the department 上海组 (move under another department)" in english.body


# --- User edit --------------------------------------------------------------------------------


def test_edit_name_email_and_employment_at_once(
    client: TestClient, org: Org, engine: Engine
) -> None:
    admin = login(client, ADMIN)
    url = f"/api/v1/users/{org.user_ids['zhaoliu']}"
    edited = client.patch(
        url,
        json={"display_name": " 赵六六 ", "email": "zhaoliu@example.com",
              "employment_type": "full_time"},
        headers=admin,
    )  # fmt: skip
    assert edited.status_code == 200, edited.text
    body = edited.json()
    assert (body["display_name"], body["email"], body["employment_type"]) == (
        "赵六六", "zhaoliu@example.com", "full_time",
    )  # fmt: skip
    assert body["roles"] == ["salesperson"]  # nothing else moved
    cleared = client.patch(url, json={"email": None}, headers=admin)
    assert cleared.status_code == 200 and cleared.json()["email"] is None
    assert cleared.json()["display_name"] == "赵六六"  # a field left out stays
    unchanged = client.patch(url, json={}, headers=admin)
    assert unchanged.status_code == 200
    bad = client.patch(url, json={"email": "not an address", "employment_type": "boss"},
                       headers=admin)  # fmt: skip
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"email", "employment_type"}
    blank = client.patch(url, json={"display_name": "   "}, headers=admin)
    assert blank.status_code == 422 and blank.json()["errors"][0]["code"] == "name_blank"
    roles = client.patch(url, json={"roles": ["department_head"]}, headers=admin)
    assert roles.status_code == 422  # roles are not edited here: they wait for the officer
    assert (
        client.patch(url, json={"display_name": "x"}, headers=login(client, "sunqi")).status_code
        == 403
    )
    unknown = client.patch(f"/api/v1/users/{org.departments['上海组']}", json={}, headers=admin)
    assert unknown.status_code == 404
    # Audited: which fields, the employment type before and after; no address in the log.
    assert _events(engine, "user:edit") == [
        (
            "allow",
            "ok",
            "admin",
            {
                "user": "zhaoliu",
                "fields": ["display_name", "email", "employment_type"],
                "employment_before": "part_time",
                "employment_after": "full_time",
                "name_before": "赵六",
                "name_after": "赵六六",
            },
        ),
        ("allow", "ok", "admin", {"user": "zhaoliu", "fields": ["email"]}),
    ]


# --- Enable ----------------------------------------------------------------------------------


def test_enabling_a_salesperson_waits_for_the_officer(
    client: TestClient, org: Org, engine: Engine
) -> None:
    """C4.2.1: access to customer data comes back only with the security officer's approval."""
    admin = login(client, ADMIN)
    qianba = org.user_ids["qianba"]
    assert client.post(f"/api/v1/users/{qianba}/disable", headers=admin).status_code == 204
    asked = client.post(f"/api/v1/users/{qianba}/enable", headers=admin)
    assert asked.status_code == 202, asked.text
    change = asked.json()
    assert (change["kind"], change["user_id"], change["status"]) == ("enable", qianba, "pending")
    assert _users(client)["qianba"]["is_active"] is False
    again = client.post(f"/api/v1/users/{qianba}/enable", headers=admin)
    assert again.status_code == 202  # the newer request replaces the older
    told = client.get("/api/v1/notifications", headers=login(client, "wangwu")).json()["items"]
    assert {n["kind"] for n in told} == {"account_change_notice"}  # 钱八's head
    assert _decide(client, change["id"]).status_code == 409  # withdrawn
    assert _decide(client, again.json()["id"]).status_code == 200
    assert _users(client)["qianba"]["is_active"] is True
    login(client, "qianba")  # the password they had works again
    active = client.post(f"/api/v1/users/{qianba}/enable", headers=admin)
    assert active.status_code == 409 and active.json()["code"] == "already_active"
    assert _events(engine, "user:enable") == [
        (
            "allow",
            "ok",
            "baomiyuan",
            {"user": "qianba", "change": again.json()["id"], "approved_by": "baomiyuan"},
        )
    ]


def test_enabling_an_account_without_customer_data_is_direct(
    client: TestClient, org: Org, engine: Engine
) -> None:
    admin = login(client, ADMIN)
    shenji = org.user_ids["shenji"]
    # A second auditor first: the only holder of a duty is never disabled.
    second = client.post(
        "/api/v1/users",
        json={"username": "shenji2", "display_name": "审计员二", "roles": ["auditor"]},
        headers=admin,
    ).json()
    assert _decide(client, second["pending_change"]["id"]).status_code == 200
    assert client.post(f"/api/v1/users/{shenji}/disable", headers=admin).status_code == 204
    enabled = client.post(f"/api/v1/users/{shenji}/enable", headers=admin)
    assert enabled.status_code == 204 and enabled.content == b""
    assert _users(client)["shenji"]["is_active"] is True
    assert _events(engine, "user:enable") == [("allow", "ok", "admin", {"user": "shenji"})]
    unknown = client.post(f"/api/v1/users/{org.departments['上海组']}/enable", headers=admin)
    assert unknown.status_code == 404
    by_officer = client.post(f"/api/v1/users/{shenji}/enable", headers=login(client, OFFICER))
    assert by_officer.status_code == 403


# --- Department required ------------------------------------------------------------------------


def test_whoever_works_with_customers_needs_a_department(
    client: TestClient, org: Org, engine: Engine
) -> None:
    """C1.3, C3.2: a salesperson or head without a department has no head and cannot handle a
    customer: not created, not moved out, not given such a role without one."""
    admin = login(client, ADMIN)
    for roles in (["salesperson"], ["department_head"]):
        homeless = client.post(
            "/api/v1/users",
            json={"username": "wujia", "display_name": "无家", "roles": roles},
            headers=admin,
        )
        assert homeless.status_code == 422, roles
        assert homeless.json()["errors"] == [
            {
                "field": "department_id",
                "code": "department_required",
                "message": "whoever works with customers (salesperson, department head) "
                "belongs to a department",
            }
        ]
    out = client.put(
        f"/api/v1/users/{org.user_ids['zhangsan']}/department",
        json={"department_id": None},
        headers=admin,
    )
    assert out.status_code == 409 and out.json()["code"] == "department_required"
    # Someone without customer work may leave their department, at once (it opens nothing).
    auditor = client.post(
        "/api/v1/users",
        json={"username": "shenji2", "display_name": "审计员二", "roles": ["auditor"],
              "department_id": org.departments["华南销售部"]},
        headers=admin,
    ).json()  # fmt: skip
    assert _decide(client, auditor["pending_change"]["id"]).status_code == 200
    left = client.put(
        f"/api/v1/users/{auditor['user']['id']}/department",
        json={"department_id": None},
        headers=admin,
    )
    assert left.status_code == 200 and left.json()["department_id"] is None
    twice = client.put(
        f"/api/v1/users/{auditor['user']['id']}/department",
        json={"department_id": None},
        headers=admin,
    )
    assert twice.status_code == 409 and twice.json()["code"] == "already_there"
    # Nor may such a person be given a role that works with customers without a department.
    shenji = org.user_ids["shenji"]
    raised = client.put(f"/api/v1/users/{shenji}/roles", json={"roles": ["salesperson"]},
                        headers=admin)  # fmt: skip
    assert raised.status_code == 409 and raised.json()["code"] == "department_required"
    reasons = [e[1] for e in _events(engine, "account_change:request") if e[0] == "deny"]
    assert reasons == ["department_required", "department_required"]
    assert [e[1] for e in _events(engine, "user:create") if e[0] == "deny"] == [
        "department_required", "department_required",
    ]  # fmt: skip
    assert "wujia" not in _users(client)
