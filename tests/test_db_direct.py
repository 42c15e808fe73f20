"""The direct path returns exactly what SQLAlchemy returns for the same statement."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from baomi.audit.models import audit_events
from baomi.customers.access import _BY_ID
from baomi.db_direct import Record
from tests.support.api import create_customer, login


def test_direct_select_matches_sqlalchemy(client: TestClient, engine: Engine) -> None:
    created = create_customer(client, login(client, "zhangsan"), phones=["13800138000"])
    with engine.connect() as conn:
        direct = _BY_ID.first(conn, {"customer_id": created["id"]})
        reference = conn.execute(_BY_ID.statement, {"customer_id": created["id"]}).first()
        missing = _BY_ID.first(conn, {"customer_id": "no-such-id"})
    assert reference is not None and direct == Record(reference._mapping)
    assert direct.created_at.tzinfo is not None and isinstance(direct.phones_ct, bytes)
    assert missing is None


def test_direct_insert_round_trips_json_and_times(client: TestClient, engine: Engine) -> None:
    login(client, "zhangsan")  # appends an auth:login event through the direct insert
    with engine.connect() as conn:
        row = conn.execute(
            select(audit_events).where(audit_events.c.action == "auth:login")
        ).first()
    assert row is not None and row.occurred_at.tzinfo is not None
    assert row.decision == "allow" and row.fields is None
