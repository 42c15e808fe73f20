"""Issue 17.6 with restores and the demo: a witness never goes back silently (C1.3).

A restore accepted by the security officer (audited in the log) is half of it: the witness keeps
its high-water mark until its own operator accepts the restore too, and verification then names
the gap on both sides instead of passing as if nothing happened. A witness taken back without
the log's acceptance fails verification. The demo runs a local witness beside its home.
"""

from __future__ import annotations

import json
import shutil
import socket
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from fastapi.testclient import TestClient

from baomi import runtime
from baomi.audit import runner, store
from baomi.audit.settings import AuditSettings
from baomi.audit.witness import Witness
from baomi.cli import server
from baomi.demo import seed
from tests.cli import conftest as cli_fixtures
from tests.cli.conftest import Invoke
from tests.support.org import PASSWORD, build_org, recovery_codes

# The CLI's fixtures: a private BAOMI_HOME and `baomi …` in-process.
home, cli = cli_fixtures.home, cli_fixtures.cli
OFFICER = ("--as", "baomiyuan", "--password-stdin")


def _officer_secrets() -> str:
    return f"{PASSWORD}\n{recovery_codes('baomiyuan')[0]}\n"


def _size() -> int:
    with runtime.get_engine().connect() as conn:
        return store.tree_size(conn)


def _close() -> None:
    """Close every connection to the SQLite file, as a stopped server has."""
    runner.reader(runtime.get_engine()).dispose()
    runtime.get_engine().dispose()


def _copy(source: Path, target: Path) -> None:
    """SQLite's online backup: how docs/backup.md says to copy a live database."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def _refused(result: Result, *words: str) -> None:
    assert result.exit_code == 1, result.output
    for word in words:
        assert word in result.output, result.output


def _startup_check(cli: Invoke) -> tuple[int, str]:
    result = cli("audit", "status")
    return result.exit_code, str(json.loads(result.stdout)["startupCheck"])


def _witness_state(home: Path, witness_dir: Path) -> dict[str, Any]:
    origin = runner.log_verifier(AuditSettings(home=home)).name
    state = Witness.existing(witness_dir, []).state(origin)
    assert state is not None
    return state


@pytest.fixture
def witness_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "witness"
    monkeypatch.setenv("BAOMI_AUDIT_WITNESS_DIR", str(path))
    return path


@pytest.fixture
def restored(
    home: Path, cli: Invoke, witness_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[int, int, Path]:
    """A witnessed log sealed, backed up, sealed further, then the backup restored over it;
    returns the size restored to, the size given up and the export directory."""
    monkeypatch.setattr(server, "_run_uvicorn", lambda app, host, port: None)
    assert cli("init").exit_code == 0
    build_org(runtime.get_engine(), runtime.get_key_provider())
    assert cli("audit", "seal").exit_code == 0
    backup = tmp_path / "backup.db"
    _copy(home / "baomi.db", backup)
    backed_up = _size()
    assert cli("audit", "verify").exit_code == 0
    newest = _size()
    assert _witness_state(home, witness_dir)["size"] == newest
    runtime.get_engine().dispose()
    _copy(backup, home / "baomi.db")  # the backup API writes into the live file
    runtime.reset()
    return backed_up, newest, AuditSettings(home=home).resolved_export_dir


def test_a_restore_goes_back_only_when_both_sides_accept_it_and_verify_says_so(
    home: Path, cli: Invoke, witness_dir: Path, restored: tuple[int, int, Path]
) -> None:
    backed_up, newest, export_dir = restored
    code, problem = _startup_check(cli)
    assert code == 1 and "older copy" in problem

    accepted = cli("audit", "accept-restore", "--yes", *OFFICER, input=_officer_secrets())
    assert accepted.exit_code == 0, accepted.output
    kept = export_dir / f"checkpoint.{backed_up:020d}"
    assert f"baomi witness accept-restore --dir {witness_dir} --checkpoint {kept}" in (
        accepted.stdout
    )
    # The officer's word alone does not take the witness back: everything still refuses.
    code, problem = _startup_check(cli)
    assert code == 1 and f"still holds checkpoint {newest}" in problem
    _refused(cli("audit", "verify"), "was accepted here", "baomi witness accept-restore")
    _refused(cli("serve"), f"still holds checkpoint {newest}")
    assert _witness_state(home, witness_dir)["size"] == newest

    # The witness's operator: never forward, only back, and only to a checkpoint of the log.
    ahead = cli("witness", "accept-restore", "--dir", str(witness_dir), "--checkpoint",
                str(export_dir / "superseded-x"), "--yes")  # fmt: skip
    assert ahead.exit_code == 1
    went_back = cli(
        "witness", "accept-restore", "--dir", str(witness_dir), "--checkpoint", str(kept), "--yes"
    )
    assert went_back.exit_code == 0, went_back.output
    assert f"keeps {newest} as its high-water mark" in went_back.stdout
    again = cli(
        "witness", "accept-restore", "--dir", str(witness_dir), "--checkpoint", str(kept), "--yes"
    )
    _refused(again, "a restore goes back to a smaller one")

    assert cli("audit", "seal").exit_code == 0
    verified = cli("audit", "verify")
    assert verified.exit_code == 0, verified.output
    assert (
        f"accepted restore: the log went back from checkpoint {newest} to {backed_up} "
        f"({newest - backed_up} sealed events lost), accepted by baomiyuan"
    ) in verified.stdout
    assert f"the witness, which had co-signed {newest}, went back" in verified.stdout
    assert _startup_check(cli) == (0, "ok")
    state = _witness_state(home, witness_dir)
    assert state["size"] > backed_up and state["high_water"] == max(newest, state["size"])
    [record] = state["restores"]
    assert (record["superseded_size"], record["restored_size"]) == (newest, backed_up)


def test_a_witness_taken_back_without_the_logs_acceptance_fails(
    home: Path, cli: Invoke, witness_dir: Path, restored: tuple[int, int, Path]
) -> None:
    backed_up, newest, export_dir = restored
    kept = export_dir / f"checkpoint.{backed_up:020d}"
    went_back = cli(
        "witness", "accept-restore", "--dir", str(witness_dir), "--checkpoint", str(kept), "--yes"
    )
    assert went_back.exit_code == 0, went_back.output
    for path in export_dir.iterdir():  # and the newer checkpoint files are hidden as well
        if path.is_file() and int(path.name.split(".")[1]) > backed_up:
            path.unlink()
    _refused(
        cli("audit", "verify"),
        f"the witness went back from {newest} to {backed_up}",
        f"records no accepted restore to {backed_up}",
    )
    code, problem = _startup_check(cli)
    assert code == 1 and "records no accepted restore" in problem


def test_a_whole_home_put_back_is_a_restore_only_the_witness_remembers(
    home: Path,
    cli: Invoke,
    witness_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(server, "_run_uvicorn", lambda app, host, port: None)
    assert cli("init").exit_code == 0
    build_org(runtime.get_engine(), runtime.get_key_provider())
    assert cli("audit", "seal").exit_code == 0
    backed_up = _size()
    _close()
    shutil.copytree(home, tmp_path / "older-home")  # database, keys, kept checkpoints
    assert cli("audit", "verify").exit_code == 0
    newest = _size()
    _close()
    shutil.rmtree(home)
    shutil.copytree(tmp_path / "older-home", home)
    runtime.reset()

    accepted = cli("audit", "accept-restore", "--yes", *OFFICER, input=_officer_secrets())
    assert accepted.exit_code == 0, accepted.output
    assert "(0 kept checkpoint file(s) beyond it)" in accepted.stdout
    assert f"co-signed up to {newest}" in accepted.stdout
    kept = AuditSettings(home=home).resolved_export_dir / f"checkpoint.{backed_up:020d}"
    assert _startup_check(cli)[0] == 1
    went_back = cli(
        "witness", "accept-restore", "--dir", str(witness_dir), "--checkpoint", str(kept), "--yes"
    )
    assert went_back.exit_code == 0, went_back.output
    assert cli("audit", "seal").exit_code == 0
    verified = cli("audit", "verify")
    assert verified.exit_code == 0, verified.output
    assert f"went back from checkpoint {newest} to {backed_up}" in verified.stdout
    assert "with 1 accepted restore(s)" in verified.stdout


def test_the_demo_runs_a_local_witness_beside_its_home(
    home: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(seed, "DEMO_CUSTOMERS", 3)
    started: dict[str, Any] = {}
    monkeypatch.setattr(server, "_run_uvicorn", lambda app, host, port: started.update(app=app))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    result = cli("demo", "--port", port)
    assert result.exit_code == 0, result.output
    witness_dir = home.parent / "home-witness"
    assert f"✓ witness: local witness in {witness_dir} (created)" in result.stdout
    with TestClient(started["app"]):
        pass  # the server's start and graceful stop seal what the seed wrote

    size = _size()
    assert size > 0 and _witness_state(home, witness_dir)["size"] == size
    export_dir = AuditSettings(home=home).resolved_export_dir
    assert (export_dir / f"witnessed.{size:020d}").is_file()
    status = cli("audit", "status")  # another command on the demo's home finds its witness
    doc = json.loads(status.stdout)
    assert status.exit_code == 0, status.output
    assert doc["witness"] == str(witness_dir) and doc["witnessedSize"] == size
    assert doc["startupCheck"] == "ok"

    again = cli("demo", "--port", port)
    assert again.exit_code == 0, again.output
    assert f"✓ witness: local witness in {witness_dir} co-signs" in again.stdout
