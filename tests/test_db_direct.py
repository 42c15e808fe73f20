"""The direct path returns exactly what SQLAlchemy returns for the same statement."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from baomi.audit.context import RequestContext
from baomi.audit.models import audit_events
from baomi.audit.service import _INSERT, event
from baomi.audit.tags import Action, Decision
from baomi.customers.access import _BY_ID
from baomi.db import UTCDateTime
from baomi.db_direct import MEMO_LIMIT, Record, memoized
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


def test_direct_insert_matches_sqlalchemy_insert(engine: Engine) -> None:
    """The same event row, inserted directly and through Core, reads back identically."""
    ctx = RequestContext(request_id="r-1", client_addr="127.0.0.1")
    rows = [
        event(
            ctx=ctx,
            actor_id="a",
            actor_username="zhangsan",
            action=Action.CUSTOMER_READ,
            decision=Decision.ALLOW,
            reason="handler",
            customer_id="c",
            fields=fields,
            details=details,
        )
        for fields, details in ((["phones", "name"], {"n": 1}), (None, None), ([], None))
    ]
    with engine.begin() as conn:
        for row in rows:
            _INSERT.execute(conn, row)  # direct on SQLite (memoised `fields`), Core elsewhere
            conn.execute(_INSERT.statement, [row])
        stored = conn.execute(
            select(audit_events)
            .where(audit_events.c.request_id == "r-1")
            .order_by(audit_events.c.id)
        ).all()
    pairs = [(a._mapping, b._mapping) for a, b in zip(stored[::2], stored[1::2], strict=True)]
    assert len(pairs) == 3
    for direct, core in pairs:
        assert {k: v for k, v in direct.items() if k != "id"} == {
            k: v for k, v in core.items() if k != "id"
        }
    assert pairs[0][0]["fields"] == ["name", "phones"] and pairs[0][0]["details"] == {"n": 1}


def test_direct_insert_of_many_rows_matches_sqlalchemy_insert(engine: Engine) -> None:
    """`execute_many` (the batch door's audit events) stores what a Core insert stores."""
    ctx = RequestContext(request_id="r-many", client_addr="127.0.0.1")
    rows = [
        event(
            ctx=ctx,
            actor_id="a",
            actor_username="zhangsan",
            action=Action.CUSTOMER_READ,
            decision=Decision.DENY if n % 2 else Decision.ALLOW,
            reason="handler",
            customer_id=f"c-{n}",
            fields=["phones", "name"] if n % 3 else None,
            details={"purpose": "export", "n": n},
        )
        for n in range(5)
    ]
    with engine.begin() as conn:
        _INSERT.execute_many(conn, rows)
        _INSERT.execute_many(conn, [])  # nothing to insert: no statement at all
        conn.execute(_INSERT.statement, rows)
        stored = conn.execute(
            select(audit_events)
            .where(audit_events.c.request_id == "r-many")
            .order_by(audit_events.c.id)
        ).all()
    direct, core = stored[:5], stored[5:]
    assert len(core) == 5
    for a, b in zip(direct, core, strict=True):
        assert {k: v for k, v in a._mapping.items() if k != "id"} == {
            k: v for k, v in b._mapping.items() if k != "id"
        }
    assert [r.customer_id for r in direct] == [f"c-{n}" for n in range(5)]


def test_memoised_processing_equals_the_processor() -> None:
    calls: list[object] = []

    def process(value: object) -> str:
        calls.append(value)
        return json.dumps(value)

    memo = memoized(process)
    assert memo(["a", "b"]) == memo(["a", "b"]) == '["a", "b"]'
    assert len(calls) == 1  # the second list of strings came from memory
    # 1 == True, but they serialise differently: only lists of strings are remembered.
    assert memo([1]) == "[1]" and memo([True]) == "[true]"
    assert memo({"k": "v"}) == '{"k": "v"}' and memo([]) == "[]"


def test_memo_stays_correct_past_its_limit() -> None:
    memo = memoized(json.dumps)
    for n in range(MEMO_LIMIT * 2 + 3):
        assert memo([str(n)]) == f'["{n}"]'
    assert memo(["0"]) == '["0"]'


@given(
    moment=st.datetimes(
        min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1), timezones=st.timezones()
    )
)
def test_utc_columns_bind_any_aware_time_as_the_same_utc_instant(moment: datetime) -> None:
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        process = UTCDateTime().bind_processor(dialect)
        assert process is not None
        as_utc = moment.astimezone(UTC)
        expected = as_utc.replace(tzinfo=None) if dialect.name == "sqlite" else as_utc
        got = UTCDateTime().process_bind_param(moment, dialect)
        assert got is not None and got == expected and got.tzinfo == expected.tzinfo
        assert process(moment) == process(as_utc)


def test_utc_columns_refuse_naive_times() -> None:
    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().process_bind_param(datetime(2026, 1, 1), sqlite.dialect())
