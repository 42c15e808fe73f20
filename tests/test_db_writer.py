"""SQLite writers of one process queue for the file in arrival order (baomi.db_writer).

Under 16 concurrent requests SQLite's own busy handler let newcomers overtake writers that had
polled for a second (benchmarks/bench_http.py); the queue serves them in order and gives the
turn back whenever a transaction ends: COMMIT, ROLLBACK or the connection closing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from baomi.db import make_engine
from baomi.db_writer import WriterQueue, queue_for
from baomi.uow import unit_of_work


def _wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_waiters_get_the_lock_in_arrival_order() -> None:
    queue = WriterQueue()
    assert queue.acquire(timeout=1)
    order: list[int] = []

    def writer(n: int) -> None:
        assert queue.acquire(timeout=5)
        order.append(n)
        queue.release()

    threads = []
    for n in range(8):
        thread = threading.Thread(target=writer, args=(n,))
        thread.start()
        threads.append(thread)
        _wait_for(lambda n=n: len(queue._waiters) == n + 1)
    queue.release()
    for thread in threads:
        thread.join(timeout=5)
    assert order == list(range(8))
    assert queue.acquire(timeout=0.1)  # free again once the last one released it


def test_a_waiter_that_times_out_leaves_the_queue() -> None:
    queue = WriterQueue()
    assert queue.acquire(timeout=1)
    assert not queue.acquire(timeout=0.05)
    assert len(queue._waiters) == 0
    queue.release()
    assert queue.acquire(timeout=0.1)


def test_in_memory_databases_have_no_queue() -> None:
    assert queue_for(":memory:") is None
    assert queue_for("") is None


@pytest.fixture
def file_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    yield engine
    engine.dispose()


@pytest.mark.parametrize("end", ["commit", "rollback", "error", "close"])
def test_the_next_writer_starts_as_soon_as_a_transaction_ends(
    file_engine: Engine, end: str
) -> None:
    """Every way a transaction ends gives the turn to the writer waiting in the queue."""
    queue = queue_for(str(file_engine.url.database))
    assert queue is not None
    started = threading.Event()

    def second_writer() -> None:
        with unit_of_work(file_engine) as conn:
            conn.execute(text("INSERT INTO t VALUES (2)"))
        started.set()

    conn = file_engine.connect()
    transaction = conn.begin()
    conn.execute(text("INSERT INTO t VALUES (1)"))
    waiter = threading.Thread(target=second_writer)
    waiter.start()
    _wait_for(lambda: len(queue._waiters) == 1)  # queued here, not polling SQLite's lock
    assert not started.is_set()
    if end == "commit":
        transaction.commit()
    elif end == "rollback":
        transaction.rollback()
    elif end == "error":
        with pytest.raises(RuntimeError), transaction:
            raise RuntimeError("boom")
    else:
        conn.invalidate()  # the driver connection is closed with its transaction on it
    assert started.wait(timeout=5)
    waiter.join(timeout=5)
    conn.close()
    with file_engine.connect() as check:
        rows = sorted(n for (n,) in check.execute(text("SELECT n FROM t")))
    assert rows == ([1, 2] if end == "commit" else [2])
