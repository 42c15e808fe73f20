"""The unit of work: one transaction, SQLite's write lock from its BEGIN, refusals on record.

Every SQLAlchemy transaction on a SQLite engine from `make_engine` takes the write lock at once
(BEGIN IMMEDIATE), so concurrent units of work queue; units of work reuse a few kept connections
(baomi.db_idle) instead of checking one out each time. These tests hold both to their promises
under threads (uvicorn serves requests from a thread pool), and each read commits its own audit
event (C1.3).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import PendingRollbackError

from baomi.audit.context import RequestContext
from baomi.audit.models import audit_events
from baomi.audit.service import actor_event
from baomi.audit.tags import Action
from baomi.customers import service
from baomi.customers.schemas import CustomerIn
from baomi.customers.vault import Vault
from baomi.db_idle import idle_connections
from baomi.errors import Forbidden
from baomi.security.actor import Actor
from baomi.uow import unit_of_work
from baomi.users.actors import load_actor
from tests.support.api import PROVENANCE
from tests.support.org import Org

CTX = RequestContext(request_id="uow-test", client_addr="127.0.0.1")


def _actor(engine: Engine, org: Org, username: str) -> Actor:
    with unit_of_work(engine) as conn:
        actor = load_actor(conn, org.user_ids[username])
    assert actor is not None
    return actor


def _events(engine: Engine, request_id: str) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(audit_events.c.action, audit_events.c.reason)
                .where(audit_events.c.request_id == request_id)
                .order_by(audit_events.c.id)
            )
        )


def _other_writer_is_locked_out(path: str) -> bool:
    probe = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        assert "locked" in str(error)
        return True
    else:
        probe.execute("ROLLBACK")
        return False
    finally:
        probe.close()


OPENERS: dict[str, Callable[[Engine], AbstractContextManager[Connection]]] = {
    "unit_of_work": unit_of_work,
    # What the audit sealer uses (tests/test_one_unit_of_work.py names it).
    "engine.begin": lambda engine: engine.begin(),
}


@pytest.mark.parametrize("opener", sorted(OPENERS))
def test_every_transaction_holds_the_sqlite_write_lock_from_its_begin(
    engine: Engine, backend: str, opener: str
) -> None:
    if backend != "sqlite":
        pytest.skip("BEGIN IMMEDIATE is SQLite's")
    path = str(engine.url.database)
    assert not _other_writer_is_locked_out(path)
    for _ in range(2):  # the second unit of work runs on the connection the first one kept
        with OPENERS[opener](engine):
            # Nothing read or written yet: the lock was taken by BEGIN itself.
            assert _other_writer_is_locked_out(path)
        assert not _other_writer_is_locked_out(path)
    with engine.connect() as conn:
        conn.execute(select(func.count()).select_from(audit_events))  # autobegin, same BEGIN
        assert _other_writer_is_locked_out(path)
        conn.rollback()
        assert not _other_writer_is_locked_out(path)


def test_a_refusal_rolls_back_the_work_and_records_the_denial(engine: Engine, org: Org) -> None:
    actor = _actor(engine, org, "zhangsan")
    work = actor_event(ctx=CTX, actor=actor, action=Action.CUSTOMER_READ, reason="work")
    denial = actor_event(
        ctx=CTX, actor=actor, action=Action.CUSTOMER_READ, allowed=False, reason="refused"
    )
    with pytest.raises(Forbidden), unit_of_work(engine) as conn:
        conn.execute(insert(audit_events), [work])
        raise Forbidden("no").with_audit(denial)
    assert [e.reason for e in _events(engine, "uow-test")] == ["refused"]
    with pytest.raises(RuntimeError), unit_of_work(engine) as conn:
        conn.execute(insert(audit_events), [work])
        raise RuntimeError("boom")
    with unit_of_work(engine) as conn:  # the connection went back clean and is usable
        conn.execute(insert(audit_events), [work])
    assert [e.reason for e in _events(engine, "uow-test")] == ["refused", "work"]


def test_concurrent_audited_reads_each_commit_their_own_event(
    engine: Engine, org: Org, vault: Vault
) -> None:
    """uvicorn serves requests from a thread pool: reads there queue, none is lost (C1.3)."""
    actor = _actor(engine, org, "zhangsan")
    with unit_of_work(engine) as conn:
        ids = [
            service.create(
                conn,
                actor=actor,
                ctx=CTX,
                vault=vault,
                customer_in=CustomerIn(
                    name=f"并发客户{n}", phones=[f"1380013{n:04d}"], **PROVENANCE
                ),
            ).id
            for n in range(4)
        ]
    threads, reads = 6, 25
    start = threading.Barrier(threads)
    failures: list[str] = []

    def reader(n: int) -> None:
        ctx = RequestContext(request_id=f"reader-{n}", client_addr="127.0.0.1")
        start.wait()
        for i in range(reads):
            customer_id = ids[(n + i) % len(ids)]
            try:
                with unit_of_work(engine) as conn:
                    out = service.get(
                        conn, actor=actor, ctx=ctx, vault=vault, customer_id=customer_id
                    )
            except Exception as error:  # collected: an assertion in a thread would be lost
                failures.append(f"reader {n}: {error!r}")
                continue
            if out.id != customer_id or out.data["name"] != f"并发客户{ids.index(customer_id)}":
                failures.append(f"reader {n} got {out.id} for {customer_id}")

    workers = [threading.Thread(target=reader, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert failures == []
    for n in range(threads):
        events = _events(engine, f"reader-{n}")
        assert events == [(Action.CUSTOMER_READ.value, "handler")] * reads
    idle = idle_connections(engine)
    if idle is not None:  # SQLite: only the kept connections stay out of the pool, fewer than it
        assert engine.pool.checkedout() == len(idle) < engine.pool.size()  # type: ignore[attr-defined]


def _sqlite_only(backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("PostgreSQL connections are checked out of the pool each time")


def _driver(conn: Connection) -> Any:
    return conn.connection.driver_connection


def test_units_of_work_reuse_a_clean_connection(engine: Engine, backend: str) -> None:
    _sqlite_only(backend)
    idle = idle_connections(engine)
    assert idle is not None
    with unit_of_work(engine) as conn:
        first = _driver(conn)
    with unit_of_work(engine) as conn:
        assert _driver(conn) is first
        assert conn.in_transaction() and first.in_transaction
    assert len(idle) == 1 and not first.in_transaction
    assert engine.pool.checkedout() == 1  # the kept one; the rest of the pool is free


def test_a_connection_that_is_not_clean_goes_back_to_the_pool(engine: Engine, backend: str) -> None:
    _sqlite_only(backend)
    idle = idle_connections(engine)
    assert idle is not None
    with unit_of_work(engine) as conn:
        conn.execution_options(logging_token="changed")  # changes this Connection in place
    assert len(idle) == 0 and engine.pool.checkedout() == 0
    with pytest.raises(PendingRollbackError), unit_of_work(engine) as conn:
        conn.invalidate()
    assert len(idle) == 0 and engine.pool.checkedout() == 0
    with unit_of_work(engine) as conn:  # and the next unit of work simply gets another
        assert conn.execute(select(func.count()).select_from(audit_events)).scalar_one() >= 0
        assert conn.get_execution_options() == engine.get_execution_options()
    assert len(idle) == 1


def test_dispose_closes_the_kept_connections(engine: Engine, backend: str) -> None:
    _sqlite_only(backend)
    with unit_of_work(engine) as conn:
        kept = _driver(conn)
    path = str(engine.url.database)
    engine.dispose()
    with pytest.raises(sqlite3.ProgrammingError):
        kept.execute("SELECT 1")
    # The last connection closed folds the write-ahead log back into the file.
    assert not os.path.exists(path + "-wal")
