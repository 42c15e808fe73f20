"""Canary: plaintext customer data never reaches the database file, its WAL, the logs or the
audit log (C4.2.2: stored only encrypted; audit events carry ids and field names, not values)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest
import structlog
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from baomi import logging as baomi_logging
from baomi.audit.models import audit_events
from baomi.config import Settings
from tests.support.api import create_customer, login


def _canaries() -> dict[str, Any]:
    tag = secrets.token_hex(6)
    digits = f"{secrets.randbelow(10**8):08d}"
    return {
        "name": f"金丝雀公司{tag}",
        "contacts": [{"name": f"联系人{tag}", "title": f"职位{tag}", "phones": [], "emails": []}],
        "phones": [f"139{digits}"],
        "emails": [f"canary{tag}@example.com"],
        "address": f"金丝雀路{tag}号",
        "contract_terms": f"条款{tag}",
        "prices": f"价格{tag}",
        "requirements": f"需求{tag}",
        "purchase_intent": f"意向{tag}",
        "competitor_products": f"竞品{tag}",
        "notes": f"敏感备注{tag}",
    }


def _needles(record: dict[str, Any]) -> list[bytes]:
    values = [v for k, v in record.items() if isinstance(v, str)]
    values += [record["contacts"][0]["name"], record["emails"][0], record["phones"][0]]
    out: list[bytes] = []
    for value in values:
        out += [value.encode("utf-8"), value.encode("utf-16-le")]
    return out


def _exercise(client: TestClient, record: dict[str, Any]) -> None:
    """Create, read, reveal, search, check, update and fail on purpose with the canaries."""
    headers = login(client, "zhangsan")
    created = create_customer(client, headers, **record)
    url = f"/api/v1/customers/{created['id']}"
    client.get(url, headers=headers)
    reveal = {
        "fields": ["notes"],
        "purpose": "contract",
        "reason_code": "contract_work",
        "reason": "核对",
    }
    client.post(f"{url}/reveal", json=reveal, headers=headers)
    client.get("/api/v1/customers", params={"q": record["name"]}, headers=headers)
    client.get("/api/v1/customers/check", params={"phone": record["phones"][0]}, headers=headers)
    client.get("/api/v1/customers/check", params={"name": record["name"]}, headers=headers)
    client.patch(url, json={"requirements": record["requirements"] + "更新"}, headers=headers)
    client.patch(url, json={"phones": [record["phones"][0] + "99"]}, headers=headers)  # invalid
    client.get(url, headers=login(client, "zhaoliu"))  # denied


def test_no_plaintext_in_audit_log(client: TestClient, engine: Engine) -> None:
    record = _canaries()
    _exercise(client, record)
    with engine.connect() as conn:
        rows = conn.execute(select(audit_events)).all()
    dump = repr([tuple(r) for r in rows]).encode("utf-8")
    dump += "".join(str(v) for r in rows for v in r).encode("utf-8")
    assert rows and not [n for n in _needles(record) if n in dump]


def test_no_plaintext_in_sqlite_files_or_logs(
    app: FastAPI, database: tuple[str, Any], tmp_path: Path, backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("the file scan is SQLite's; the audit table is scanned on both backends")
    # The server's own logging: JSON lines in BAOMI_HOME/logs, one per request (as `baomi serve`).
    log_file = baomi_logging.configure(Settings(home=tmp_path / "logged"))
    record = _canaries()
    try:
        with TestClient(baomi_logging.RequestLog(app)) as logged_client:
            _exercise(logged_client, record)
    finally:
        structlog.reset_defaults()
    db_file = Path(database[0].removeprefix("sqlite:///"))
    scanned = [db_file, db_file.with_name(db_file.name + "-wal"), log_file]
    blob = b"".join(p.read_bytes() for p in scanned if p.exists())
    assert b"/api/v1/customers/check" in log_file.read_bytes()  # the log was written
    assert "华东销售部".encode() in blob  # the scan does see plaintext that is meant to be plain
    assert not [n for n in _needles(record) if n in blob]
