"""Required approvals are counted as distinct people per rule (issue 17.8, C4.3.1).

Before this fix a head's own request for a 机密 customer needed 2 approvals where a
salesperson's needed 3: the security officer standing in for the head merged with the officer
the rule names, so one officer's approval counted twice."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from baomi.access.routing import OFFICER, Slot, SlotRole, route
from baomi.audit.models import audit_events
from baomi.security.levels import LevelRule
from baomi.security.roles import Role
from tests.support.api import add_person, create_customer, login
from tests.support.levels import DEFAULT_LEVELS
from tests.support.org import Org

URL = "/api/v1/access-requests"
CONFIDENTIAL = DEFAULT_LEVELS.rule_of("confidential")


def _access(rule: LevelRule) -> frozenset[Any]:
    return rule.access_approvers


def _slots(requester: str, requester_head: str | None, customer_head: str | None) -> list[Slot]:
    return route(
        requester_id=requester,
        requester_head=requester_head,
        customer_heads=[(CONFIDENTIAL, customer_head)],
        wanted=_access,
    )


def test_a_heads_own_request_needs_as_many_people_as_a_salespersons() -> None:
    south_head = Slot(SlotRole.DEPARTMENT_HEAD, "sunqi")
    # lisi (east, head wangwu) asks for a southern customer: three people.
    salesperson = _slots("lisi", "wangwu", "sunqi")
    assert salesperson == [south_head, Slot(SlotRole.DEPARTMENT_HEAD, "wangwu"), OFFICER]
    # wangwu asks for the same customer: an officer stands in for him, beside the named one.
    head = _slots("wangwu", "wangwu", "sunqi")
    assert head == [south_head, OFFICER, OFFICER]
    assert len(head) == len(salesperson) == 3


def test_one_person_holding_two_roles_is_one_approval_whoever_asks() -> None:
    # zhangsan asks for a customer of his own department: wangwu is both heads.
    assert _slots("zhangsan", "wangwu", "wangwu") == [
        Slot(SlotRole.DEPARTMENT_HEAD, "wangwu"),
        OFFICER,
    ]
    # wangwu asks for it himself: one officer stands in for both of his roles.
    assert _slots("wangwu", "wangwu", "wangwu") == [OFFICER, OFFICER]


def test_a_request_no_set_of_distinct_officers_can_approve_is_refused(
    client: TestClient, engine: Engine
) -> None:
    """The test company has one security officer: a head's 机密 request would wait for ever."""
    customer = create_customer(client, login(client, "zhaoliu"), level="confidential")
    body = {
        "purpose_code": "contract",
        "customer_ids": [customer["id"]],
        "purpose": "跟进合作",
        "duration_hours": 2,
    }
    refused = client.post(URL, json=body, headers=login(client, "wangwu"))
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "approvers_unavailable"
    with engine.connect() as conn:
        reasons = conn.execute(
            select(audit_events.c.reason).where(
                audit_events.c.action == "access_request:create",
                audit_events.c.decision == "deny",
            )
        ).scalars()
        assert list(reasons) == ["approvers_unavailable"]


def test_one_officer_does_not_approve_twice(client: TestClient, org: Org) -> None:
    add_person(
        client,
        username="fubaomi",
        display_name="副保密员",
        employment_type="full_time",
        roles=[Role.SECURITY_OFFICER.value],
    )
    customer = create_customer(client, login(client, "zhaoliu"), level="confidential")
    body = {
        "purpose_code": "contract",
        "customer_ids": [customer["id"]],
        "purpose": "跟进合作",
        "duration_hours": 2,
    }
    filed = client.post(URL, json=body, headers=login(client, "wangwu"))
    assert filed.status_code == 201, filed.text
    request = filed.json()
    assert [a["role"] for a in request["approvals"]].count("security_officer") == 2
    approve = f"{URL}/{request['id']}/approve"
    officer = login(client, "baomiyuan")
    assert client.post(approve, headers=officer, json={}).status_code == 200
    again = client.post(approve, headers=officer, json={})
    assert again.status_code == 409 and again.json()["code"] == "already_decided"
    assert client.post(approve, headers=login(client, "sunqi"), json={}).status_code == 200
    still = client.get(f"{URL}/{request['id']}", headers=officer).json()
    assert still["status"] == "pending"
