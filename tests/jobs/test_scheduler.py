"""The scheduler: one runner per job run however many race, leases that run out, failures on
record, every run that did something audited as the system (C1.3: nothing happens
anonymously)."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.engine import Connection

from baomi.app import create_app
from baomi.audit.models import audit_events
from baomi.config import Settings
from baomi.customers.vault import Vault
from baomi.db import make_engine
from baomi.jobs import lease
from baomi.jobs.models import job_runs
from baomi.jobs.registry import Job, JobRegistry
from baomi.jobs.runner import BackgroundJobs, JobRunner, RunOutcome, UnknownJob
from baomi.notifications.models import notifications
from tests.jobs.conftest import START, Counter, FakeClock, registry_of
from tests.support.org import Org


def _row(engine: Engine, name: str) -> object:
    with engine.connect() as conn:
        return conn.execute(select(job_runs).where(job_runs.c.name == name)).one()


def _job_events(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        return conn.execute(
            select(audit_events)
            .where(audit_events.c.action == "job:run")
            .order_by(audit_events.c.id)
        ).all()


def test_a_due_job_runs_once_and_is_audited_as_the_system(engine: Engine) -> None:
    counter = Counter()
    runner = JobRunner(engine, registry_of(test_count=counter), owner="runner-a")
    assert runner.run_due(now=START) == [RunOutcome("test.count", "ok", {"things": 3})]
    assert runner.run_due(now=START + timedelta(minutes=9)) == []  # not due again yet
    assert counter.runs == 1
    row = _row(engine, "test.count")
    assert row.last_status == "ok" and row.lease_owner is None and row.lease_until is None
    assert row.next_due_at == START + timedelta(minutes=10)
    (event,) = _job_events(engine)
    assert event.actor_id is None and event.actor_username == "system:test.count"
    assert event.decision == "allow" and event.reason == "ok" and event.client_addr == "job"
    assert event.details == {"job": "test.count", "runner": "runner-a", "things": 3}
    assert runner.run_due(now=START + timedelta(minutes=10))[0].status == "ok"
    assert counter.runs == 2


def _race(runners: list[JobRunner], now: datetime) -> list[RunOutcome]:
    """Let each runner look for due jobs at the same instant, each in its own thread."""
    barrier = threading.Barrier(len(runners))
    outcomes: list[RunOutcome] = []
    lock = threading.Lock()

    def run(runner: JobRunner) -> None:
        barrier.wait()
        done = runner.run_due(now=now)
        with lock:
            outcomes.extend(done)

    threads = [threading.Thread(target=run, args=(r,)) for r in runners]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return outcomes


def test_a_run_that_changed_nothing_is_recorded_but_not_audited(engine: Engine) -> None:
    def idle(conn: Connection, *, now: datetime) -> dict[str, int]:
        return {"things": 0}

    runner = JobRunner(engine, registry_of(test_idle=idle), owner="runner-a")
    assert runner.run_due(now=START) == [RunOutcome("test.idle", "ok", {"things": 0})]
    row = _row(engine, "test.idle")
    assert row.last_status == "ok" and row.next_due_at == START + timedelta(minutes=10)
    assert _job_events(engine) == []


def test_racing_runners_run_a_job_once(database: tuple[str, Org]) -> None:
    """Two app instances (two engines on one database) wake up together: one runs the job."""
    url = database[0]
    engines = [make_engine(url), make_engine(url)]
    counter = Counter(delay=0.2)
    runners = [JobRunner(e, registry_of(test_count=counter)) for e in engines]
    try:
        for round_ in range(3):
            outcomes = _race(runners, START + timedelta(minutes=10 * round_))
            statuses = sorted(o.status for o in outcomes)
            assert statuses in (["ok"], ["ok", "skipped"]), statuses
            assert counter.runs == round_ + 1
        assert len(_job_events(engines[0])) == 3
    finally:
        for e in engines:
            e.dispose()


def test_the_lease_is_a_compare_and_set(database: tuple[str, Org], engine: Engine) -> None:
    """Many attempts at the same instant, each on its own connection: exactly one lease."""
    lease.ensure_rows(engine, ["test.count"], now=START)
    engines = [make_engine(database[0]) for _ in range(4)]
    barrier = threading.Barrier(len(engines))
    won: list[bool] = []

    def attempt(i: int) -> None:
        barrier.wait()
        got = lease.take(
            engines[i], name="test.count", owner=f"r{i}", now=START, lease=timedelta(minutes=5)
        )
        won.append(got)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(len(engines))]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    finally:
        for e in engines:
            e.dispose()
    assert sorted(won) == [False, False, False, True]


def test_a_crashed_runners_lease_runs_out_and_is_taken_over(engine: Engine) -> None:
    counter = Counter()
    registry = registry_of(test_count=counter)
    lease.ensure_rows(engine, registry.names, now=START)
    # A runner took the job and died before finishing it.
    assert lease.take(
        engine, name="test.count", owner="crashed", now=START, lease=timedelta(minutes=5)
    )
    survivor = JobRunner(engine, registry, lease_seconds=300, owner="survivor")
    assert survivor.run_due(now=START + timedelta(minutes=4)) == []
    assert survivor.run_one("test.count", now=START + timedelta(minutes=4)).status == "skipped"
    assert counter.runs == 0 and _row(engine, "test.count").lease_owner == "crashed"
    (outcome,) = survivor.run_due(now=START + timedelta(minutes=5))
    assert outcome.status == "ok" and counter.runs == 1
    row = _row(engine, "test.count")
    assert row.lease_owner is None and row.last_status == "ok"


def test_a_failing_job_is_rolled_back_and_recorded(engine: Engine, org: Org) -> None:
    def write_then_fail(conn: Connection, *, now: object) -> None:
        conn.execute(
            insert(notifications).values(
                id="0190f3a4-0000-7000-8000-00000000000f",
                user_id=org.user_ids["zhangsan"],
                kind="grant_expired",
                params={},
                created_at=START,
            )
        )
        raise RuntimeError("boom")

    ok = Counter()
    runner = JobRunner(engine, registry_of(test_fail=write_then_fail, test_ok=ok))
    outcomes = runner.run_due(now=START)
    assert [o.status for o in outcomes] == ["failed", "ok"]  # one failure stops nothing else
    assert outcomes[0].error == "RuntimeError: boom"
    with engine.connect() as conn:
        assert conn.execute(select(notifications)).all() == []  # its work rolled back
    row = _row(engine, "test.fail")
    assert row.last_status == "failed" and row.last_error == "RuntimeError: boom"
    assert row.lease_owner is None and row.next_due_at == START + timedelta(minutes=10)
    failed = [e for e in _job_events(engine) if e.reason == "failed"]
    assert [e.details["error"] for e in failed] == ["RuntimeError: boom"]


def test_work_done_under_a_lost_lease_is_rolled_back(engine: Engine, org: Org) -> None:
    """If another runner took the job over meanwhile, this run's work must not commit."""

    def overtaken(conn: Connection, *, now: object) -> None:
        conn.execute(
            insert(notifications).values(
                id="0190f3a4-0000-7000-8000-00000000000e",
                user_id=org.user_ids["zhangsan"],
                kind="grant_expired",
                params={},
                created_at=START,
            )
        )
        # What a second runner does once our lease has run out.
        conn.execute(
            update(job_runs).where(job_runs.c.name == "test.slow").values(lease_owner="other")
        )

    runner = JobRunner(engine, registry_of(test_slow=overtaken))
    assert [o.status for o in runner.run_due(now=START)] == ["skipped"]
    with engine.connect() as conn:
        assert conn.execute(select(notifications)).all() == []
    assert _job_events(engine) == []


def test_run_one_forces_a_job_and_refuses_unknown_names(engine: Engine) -> None:
    counter = Counter()
    runner = JobRunner(engine, registry_of(test_count=counter))
    runner.run_due(now=START)
    assert runner.run_one("test.count", now=START + timedelta(minutes=1)).status == "ok"
    assert counter.runs == 2
    with pytest.raises(UnknownJob):
        runner.run_one("no.such.job")


def test_jobs_outside_a_transaction_are_leased_and_audited_too(engine: Engine) -> None:
    seen: list[object] = []

    def with_engine(eng: Engine, *, now: object) -> dict[str, int]:
        seen.append(eng)
        return {"sent": 2}

    registry = JobRegistry()
    registry.add(Job("test.outside", timedelta(minutes=1), outside_transaction=with_engine))
    runner = JobRunner(engine, registry)
    assert runner.run_due(now=START) == [RunOutcome("test.outside", "ok", {"sent": 2})]
    assert seen == [engine]
    assert _job_events(engine)[0].details["sent"] == 2


def test_registry_refuses_mistakes() -> None:
    registry = registry_of(test_count=Counter())
    with pytest.raises(ValueError, match="twice"):
        registry.every("test.count", timedelta(minutes=1), Counter())
    with pytest.raises(ValueError, match="exactly one"):
        Job("x", timedelta(minutes=1))
    with pytest.raises(ValueError, match="positive"):
        Job("x", timedelta(0), run=Counter())


def test_background_thread_runs_due_jobs_and_stops(engine: Engine, clock: FakeClock) -> None:
    counter = Counter()
    jobs = BackgroundJobs(JobRunner(engine, registry_of(test_count=counter)), poll_seconds=0.02)
    jobs.start()
    deadline = time.monotonic() + 10
    while counter.runs == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert counter.runs == 1
    clock.advance(minutes=10)
    while counter.runs == 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    jobs.stop()
    jobs.join(timeout=10)
    assert not jobs.is_alive() and counter.runs == 2


def test_the_server_runs_jobs_only_when_asked(
    engine: Engine, vault: Vault, database: tuple[str, Org], tmp_path: Path
) -> None:
    settings = Settings(home=tmp_path, database_url=database[0], job_poll_seconds=0.02)

    def job_threads() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name == "baomi-jobs"]

    quiet = create_app(settings=settings, engine=engine, vault=vault)
    with TestClient(quiet):
        assert job_threads() == []
    app = create_app(settings=settings, engine=engine, vault=vault, run_jobs_in_background=True)
    with TestClient(app):
        (thread,) = job_threads()
        deadline = time.monotonic() + 10
        while _row_or_none(engine, "grants.expire") is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _row_or_none(engine, "grants.expire") is not None
    thread.join(timeout=10)
    assert not thread.is_alive()


def _row_or_none(engine: Engine, name: str) -> object | None:
    with engine.connect() as conn:
        return conn.execute(select(job_runs).where(job_runs.c.name == name)).first()
