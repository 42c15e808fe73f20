"""Issue 17.6: a rollback of the audit log is caught once a witness holds what it co-signed.

The attacks of the issue, on real databases and through the real commands: the log cut back
(11,555 to 3,564 events in the issue; smaller here) with the later checkpoint files deleted, and
the whole BAOMI_HOME put back from an older copy. With a witness outside the database and the
home, `audit verify`, `audit status` and `serve` all refuse; without one, `doctor` and `verify`
say that nothing would catch it (C1.3).
"""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from click.testing import Result
from sqlalchemy import Engine

from baomi import runtime
from baomi.audit import runner, sealing, store
from baomi.audit.settings import AuditSettings
from baomi.audit.witness import Witness
from baomi.cli import server
from baomi.cli.witness import create_witness_app
from tests.audit.conftest import add_events, attacker
from tests.cli import conftest as cli_fixtures
from tests.cli.conftest import Invoke

# The CLI's fixtures: a private BAOMI_HOME (SQLite, or PostgreSQL too) and `baomi …` in-process.
home, backend_home, cli = cli_fixtures.home, cli_fixtures.backend_home, cli_fixtures.cli

pytestmark = pytest.mark.usefixtures("no_server")


@pytest.fixture
def no_server(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(app: Any, host: str, port: int) -> None:
        raise AssertionError("the server must not start")

    monkeypatch.setattr(server, "_run_uvicorn", refuse)


@pytest.fixture
def witness_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A local witness outside BAOMI_HOME (made by `baomi init`, as BAOMI_AUDIT_WITNESS_DIR)."""
    path = tmp_path / "witness"
    monkeypatch.setenv("BAOMI_AUDIT_WITNESS_DIR", str(path))
    runtime.reset()
    return path


def _size(engine: Engine) -> int:
    with engine.connect() as conn:
        return store.tree_size(conn)


def _grow(cli: Invoke, engine: Engine, n: int) -> int:
    add_events(engine, n)
    sealed = cli("audit", "seal")
    assert sealed.exit_code == 0, sealed.output
    return _size(engine)


def _cut(engine: Engine, export_dir: Path, size: int) -> None:
    """What a database administrator does to hide events: cut the log back to `size` and
    delete everything that remembered more, in the database and in BAOMI_HOME."""
    with engine.connect() as conn:
        last_event = store.last_sealed_event_id(conn, size)
    attacker(
        engine,
        f"DELETE FROM audit_checkpoints WHERE tree_size > {size}",
        f"DELETE FROM audit_leaves WHERE leaf_index >= {size}",
        f"DELETE FROM audit_tree_nodes WHERE (node_index + 1) * (1 << level) > {size}",
        f"DELETE FROM audit_witness_receipts WHERE tree_size > {size}",
        f"DELETE FROM audit_events WHERE id > {last_event}",
    )
    for path in export_dir.iterdir():
        if path.is_file() and int(path.name.split(".")[1]) > size:
            path.unlink()


def _refused(result: Result, *words: str) -> None:
    assert result.exit_code == 1, result.output
    for word in words:
        assert word in result.output, result.output


def _status(cli: Invoke) -> tuple[int, dict[str, Any]]:
    result = cli("audit", "status")
    return result.exit_code, json.loads(result.stdout)


def test_a_log_cut_back_behind_its_witness_is_caught(
    backend_home: Path, cli: Invoke, witness_dir: Path
) -> None:
    made = cli("init")
    assert made.exit_code == 0, made.output
    assert f"local witness in {witness_dir} (created)" in made.stdout
    engine = runtime.get_engine()
    kept_back = _grow(cli, engine, 20)
    witnessed = _grow(cli, engine, 30)
    state = Witness.existing(witness_dir, []).state(
        runner.log_verifier(_settings(backend_home)).name
    )
    assert state is not None and state["size"] == witnessed

    _cut(engine, _settings(backend_home).resolved_export_dir, kept_back)
    verified = cli("audit", "verify")
    _refused(verified, f"witness checkpoint {witnessed}", "older copy")
    assert f"witness: local witness in {witness_dir}" in verified.stdout
    code, doc = _status(cli)
    assert code == 1 and f"witness checkpoint covers {witnessed}" in doc["startupCheck"]
    _refused(cli("serve"), "does not match its kept checkpoints")
    _refused(cli("audit", "seal"), "restored older copy")

    # Going further: new events past the witnessed size, signed with the key in BAOMI_HOME.
    # The tree then does not extend the witnessed one, which the witness refuses to co-sign.
    add_events(engine, witnessed)
    with engine.begin() as conn:
        forged = sealing.seal(conn, runner.log_signer(_settings(backend_home)))
    assert forged is not None and forged.size > witnessed
    _refused(cli("audit", "verify"), f"do not hash to witness checkpoint {witnessed}")
    code, doc = _status(cli)
    assert code == 1 and f"disagrees with the witness checkpoint {witnessed}" in doc["startupCheck"]


def _settings(home: Path) -> AuditSettings:
    return AuditSettings(home=home)


def _close(engine: Engine) -> None:
    """Close every connection to the SQLite file, as a stopped server has."""
    runner.reader(engine).dispose()
    engine.dispose()


def test_a_home_put_back_from_an_older_copy_is_caught(
    home: Path, cli: Invoke, witness_dir: Path, tmp_path: Path
) -> None:
    assert cli("init").exit_code == 0
    engine = runtime.get_engine()
    _grow(cli, engine, 15)
    _close(engine)
    older = tmp_path / "older-home"
    shutil.copytree(home, older)  # the database, its key, the kept checkpoints: all of it
    witnessed = _grow(cli, engine, 25)
    _close(engine)
    shutil.rmtree(home)
    shutil.copytree(older, home)
    runtime.reset()

    _refused(cli("audit", "verify"), f"witness checkpoint {witnessed}", "older copy")
    code, doc = _status(cli)
    assert code == 1 and "older copy" in doc["startupCheck"]
    assert doc["witness"] == str(witness_dir)
    _refused(cli("serve"), "does not match its kept checkpoints")


def test_without_a_witness_doctor_warns_and_verify_says_so(backend_home: Path, cli: Invoke) -> None:
    assert cli("init").exit_code == 0
    assert "! no witness covers this log" in cli("init").stdout
    doctor = cli("doctor")
    assert doctor.exit_code == 0, doctor.output  # a warning, not a failure
    [row] = [line for line in doctor.stdout.splitlines() if "│ witness" in line]
    assert "!" in row and "✓" not in row and "no witness covers this log" in doctor.stdout
    verified = cli("audit", "verify")
    assert verified.exit_code == 0, verified.output
    assert "no witness covers this log" in verified.stdout


def test_a_witnessed_log_whose_witness_is_taken_away_fails(
    backend_home: Path, cli: Invoke, witness_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("init").exit_code == 0
    witnessed = _grow(cli, runtime.get_engine(), 5)
    monkeypatch.delenv("BAOMI_AUDIT_WITNESS_DIR")
    runtime.reset()
    _refused(cli("audit", "verify"), f"co-signed this log up to {witnessed}", "no witness")
    code, doc = _status(cli)
    assert code == 1 and "no witness is configured now" in doc["startupCheck"]
    doctor = cli("doctor")
    assert doctor.exit_code == 1 and "none is configured now" in doctor.stdout
    # And no new witness is made in its place (it would accept an older copy of the log).
    monkeypatch.setenv("BAOMI_AUDIT_WITNESS_DIR", str(witness_dir.with_name("another")))
    _refused(cli("init"), "restore the witness's directory")


def test_a_witness_inside_the_home_is_refused(
    home: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BAOMI_AUDIT_WITNESS_DIR", str(home / "witness"))
    _refused(cli("init"), "inside BAOMI_HOME")


@pytest.fixture
def served_witness(home: Path, cli: Invoke, tmp_path: Path) -> Iterator[Callable[[], None]]:
    """`baomi witness serve` on another port, following this home's log (made by init); the
    fixture's value stops it."""
    assert cli("init").exit_code == 0
    log_key = runner.log_verifier(_settings(home))
    witness = Witness(tmp_path / "served-witness", [log_key], "witness.test/served")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(create_witness_app(witness), port=port, log_level="error")
    served = uvicorn.Server(config)
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    while not served.started:
        time.sleep(0.01)

    def stop() -> None:
        served.should_exit = True
        thread.join(5)

    with pytest.MonkeyPatch.context() as env:
        env.setenv("BAOMI_AUDIT_WITNESS_URL", f"http://127.0.0.1:{port}")
        env.setenv("BAOMI_AUDIT_WITNESS_KEY", witness.signer.verifier.vkey)
        runtime.reset()
        yield stop
        stop()
        runtime.reset()


def test_a_served_witness_catches_the_cut_and_its_absence_is_not_a_pass(
    home: Path, cli: Invoke, served_witness: Callable[[], None]
) -> None:
    engine = runtime.get_engine()
    kept_back = _grow(cli, engine, 10)
    witnessed = _grow(cli, engine, 10)
    doctor = cli("doctor")
    assert doctor.exit_code == 0 and f"co-signed up to {witnessed}" in doctor.stdout
    _cut(engine, _settings(home).resolved_export_dir, kept_back)
    _refused(cli("audit", "verify"), f"witness checkpoint {witnessed}")
    assert _status(cli)[0] == 1

    served_witness()  # the witness is down (or was stopped by whoever cut the log)
    unreachable = cli("audit", "verify")
    assert unreachable.exit_code == 4, unreachable.output
    assert "cannot reach the witness" in unreachable.output
    assert "rollback cannot be ruled out" in unreachable.output
    code, doc = _status(cli)
    assert code == 1 and "cannot reach the witness" in doc["startupCheck"]
