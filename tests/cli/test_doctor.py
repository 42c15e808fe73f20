"""`baomi doctor`: read-only checks, ✓ for a sound installation, ✗ and exit 1 otherwise."""

from __future__ import annotations

from pathlib import Path

from alembic import command

from baomi import migrate, runtime
from tests.cli.conftest import Invoke


def test_doctor_passes_after_init(backend_home: Path, cli: Invoke) -> None:
    assert cli("init").exit_code == 0
    result = cli("doctor")
    assert result.exit_code == 0, result.output
    assert "✗" not in result.stdout
    for check in ("home", "database", "master keys", "migrations", "key versions"):
        assert check in result.stdout


def test_doctor_fails_before_init_and_creates_nothing(home: Path, cli: Invoke) -> None:
    result = cli("doctor")
    assert result.exit_code == 1
    assert "✗" in result.stdout
    assert "baomi init" in result.stdout
    assert not home.exists()


def test_doctor_fails_on_a_key_file_others_can_read(initialised: Path, cli: Invoke) -> None:
    """C4.2.2: the master keys are readable by the service account only."""
    (initialised / "master.key").chmod(0o640)
    result = cli("doctor")
    assert result.exit_code == 1
    assert "chmod 600" in result.stdout


def test_doctor_fails_on_a_missing_key_file(initialised: Path, cli: Invoke) -> None:
    (initialised / "master.key").unlink()
    result = cli("doctor")
    assert result.exit_code == 1
    assert "missing" in result.stdout


def test_doctor_fails_on_pending_migrations(initialised: Path, cli: Invoke) -> None:
    command.stamp(migrate.alembic_config(runtime.get_engine()), "base")
    result = cli("doctor")
    assert result.exit_code == 1
    assert "needs" in result.stdout
