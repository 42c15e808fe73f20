"""Scheduler fixtures: a clock moved by hand, jobs that count their runs, a private BAOMI_HOME."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import text
from sqlalchemy.engine import Connection
from typer.testing import CliRunner

from baomi import runtime
from baomi.cli import output
from baomi.cli.main import app
from baomi.db import make_engine
from baomi.jobs.registry import JobRegistry
from tests.support.clock import FakeClock, move_clock

START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)
PG_ADMIN_URL = os.environ.get("BAOMI_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """Move the scheduler's notion of now by hand (baomi.clock.utcnow)."""
    return move_clock(monkeypatch, START)


@dataclass
class Counter:
    """A job that counts its runs; it can be made slow (to race) or to fail."""

    runs: int = 0
    delay: float = 0.0
    fail: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, conn: Connection, *, now: datetime) -> dict[str, int]:
        with self.lock:
            self.runs += 1
        time.sleep(self.delay)
        if self.fail:
            raise RuntimeError("boom")
        return {"things": 3}


def registry_of(**jobs: Callable[..., object]) -> JobRegistry:
    """A registry of transactional jobs named job_name → function, each every 10 minutes."""
    registry = JobRegistry()
    for name, function in jobs.items():
        registry.every(name.replace("_", "."), timedelta(minutes=10), function)
    return registry


Invoke = Callable[..., Result]


def _forget_runtime() -> None:
    if runtime.get_engine.cache_info().currsize:
        runtime.get_engine().dispose()
    runtime.reset()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def cli_home(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """An initialised BAOMI_HOME, its database in it (SQLite) or on the local PostgreSQL."""
    for name in list(os.environ):
        if name.startswith("BAOMI_") and name != "BAOMI_TEST_PG":
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    monkeypatch.setenv("BAOMI_HOME", str(home))
    monkeypatch.setattr(output.console, "width", 200)
    admin, name = None, None
    if request.param == "postgresql":
        name = f"baomi_jobs_{uuid.uuid4().hex[:12]}"
        admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        monkeypatch.setenv("BAOMI_DATABASE_URL", PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name)
    _forget_runtime()
    result = CliRunner().invoke(app, ["init"])
    assert result.exit_code == 0, result.output
    yield home
    _forget_runtime()
    if admin is not None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def cli() -> Invoke:
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(app, list(args), input=input)

    return invoke
