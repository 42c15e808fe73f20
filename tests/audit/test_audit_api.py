"""Auditor API: search with ids, proofs that seal first, status; others are refused (C6)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from baomi.audit import api as audit_api
from baomi.audit import proofcheck
from tests.support.api import login


@pytest.fixture
def audit_client(app: FastAPI) -> Iterator[TestClient]:
    if not any(getattr(r, "path", "").startswith("/api/v1/audit") for r in app.routes):
        app.include_router(audit_api.router)  # until app.py mounts it
    with TestClient(app) as client:
        yield client


def test_auditor_searches_proves_and_reads_status(audit_client: TestClient) -> None:
    auditor = login(audit_client, "shenji")
    login(audit_client, "zhangsan")
    r = audit_client.get(
        "/api/v1/audit/events", params={"action": "auth:login", "limit": 5}, headers=auditor
    )
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert items and all("id" in i and i["action"] == "auth:login" for i in items)
    event_id = items[0]["id"]
    r = audit_client.get(f"/api/v1/audit/events/{event_id}/proof", headers=auditor)
    assert r.status_code == 200, r.text
    assert proofcheck.check(r.json()) == "inclusion"
    r = audit_client.get("/api/v1/audit/status", headers=auditor)
    assert r.status_code == 200 and r.json()["treeSize"] >= 1, r.text
    # C1.3: the unsealed window is shown: how many events wait and for how long.
    status = r.json()
    assert status["pending"] >= 1  # the proof request's own audit:verify event, at least
    assert 0 <= status["oldestPendingAgeSeconds"] < 60
    assert status["oldestPendingAt"].endswith("+00:00")
    # The auditor's own reads are on record.
    r = audit_client.get("/api/v1/audit/events", params={"action": "audit:search"}, headers=auditor)
    assert r.json()["items"]


def test_others_cannot_read_the_log(audit_client: TestClient) -> None:
    for user in ("zhangsan", "admin", "baomiyuan"):
        headers = login(audit_client, user)
        assert audit_client.get("/api/v1/audit/events", headers=headers).status_code == 403
