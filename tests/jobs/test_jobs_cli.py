"""`baomi jobs run --once` (for cron), `baomi jobs run --job NAME`, `baomi jobs list`."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from baomi import runtime
from baomi.audit.models import audit_events
from baomi.customers.vault import Vault
from baomi.jobs.catalog import default_registry
from baomi.jobs.models import job_runs
from tests.jobs.conftest import FakeClock, Invoke

JOBS = [
    "grants.remind",
    "grants.expire",
    "mail.send",
    "levels.lapse",
    "subject_requests.remind",
    "auth.purge_throttles",
]


def test_run_once_runs_what_is_due_then_nothing(
    cli_home: Path, cli: Invoke, clock: FakeClock
) -> None:
    assert (
        default_registry(
            runtime.get_settings(), Vault.from_provider(runtime.get_key_provider())
        ).names
        == JOBS
    )
    first = cli("jobs", "run", "--once")
    assert first.exit_code == 0, first.output
    for name in JOBS:
        assert f"✓ {name}" in first.stdout
    assert "grants.expire: grants 0, notifications 0" in first.stdout
    again = cli("jobs", "run", "--once")
    assert again.exit_code == 0 and "No job was due." in again.stdout
    clock.advance(minutes=5)
    later = cli("jobs", "run", "--once")
    # Five minutes on: the 5-minute and 1-minute jobs again, not the 10-minute or hourly ones.
    assert "✓ grants.expire" in later.stdout and "✓ mail.send" in later.stdout
    assert "grants.remind" not in later.stdout and "auth.purge" not in later.stdout
    with runtime.get_engine().connect() as conn:
        rows = {r.name: r for r in conn.execute(select(job_runs))}
        runs = conn.execute(
            select(audit_events.c.actor_username).where(audit_events.c.action == "job:run")
        ).scalars()
        # Every run found nothing to do, so none left an audit event (job_runs records them).
        assert list(runs) == []
    assert set(rows) == set(JOBS)
    assert all(r.last_status == "ok" and r.lease_owner is None for r in rows.values())


def test_run_one_job_and_list(cli_home: Path, cli: Invoke, clock: FakeClock) -> None:
    never = cli("jobs", "list")
    assert never.exit_code == 0, never.output
    assert never.stdout.count("never run") == len(JOBS)
    forced = cli("jobs", "run", "--job", "mail.send")
    assert forced.exit_code == 0 and "✓ mail.send: sent 0, retrying 0, given_up 0" in forced.stdout
    listed = cli("jobs", "list")
    mail = next(line for line in listed.stdout.splitlines() if "mail.send" in line)
    assert "ok" in mail and "2026-03-02 09:00:00 UTC" in mail and "2026-03-02 09:01:00 UTC" in mail
    unknown = cli("jobs", "run", "--job", "no.such")
    assert unknown.exit_code == 1
    assert "no job named 'no.such'" in unknown.stderr and "grants.remind" in unknown.stderr


def test_jobs_refuse_an_uninitialised_database(
    tmp_path: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BAOMI_HOME", str(tmp_path / "empty"))
    monkeypatch.delenv("BAOMI_DATABASE_URL", raising=False)
    (tmp_path / "empty").mkdir()
    runtime.reset()
    try:
        result = cli("jobs", "run", "--once")
        assert result.exit_code == 1 and "run `baomi init` first" in result.stderr
        assert list((tmp_path / "empty").iterdir()) == []  # no empty database left behind
    finally:
        runtime.reset()
