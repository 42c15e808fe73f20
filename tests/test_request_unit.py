"""The request's unit of work (api/deps.py): one transaction, begun by the first statement.

Committed before the response is sent, rolled back on a refusal (whose audit events are then
written on their own), and never holding SQLite's write lock before the request's first
statement: the lock is what every other request in the process queues for (db_writer).
"""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from baomi.audit.models import audit_events
from baomi.db_idle import idle_connections
from baomi.db_writer import queue_for
from tests.support.api import login


def _events(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(audit_events)) or 0)


def _nothing_left_open(engine: Engine) -> None:
    idle = idle_connections(engine)
    if idle is None:  # PostgreSQL: every connection went back to the pool
        assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        return
    assert engine.pool.checkedout() == len(idle)  # type: ignore[attr-defined]
    queue = queue_for(str(engine.url.database))
    assert queue is not None and not queue._held


def test_a_request_commits_before_it_answers(client: TestClient, engine: Engine) -> None:
    headers = login(client, "zhangsan")
    before = _events(engine)
    assert client.get("/api/v1/customers", headers=headers).status_code == 200
    assert _events(engine) == before + 1  # the list's audit event, committed
    _nothing_left_open(engine)


def test_a_refused_request_rolls_back_and_records_the_refusal(
    client: TestClient, engine: Engine
) -> None:
    headers = login(client, "zhangsan")
    before = _events(engine)
    missing = "01a00000-0000-7000-8000-000000000000"
    assert client.get(f"/api/v1/customers/{missing}", headers=headers).status_code == 404
    assert _events(engine) == before + 1  # the denial, in a transaction of its own
    _nothing_left_open(engine)


def test_a_request_refused_before_any_statement_opens_no_transaction(
    client: TestClient, engine: Engine
) -> None:
    assert client.get("/api/v1/customers").status_code == 401
    _nothing_left_open(engine)
