"""`baomi audit` end to end on SQLite: proofs that seal by themselves, offline checks, search,
bundles, full verification, and an older copy of the database caught by kept checkpoints."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from baomi import runtime
from baomi.audit.checkpoint import load_or_create_key
from baomi.audit.runner import create_log_key
from baomi.audit.settings import AuditSettings
from baomi.cli.main import app
from baomi.db import make_engine
from baomi.migrate import upgrade
from tests.audit.conftest import add_events, attacker

cli = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Engine]]:
    home = tmp_path / "home"
    home.mkdir()
    db = tmp_path / "baomi.db"
    monkeypatch.setenv("BAOMI_HOME", str(home))
    monkeypatch.setenv("BAOMI_DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.setenv("BAOMI_AUDIT_CHECKPOINT_SECONDS", "0")
    runtime.reset()
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    create_log_key(AuditSettings(home=home))  # as `baomi init` does
    yield home, engine
    engine.dispose()
    runtime.get_engine().dispose()
    runtime.reset()


def run(*args: str) -> tuple[int, str]:
    result = cli.invoke(app, list(args))
    return result.exit_code, result.output


def test_proof_seals_by_itself_and_verifies_offline(
    home: tuple[Path, Engine], tmp_path: Path
) -> None:
    _home, engine = home
    add_events(engine, 12)
    code, out = run("audit", "proof", "--event", "5")
    assert code == 0, out
    doc = json.loads(out)
    assert set(doc) == {"leafIdx", "treeSize", "root", "leafHash", "proof", "checkpoint", "leaf"}
    assert doc["leafIdx"] == 4 and doc["treeSize"] == 12
    proof_file = tmp_path / "proof.json"
    proof_file.write_text(out)
    vkey = (_home / "audit_log.vkey").read_text().strip()
    unsigned = run("audit", "verify-proof", str(proof_file))
    assert unsigned[0] == 0 and "signature not checked" in unsigned[1]
    signed = run("audit", "verify-proof", str(proof_file), "--key", vkey)
    assert signed[0] == 0 and "(checkpoint signature checked)" in signed[1]
    # Issue 19: the .vkey file itself is accepted, as its name suggests.
    by_file = run("audit", "verify-proof", str(proof_file), "--key", str(_home / "audit_log.vkey"))
    assert by_file[0] == 0 and "(checkpoint signature checked)" in by_file[1]
    other = load_or_create_key(tmp_path / "other.key", "baomi.test/other").verifier.vkey
    assert run("audit", "verify-proof", str(proof_file), "--key", other)[0] == 1
    proof_file.write_text(json.dumps({**doc, "leafIdx": 5}))
    assert run("audit", "verify-proof", str(proof_file))[0] == 1
    proof_file.write_text(json.dumps({**doc, "extra": 1}))
    assert run("audit", "verify-proof", str(proof_file))[0] == 2

    add_events(engine, 5)
    assert run("audit", "seal")[0] == 0
    code, out = run("audit", "consistency", "--from", "12", "--to", "17")
    assert code == 0, out
    proof_file.write_text(out)
    assert run("audit", "verify-proof", str(proof_file), "--key", vkey)[0] == 0
    assert run("audit", "consistency", "--from", "0", "--to", "17")[0] == 1


def test_verify_search_bundle_and_tampering(home: tuple[Path, Engine], tmp_path: Path) -> None:
    _home, engine = home
    add_events(engine, 20)
    assert run("audit", "seal")[0] == 0
    code, out = run("audit", "verify")
    assert code == 0 and "audit log verified" in out, out

    code, out = run("audit", "search", "--actor", "user-1", "--limit", "3")
    page = json.loads(out)
    assert code == 0 and len(page["items"]) == 3 and all("id" in i for i in page["items"])
    assert page["next_before_id"] == page["items"][-1]["id"]

    bundle = tmp_path / "bundle.json"
    code, out = run("audit", "export-bundle", "--out", str(bundle), "--event", "2", "--event", "9")
    assert code == 0, out
    assert run("audit", "verify-proof", str(bundle))[0] == 0
    doc = json.loads(bundle.read_text())
    doc["inclusions"][0]["leaf"] = doc["inclusions"][0]["leaf"].replace("handler", "forged")
    bundle.write_text(json.dumps(doc))
    assert run("audit", "verify-proof", str(bundle))[0] == 1

    attacker(engine, "UPDATE audit_events SET reason = 'x' WHERE id = 9")
    code, out = run("audit", "verify")
    assert code == 1 and "event 9" in out, out


def test_restored_older_database_is_detected(home: tuple[Path, Engine], tmp_path: Path) -> None:
    _home, engine = home
    db = Path(engine.url.database or "")
    add_events(engine, 10)
    assert run("audit", "seal")[0] == 0
    engine.dispose()
    runtime.get_engine().dispose()
    backup = tmp_path / "backup.db"
    shutil.copyfile(db, backup)
    add_events(engine, 10)
    assert run("audit", "seal")[0] == 0
    engine.dispose()
    runtime.get_engine().dispose()
    shutil.copyfile(backup, db)  # the administrator restores yesterday's copy
    for suffix in ("-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    code, out = run("audit", "verify")
    assert code == 1 and "older copy" in out, out
    code, out = run("audit", "status")
    # Issue 17.6: status exits non-zero on an older copy, as verify does.
    assert code == 1 and "older copy" in json.loads(out)["startupCheck"]
    add_events(engine, 1)
    code, out = run("audit", "seal")
    assert code == 1 and "restored older copy" in out, out
