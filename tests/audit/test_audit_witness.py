"""The witness co-signs only consistent checkpoints (409 on size conflict, 422 on a bad proof),
keeps its state across restarts, and catches a log database restored to an older copy (C1.3)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from baomi.audit import merkle, store
from baomi.audit.checkpoint import (
    Ed25519Signer,
    Verifier,
    check_cosignature,
    load_or_create_key,
    open_checkpoint,
)
from baomi.audit.publish import WitnessRefused
from baomi.audit.runner import external_checkpoints, seal_now
from baomi.audit.settings import AuditSettings
from baomi.audit.verify import verify
from baomi.audit.witness import Witness, format_request
from baomi.audit.witness_client import HttpWitness
from baomi.cli.witness import create_witness_app
from tests.audit.conftest import add_events, attacker


def _checkpoints(engine: Engine, signer: Ed25519Signer) -> list[str]:
    out = []
    for n in (4, 3, 9):
        add_events(engine, n)
        with engine.begin() as conn:
            from baomi.audit.sealing import seal

            out.append(seal(conn, signer).note)  # type: ignore[union-attr]
    return out


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    from baomi.audit import guards
    from baomi.db import make_engine, metadata
    from tests.audit.conftest import TABLES

    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    metadata.create_all(engine, tables=TABLES)
    with engine.begin() as conn:
        guards.install_triggers(conn)
    yield engine
    engine.dispose()


def test_witness_protocol(sqlite_engine: Engine, signer: Ed25519Signer, tmp_path: Path) -> None:
    notes = _checkpoints(sqlite_engine, signer)
    witness = Witness(tmp_path / "w", [signer.verifier], "witness.test/w1")
    client = TestClient(create_witness_app(witness))
    post = lambda body: client.post("/add-checkpoint", content=body)  # noqa: E731
    r = post(format_request(0, [], notes[0]))
    assert r.status_code == 200
    check_cosignature(r.text, open_checkpoint(notes[0], signer.verifier), witness.signer.verifier)
    # Wrong old size: 409 with the witness's size.
    r = post(format_request(0, [], notes[1]))
    assert (r.status_code, r.text) == (409, "4\n")
    # Bad consistency proof: 422.
    with sqlite_engine.connect() as conn:
        good = merkle.consistency_proof(store.DbNodes(conn), 4, 7)
    r = post(format_request(4, [bytes(32)] * len(good), notes[1]))
    assert r.status_code == 422
    assert post(format_request(4, good, notes[1])).status_code == 200
    # Unknown log and forged signature.
    other = load_or_create_key(tmp_path / "other.key", "baomi.test/other")
    from baomi.audit.checkpoint import sign_checkpoint

    assert post(format_request(7, [], sign_checkpoint(other, 7, bytes(32)))).status_code == 404
    forged = notes[2].replace("\n16\n", "\n17\n")
    assert post(format_request(7, [], forged)).status_code == 403
    assert post("garbage").status_code == 400
    # State survives a restart (saved atomically in the directory).
    again = Witness(tmp_path / "w", [signer.verifier])
    assert again.state(signer.verifier.name)["size"] == 7  # type: ignore[index]
    assert again.signer.verifier.vkey == witness.signer.verifier.vkey
    assert (
        TestClient(create_witness_app(again))
        .get("/checkpoint", params={"origin": signer.verifier.name})
        .text.startswith(notes[1])
    )
    # Back only at its operator's word, keeping the high-water mark and a record (issue 17.6).
    origin = signer.verifier.name
    record = again.accept_restore(notes[0])
    assert (record["superseded_size"], record["restored_size"]) == (7, 4)
    state = again.state(origin)
    assert state is not None and (state["size"], state["high_water"]) == (4, 7)
    served = TestClient(create_witness_app(again)).get("/restores", params={"origin": origin})
    assert [r["restored_size"] for r in served.json()] == [4]
    assert post(format_request(4, good, notes[1])).status_code == 200  # forward again, proven


@pytest.fixture
def witness_url(tmp_path: Path, signer: Ed25519Signer) -> Iterator[tuple[str, Witness]]:
    witness = Witness(tmp_path / "witness", [signer.verifier], "witness.test/w2")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_witness_app(witness), host="127.0.0.1", port=port, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}", witness
    server.should_exit = True
    thread.join(5)


def test_restored_database_is_caught_by_the_witness(
    audit_engine: Engine, signer: Ed25519Signer, tmp_path: Path, witness_url: tuple[str, Witness]
) -> None:
    url, witness = witness_url
    # The export directory is lost with the server; only the witness remembers.
    settings = AuditSettings(
        home=tmp_path / "home",
        export_dir=tmp_path / "export",
        witness_url=url,
        witness_key=witness.signer.verifier.vkey,
    )
    add_events(audit_engine, 6)
    assert seal_now(audit_engine, settings, signer) is not None
    add_events(audit_engine, 6)
    assert seal_now(audit_engine, settings, signer) is not None
    assert witness.state(signer.verifier.name)["size"] == 12  # type: ignore[index]
    # An older copy of the database: the last checkpoint and its events are gone.
    attacker(
        audit_engine,
        "DELETE FROM audit_checkpoints WHERE tree_size > 6",
        "DELETE FROM audit_leaves WHERE leaf_index >= 6",
        "DELETE FROM audit_tree_nodes WHERE node_index * (1 << level) >= 6",
        "DELETE FROM audit_witness_receipts",
        "DELETE FROM audit_events WHERE id > 6",
    )
    settings.export_dir = tmp_path / "fresh-export"
    kept = external_checkpoints(signer.verifier, settings)
    assert [source for source, _ in kept] == ["witness"]
    with audit_engine.connect() as conn:
        report = verify(conn, signer.verifier, external=kept)
    assert report.problem is not None and report.problem.kind == "rollback"
    add_events(audit_engine, 1)
    from baomi.audit.sealing import SealRefused

    with pytest.raises(SealRefused, match="restored older copy"):
        seal_now(audit_engine, settings, signer)
    # Even without the witness's memory the log cannot fork: the witness refuses size 7 < 12.
    with pytest.raises(WitnessRefused):
        from baomi.audit.publish import witness as send

        with audit_engine.begin() as conn:
            from baomi.audit.sealing import seal

            sealed = seal(conn, signer)
            assert sealed is not None
            send(conn, open_checkpoint(sealed.note, signer.verifier), HttpWitness(url, None))
    assert isinstance(Verifier.parse(witness.signer.verifier.vkey), Verifier)
