"""`baomi doctor`: read-only checks, ✓ for a sound installation, ✗ and exit 1 otherwise."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from baomi import migrate, runtime
from baomi.audit import export
from baomi.audit.checkpoint import create_key, load_key, sign_checkpoint
from baomi.crypto.keys import LocalKeyFileProvider
from baomi.db import make_engine
from baomi.keystore.service import create_data_key
from baomi.uow import unit_of_work
from tests.cli.conftest import PG_ADMIN_URL, Invoke
from tests.support.read_only import read_only

AUDIT_KEY_ADVICE = (
    "`baomi init` creates it on a new installation; restore it from the key backup otherwise"
)
CHECKS = (
    "home",
    "database",
    "database writes",
    "master keys",
    "migrations",
    "key versions",
    "key checks",
    "audit key",
    "audit checkpoints",
)


def _row(stdout: str, check: str) -> str:
    """One check's row (mark, name, detail), its wrapped lines joined: cells split on │."""
    row: list[list[str]] = []
    for line in stdout.splitlines():
        cells = [cell.strip() for cell in line.split("│")[1:-1]]
        if len(cells) != 3:
            if row:
                break
            continue
        if not row and cells[1] == check:
            row = [cells]
        elif row and not cells[0] and not cells[1]:
            row.append(cells)
        elif row:
            break
    assert row, f"no row for {check!r} in:\n{stdout}"
    return f"{row[0][0]} {check} " + " ".join(cells[2] for cells in row)


def _failed(result: object, check: str) -> str:
    stdout: str = result.stdout  # type: ignore[attr-defined]
    assert result.exit_code == 1, stdout  # type: ignore[attr-defined]
    row = _row(stdout, check)
    assert "✗" in row, row
    return row


def test_doctor_passes_after_init(backend_home: Path, cli: Invoke) -> None:
    # `baomi init` creates the audit log's key (audit_log.key and .vkey) with the rest.
    assert cli("init").exit_code == 0
    result = cli("doctor")
    assert result.exit_code == 0, result.output
    assert "✗" not in result.stdout
    for check in CHECKS:
        assert "✓" in _row(result.stdout, check)


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


def test_doctor_fails_on_a_read_only_database(backend_home: Path, cli: Invoke) -> None:
    """Issue 18: an immutable database passed every check, then failed every request.

    SQLite: the file is made read-only for whoever runs the suite (immutable as root, `chattr
    +i`, since root writes through mode 0444: tests/support/read_only.py). PostgreSQL: the
    database makes every new session read-only, as a standby does.
    """
    assert cli("init").exit_code == 0
    runtime.get_engine().dispose()  # what init left open was opened read-write
    url = os.environ.get("BAOMI_DATABASE_URL")
    if url is None:
        with read_only(backend_home / "baomi.db"):
            result = cli("doctor")
    else:
        admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            name = url.rsplit("/", 1)[1]
            conn.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))
        admin.dispose()
        result = cli("doctor")
    row = _failed(result, "database writes")
    assert "read-only" in row
    assert "✓" in _row(result.stdout, "database")  # it reads: only a write shows it


def test_doctor_fails_on_a_home_that_takes_no_new_files(initialised: Path, cli: Invoke) -> None:
    """SQLite opens the database only if it can make baomi.db-wal and -shm beside it."""
    runtime.get_engine().dispose()  # the last connection closing removes -wal and -shm
    assert not (initialised / "baomi.db-wal").exists()
    with read_only(initialised):
        row = _failed(cli("doctor"), "database")
    assert "takes no new files" in row


def test_doctor_writes_nothing_to_check_writes(initialised: Path, cli: Invoke) -> None:
    with runtime.get_engine().connect() as conn:
        before = conn.execute(text("SELECT name FROM sqlite_master ORDER BY name")).all()
    assert cli("doctor").exit_code == 0
    with runtime.get_engine().connect() as conn:
        assert conn.execute(text("SELECT name FROM sqlite_master ORDER BY name")).all() == before


@pytest.mark.parametrize("missing", ["audit_log.key", "audit_log.vkey"])
def test_doctor_fails_without_the_audit_key(initialised: Path, cli: Invoke, missing: str) -> None:
    """C1.3: without its key the log cannot be sealed, and `baomi serve` will not start."""
    (initialised / missing).unlink()
    row = _failed(cli("doctor"), "audit key")
    assert "missing" in row
    assert AUDIT_KEY_ADVICE in row


def test_doctor_fails_on_an_audit_key_others_can_read(initialised: Path, cli: Invoke) -> None:
    (initialised / "audit_log.key").chmod(0o640)
    assert "chmod 600" in _failed(cli("doctor"), "audit key")


def test_doctor_fails_on_a_vkey_of_another_key(initialised: Path, cli: Invoke) -> None:
    other = create_key(initialised / "other" / "other.key")
    (initialised / "audit_log.vkey").write_text(other.verifier.vkey + "\n")
    assert "is not the public key" in _failed(cli("doctor"), "audit key")


def _export_dir(home: Path) -> Path:
    return home / "audit" / "checkpoints"


def test_doctor_checks_the_newest_kept_checkpoint(initialised: Path, cli: Invoke) -> None:
    signer = load_key(initialised / "audit_log.key")
    export.write_checkpoint(_export_dir(initialised), 3, sign_checkpoint(signer, 3, bytes(32)))
    export.write_checkpoint(_export_dir(initialised), 7, sign_checkpoint(signer, 7, bytes(32)))
    result = cli("doctor")
    assert result.exit_code == 0, result.stdout
    assert "checkpoint 7" in _row(result.stdout, "audit checkpoints")


@pytest.mark.parametrize(
    "content",
    [
        "",  # what a crash between creating and writing the file used to leave
        "baomi.audit/x\n7\nAAAA\n",  # a body without its signature
    ],
)
def test_doctor_fails_on_a_broken_kept_checkpoint(
    initialised: Path, cli: Invoke, content: str
) -> None:
    """`baomi serve` refuses to start on such a file (C1.3); doctor must say so first."""
    signer = load_key(initialised / "audit_log.key")
    export.write_checkpoint(_export_dir(initialised), 3, sign_checkpoint(signer, 3, bytes(32)))
    broken = _export_dir(initialised) / f"checkpoint.{7:020d}"
    broken.write_text(content)
    row = _failed(cli("doctor"), "audit checkpoints")
    assert str(broken) in row
    assert "baomi serve" in row


def test_doctor_fails_on_a_checkpoint_signed_by_another_key(initialised: Path, cli: Invoke) -> None:
    other = create_key(initialised / "other" / "other.key")
    export.write_witnessed(_export_dir(initialised), 5, sign_checkpoint(other, 5, bytes(32)), "")
    row = _failed(cli("doctor"), "audit checkpoints")
    assert f"witnessed.{5:020d}" in row


def test_doctor_fails_when_checkpoints_cannot_be_kept(initialised: Path, cli: Invoke) -> None:
    directory = _export_dir(initialised)
    directory.mkdir(parents=True)
    with read_only(directory):
        row = _failed(cli("doctor"), "audit checkpoints")
    assert "cannot be written" in row


def test_doctor_creates_no_export_directory(initialised: Path, cli: Invoke) -> None:
    result = cli("doctor")
    assert result.exit_code == 0, result.stdout
    assert "none kept yet" in _row(result.stdout, "audit checkpoints")
    assert not (initialised / "audit").exists()


def test_doctor_opens_a_data_key_per_version_and_catches_foreign_key_material(
    initialised: Path, cli: Invoke, tmp_path: Path
) -> None:
    """Issue 19: key material that loads but never wrapped these data keys is found here."""
    with unit_of_work(runtime.get_engine()) as conn:
        create_data_key(conn, runtime.get_key_provider(), owner_id="doctor-probe")
    sound = cli("doctor")
    assert sound.exit_code == 0, sound.output
    assert "one per version opens: versions [1]" in sound.stdout
    foreign = LocalKeyFileProvider.create(tmp_path / "other.key")  # another installation's
    assert foreign.versions() == [1]
    (initialised / "master.key").write_bytes((tmp_path / "other.key").read_bytes())
    runtime.reset()
    wrong = cli("doctor")
    assert wrong.exit_code == 1
    assert "data keys" in wrong.stdout and "version 1" in wrong.stdout
