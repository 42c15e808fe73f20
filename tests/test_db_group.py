"""SQLite units of work committed in groups (baomi.db_group), each answered after its commit.

What the speed (benchmarks/bench_http.py) must not cost: a unit is answered only once the COMMIT
holding its work has returned (C1.3: no read acknowledged with its event uncommitted); a unit
that fails is rolled back alone and its refusal recorded; a group whose transaction fails takes
all its units' work with it and tells each of them; a unit that takes the engine runs alone.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from baomi.db import make_engine
from baomi.db_group import GroupCommit, GroupLost
from baomi.db_idle import idle_connections
from baomi.db_writer import queue_for
from baomi.errors import Forbidden

T = TypeVar("T")


@pytest.fixture
def file_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'g.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
        conn.execute(text("CREATE TABLE parent (id INTEGER PRIMARY KEY)"))
        conn.execute(text("CREATE TABLE child (p INTEGER REFERENCES parent (id))"))
    yield engine
    engine.dispose()


def _committed(engine: Engine) -> list[int]:
    """The rows another connection sees: only what was committed."""
    probe = sqlite3.connect(str(engine.url.database))
    try:
        return sorted(n for (n,) in probe.execute("SELECT n FROM t"))
    finally:
        probe.close()


def _insert(n: int, seen: list[Any] | None = None) -> Callable[[Connection], int]:
    def work(conn: Connection) -> int:
        conn.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
        if seen is not None:
            seen.append(conn.get_transaction())
        return n

    return work


def _slow(n: int, seen: list[Any]) -> Callable[[Connection], int]:
    """A unit that takes long enough for the others to queue behind it."""

    def work(conn: Connection) -> int:
        time.sleep(0.1)
        return _insert(n, seen)(conn)

    return work


def _group() -> GroupCommit:
    # Time enough for the slow first unit of each test and the units queued behind it.
    return GroupCommit(max_seconds=10)


def _on_a_loop(main: Coroutine[Any, Any, T]) -> T:
    """Run `main` on an event loop of its own thread: the main thread's may be taken (the
    browser tests' Playwright keeps one running there)."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, main).result()


def _run(*jobs: Any) -> list[Any]:
    async def all_of() -> list[Any]:
        return await asyncio.gather(*jobs, return_exceptions=True)

    return _on_a_loop(all_of())


def _nothing_left_open(engine: Engine) -> None:
    idle = idle_connections(engine)
    assert idle is not None
    assert engine.pool.checkedout() == len(idle)  # type: ignore[attr-defined]
    queue = queue_for(str(engine.url.database))
    assert queue is not None and not queue._held


async def _answered_after_commit(group: GroupCommit, engine: Engine, n: int) -> int:
    result = await group.run(engine, _insert(n))
    assert n in _committed(engine)  # committed before the request hears of it
    return int(result)


def test_waiting_units_commit_together_and_each_is_answered_after_the_commit(
    file_engine: Engine,
) -> None:
    group, seen = _group(), list[Any]()

    async def go() -> list[Any]:
        first = asyncio.ensure_future(group.run(file_engine, _slow(0, seen)))
        await asyncio.sleep(0.02)  # the first unit runs; the others queue behind it
        rest = [_answered_after_commit(group, file_engine, n) for n in range(1, 6)]
        return await asyncio.gather(first, *rest)

    assert _on_a_loop(go()) == [0, 1, 2, 3, 4, 5]
    assert len({id(t) for t in seen}) == 1  # one transaction for the six
    assert _committed(file_engine) == [0, 1, 2, 3, 4, 5]
    _nothing_left_open(file_engine)


def test_a_failing_unit_is_rolled_back_alone_and_its_refusal_recorded(
    file_engine: Engine,
) -> None:
    group, seen = _group(), list[Any]()

    def refused(conn: Connection) -> None:
        conn.execute(text("INSERT INTO t VALUES (100)"))  # undone with the unit

        def on_record(c: Connection) -> None:
            c.execute(text("INSERT INTO t VALUES (101)"))

        raise Forbidden("no").with_effect(on_record)

    def broken(conn: Connection) -> None:
        conn.execute(text("INSERT INTO t VALUES (200)"))
        raise RuntimeError("boom")

    async def go() -> list[Any]:
        first = asyncio.ensure_future(group.run(file_engine, _slow(1, seen)))
        await asyncio.sleep(0.02)
        others = [
            group.run(file_engine, refused),
            group.run(file_engine, _insert(2, seen)),
            group.run(file_engine, broken),
            group.run(file_engine, _insert(3, seen)),
        ]
        return await asyncio.gather(first, *others, return_exceptions=True)

    results = _on_a_loop(go())
    assert results[0] == 1 and results[2] == 2 and results[4] == 3
    assert isinstance(results[1], Forbidden) and isinstance(results[3], RuntimeError)
    assert len({id(t) for t in seen}) == 1
    # The refusal's effect stays (as its audit events would); the refused work does not.
    assert _committed(file_engine) == [1, 2, 3, 101]
    _nothing_left_open(file_engine)


def test_a_group_whose_commit_fails_answers_every_unit_with_the_failure(
    file_engine: Engine,
) -> None:
    group, seen = _group(), list[Any]()

    def orphan(conn: Connection) -> None:
        # Checked at COMMIT only: the group's commit fails, after the units all succeeded.
        conn.connection.driver_connection.execute("PRAGMA defer_foreign_keys = ON")  # type: ignore[union-attr]
        conn.execute(text("INSERT INTO child VALUES (42)"))

    async def go() -> list[Any]:
        first = asyncio.ensure_future(group.run(file_engine, _slow(1, seen)))
        await asyncio.sleep(0.02)
        others = [group.run(file_engine, orphan), group.run(file_engine, _insert(2, seen))]
        return await asyncio.gather(first, *others, return_exceptions=True)

    results = _on_a_loop(go())
    assert all(isinstance(r, Exception) and "FOREIGN KEY" in str(r) for r in results), results
    assert _committed(file_engine) == []  # nobody's work stayed, nobody was told it did
    _nothing_left_open(file_engine)
    assert _run(group.run(file_engine, _insert(3))) == [3]  # the next group starts afresh
    assert _committed(file_engine) == [3]


def test_a_unit_that_ends_the_groups_transaction_fails_the_whole_group(
    file_engine: Engine,
) -> None:
    group, seen = _group(), list[Any]()

    def ends_it(conn: Connection) -> None:
        conn.connection.driver_connection.execute("ROLLBACK")  # type: ignore[union-attr]

    async def go() -> list[Any]:
        first = asyncio.ensure_future(group.run(file_engine, _slow(1, seen)))
        await asyncio.sleep(0.02)
        ended = group.run(file_engine, ends_it)
        return list(await asyncio.gather(first, ended, return_exceptions=True))

    results = _on_a_loop(go())
    assert all(isinstance(r, GroupLost) for r in results), results
    assert _committed(file_engine) == []
    _nothing_left_open(file_engine)


def test_a_unit_that_takes_the_engine_runs_alone(file_engine: Engine) -> None:
    group, seen = _group(), list[Any]()

    async def go() -> list[Any]:
        first = asyncio.ensure_future(group.run(file_engine, _slow(1, seen)))
        await asyncio.sleep(0.02)
        alone = group.run(file_engine, _insert(2, seen), alone=True)
        after = group.run(file_engine, _insert(3, seen))
        return list(await asyncio.gather(first, alone, after))

    assert _on_a_loop(go()) == [1, 2, 3]
    assert len({id(t) for t in seen}) == 3  # the lone unit split the queue in three
    assert _committed(file_engine) == [1, 2, 3]
    _nothing_left_open(file_engine)


def test_a_unit_not_kept_is_undone_even_when_it_succeeds(file_engine: Engine) -> None:
    group = _group()
    assert _run(
        group.run(file_engine, _insert(1), keep=False),
        group.run(file_engine, _insert(2)),
    ) == [1, 2]
    assert _run(group.run(file_engine, _insert(3), keep=False, alone=True)) == [3]
    assert _committed(file_engine) == [2]
    _nothing_left_open(file_engine)


def test_the_unit_that_began_the_transaction_is_undone_alone(file_engine: Engine) -> None:
    """The first unit to write has no savepoint (nothing before it to keep): a rollback."""
    group, seen = _group(), list[Any]()

    def slow_and_broken(conn: Connection) -> None:
        _slow(100, seen)(conn)
        raise RuntimeError("boom")

    async def go() -> list[Any]:
        first = asyncio.ensure_future(group.run(file_engine, slow_and_broken))
        await asyncio.sleep(0.02)
        rest = [group.run(file_engine, _insert(n, seen)) for n in (1, 2)]
        return await asyncio.gather(first, *rest, return_exceptions=True)

    results = _on_a_loop(go())
    assert isinstance(results[0], RuntimeError) and results[1:] == [1, 2]
    assert _committed(file_engine) == [1, 2]
    _nothing_left_open(file_engine)


def test_units_that_run_no_statement_take_no_write_lock(file_engine: Engine) -> None:
    """As a request refused before its first statement: no BEGIN IMMEDIATE, no waiting."""
    group = _group()
    holder = sqlite3.connect(str(file_engine.url.database), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the file's write lock
    try:
        started = time.monotonic()
        assert _run(*(group.run(file_engine, lambda conn: "ok") for _ in range(3))) == ["ok"] * 3
        assert time.monotonic() - started < 2  # SQLite's busy wait would be 10 s
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    _nothing_left_open(file_engine)
