"""查重 by e-mail refuses what is no e-mail address (422 `email_invalid`), as filing does: a value
that could never be on file gets the same refusal, never "no such customer" (C4.1.3)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.support.api import login


def test_a_non_address_is_refused(client: TestClient) -> None:
    headers = login(client, "zhangsan")
    refused = client.get("/api/v1/customers/check", params={"email": "Cú"}, headers=headers)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["code"] == "email_invalid"
    fine = client.get("/api/v1/customers/check", params={"email": "a@b.cn"}, headers=headers)
    assert fine.status_code == 200 and fine.json()["exists"] is False
