"""An id of nothing is a 404, in the path or in the body, and the state of an account is a 409
(issue 18 item 9): a 422 says the request itself is malformed, which a request the document
allows is not."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from tests.support.api import PROVENANCE, login
from tests.support.org import Org

NOBODY = str(uuid.UUID(int=1))


def test_an_unknown_department_is_not_found(client: TestClient, org: Org) -> None:
    admin = login(client, "admin")
    move = client.put(
        f"/api/v1/users/{org.user_ids['zhangsan']}/department",
        json={"department_id": NOBODY},
        headers=admin,
    )
    assert move.status_code == 404 and move.json()["code"] == "not_found"
    wangwu = {"user_id": org.user_ids["wangwu"]}
    head = client.put(f"/api/v1/departments/{NOBODY}/head", json=wangwu, headers=admin)
    assert head.status_code == 404 and head.json()["code"] == "not_found"


def test_a_handler_of_nobody_is_not_found_and_one_who_may_not_handle_is_refused(
    client: TestClient, org: Org
) -> None:
    head = login(client, "wangwu")
    nobody = client.post(
        "/api/v1/customers", json={"name": "x", "handler_id": NOBODY, **PROVENANCE}, headers=head
    )
    assert nobody.status_code == 404 and nobody.json()["code"] == "not_found"
    auditor = client.post(
        "/api/v1/customers",
        json={"name": "x", "handler_id": org.user_ids["shenji"], **PROVENANCE},
        headers=head,
    )
    assert auditor.status_code == 422
    assert [e["code"] for e in auditor.json()["errors"]] == ["handler_not_eligible"]
