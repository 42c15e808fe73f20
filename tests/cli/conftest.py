"""CLI fixtures: a private BAOMI_HOME per test, on SQLite or a fresh PostgreSQL database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import text
from typer.testing import CliRunner

from baomi import runtime
from baomi.cli import output
from baomi.cli.main import app
from baomi.db import make_engine

PG_ADMIN_URL = os.environ.get("BAOMI_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")

Invoke = Callable[..., Result]


def _forget_runtime() -> None:
    if runtime.get_engine.cache_info().currsize:
        runtime.get_engine().dispose()
    runtime.reset()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """BAOMI_HOME in tmp_path (not created yet), every other BAOMI_* setting unset."""
    for name in list(os.environ):
        if name.startswith("BAOMI_") and name != "BAOMI_TEST_PG":
            monkeypatch.delenv(name)
    path = tmp_path / "home"
    monkeypatch.setenv("BAOMI_HOME", str(path))
    # Rich tables one row per line: the consoles are built at import, before COLUMNS could be set.
    monkeypatch.setattr(output.console, "width", 200)
    _forget_runtime()
    yield path
    _forget_runtime()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend_home(
    request: pytest.FixtureRequest, home: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """The home, with its database either in it (SQLite) or on the local PostgreSQL."""
    if request.param == "sqlite":
        yield home
        return
    name = f"baomi_cli_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    monkeypatch.setenv("BAOMI_DATABASE_URL", PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name)
    runtime.reset()
    yield home
    _forget_runtime()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def cli() -> Invoke:
    """Run `baomi …` in-process; the result has exit_code, stdout and stderr."""
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(app, list(args), input=input)

    return invoke


@pytest.fixture
def initialised(home: Path, cli: Invoke) -> Path:
    result = cli("init")
    assert result.exit_code == 0, result.output
    return home
