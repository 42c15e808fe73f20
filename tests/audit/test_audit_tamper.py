"""Tampering done directly in the database, guards dropped as an attacker would, is detected by
full verification with the first bad event named (C1.3, C6) — on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, insert

from baomi.audit import service
from baomi.audit.checkpoint import Checkpoint, Ed25519Signer, open_checkpoint
from baomi.audit.context import RequestContext
from baomi.audit.models import audit_events
from baomi.audit.sealing import seal
from baomi.audit.tags import Action, Decision
from baomi.audit.verify import Report, verify
from tests.audit.conftest import add_events, attacker

COLS = "actor_id, actor_username, action, customer_id, fields, reason, request_id, details"


@pytest.fixture
def sealed_log(audit_engine: Engine, signer: Ed25519Signer) -> Iterator[Engine]:
    """Events 1..10, a legitimate gap, 15..24 sealed at 20 leaves; 25..34 sealed at 30."""
    add_events(audit_engine, 10)
    with audit_engine.begin() as conn:
        row = service.event(
            ctx=RequestContext("gap", "cli"),
            actor_id="u",
            actor_username="u",
            action=Action.AUTH_LOGIN,
            decision=Decision.ALLOW,
            reason="ok",
        )
        conn.execute(insert(audit_events), {**row, "id": 15})
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SELECT setval('audit_events_id_seq', 15)")
    add_events(audit_engine, 9)
    with audit_engine.begin() as conn:
        assert seal(conn, signer) is not None
    add_events(audit_engine, 10)
    with audit_engine.begin() as conn:
        assert seal(conn, signer) is not None
    yield audit_engine


def _verify(engine: Engine, signer: Ed25519Signer, *external: Checkpoint) -> Report:
    with engine.begin() as conn:
        return verify(conn, signer.verifier, external=[("exported", cp) for cp in external])


def test_untouched_log_verifies(sealed_log: Engine, signer: Ed25519Signer) -> None:
    report = _verify(sealed_log, signer)
    assert report.ok, report.problem
    assert (report.events, report.sealed, report.checkpoints) == (30, 30, 2)


def _first_bad(engine: Engine, signer: Ed25519Signer, *sql: str) -> Report:
    attacker(engine, *sql)
    report = _verify(engine, signer)
    assert not report.ok
    return report


@pytest.mark.parametrize(
    ("sql", "event_id"),
    [
        (["UPDATE audit_events SET reason = 'other' WHERE id = 7"], 7),
        (["UPDATE audit_events SET actor_username = 'mallory' WHERE id = 30"], 30),
        (["UPDATE audit_events SET details = '{}' WHERE id = 3"], 3),
        (["UPDATE audit_events SET occurred_at = occurred_at WHERE id = 4"], None),
        (["DELETE FROM audit_events WHERE id = 7"], 7),
        (["DELETE FROM audit_events WHERE id = 34"], 34),
        (["DELETE FROM audit_events WHERE id > 26"], 27),
        (["DELETE FROM audit_events"], 1),
        (
            [  # reorder: events 5 and 6 trade places
                "UPDATE audit_events SET id = -5 WHERE id = 5",
                "UPDATE audit_events SET id = 5 WHERE id = 6",
                "UPDATE audit_events SET id = 6 WHERE id = -5",
            ],
            5,
        ),
    ],
)
def test_tampering_is_detected(
    sealed_log: Engine, signer: Ed25519Signer, sql: list[str], event_id: int | None
) -> None:
    if event_id is None:  # a no-op UPDATE changes nothing and must not raise an alarm
        attacker(sealed_log, *sql)
        assert _verify(sealed_log, signer).ok
        return
    report = _first_bad(sealed_log, signer, *sql)
    assert report.problem is not None and report.problem.event_id == event_id, report.problem


def test_swapping_two_rows_is_detected(sealed_log: Engine, signer: Ed25519Signer) -> None:
    with sealed_log.begin() as conn:
        a = conn.exec_driver_sql(f"SELECT {COLS} FROM audit_events WHERE id = 9").one()
        b = conn.exec_driver_sql(f"SELECT {COLS} FROM audit_events WHERE id = 3").one()
    assert a != b

    def assign(row: object, target: int) -> str:
        values = ", ".join(
            f"{c} = {_literal(v)}"
            for c, v in zip(COLS.split(", "), row, strict=True)  # type: ignore[call-overload]
        )
        return f"UPDATE audit_events SET {values} WHERE id = {target}"

    report = _first_bad(sealed_log, signer, assign(a, 3), assign(b, 9))
    assert report.problem is not None and report.problem.event_id == 3


def _literal(value: object) -> str:
    if value is None:
        return "NULL"
    if not isinstance(value, str):
        import json

        value = json.dumps(value)
    return "'" + value.replace("'", "''") + "'"


def test_insert_into_the_sealed_range_is_detected(
    sealed_log: Engine, signer: Ed25519Signer
) -> None:
    report = _first_bad(
        sealed_log,
        signer,
        "INSERT INTO audit_events (id, occurred_at, action, decision, reason)"
        " SELECT 12, occurred_at, 'grant:create', 'allow', 'ok' FROM audit_events WHERE id = 10",
    )
    assert report.problem is not None and report.problem.event_id == 12
    assert "inserted" in report.problem.message


def test_backdated_insert_after_the_seal_is_detected(
    sealed_log: Engine, signer: Ed25519Signer
) -> None:
    report = _first_bad(
        sealed_log,
        signer,
        "INSERT INTO audit_events (id, occurred_at, action, decision, reason)"
        " VALUES (40, '2020-01-01 00:00:00.000000', 'grant:create', 'allow', 'ok')",
    )
    assert report.problem is not None and report.problem.event_id == 40


def test_new_events_waiting_for_the_sealer_are_fine(
    sealed_log: Engine, signer: Ed25519Signer
) -> None:
    add_events(sealed_log, 3)
    report = _verify(sealed_log, signer)
    assert report.ok and report.pending == 3


def test_rewriting_event_and_leaf_hash_names_the_checkpoint(
    sealed_log: Engine, signer: Ed25519Signer
) -> None:
    with sealed_log.begin() as conn:
        from baomi.audit import leaf, merkle, store

        row = list(store.event_row(conn, 26) or ())
    row[9] = "forged"
    forged = merkle.leaf_hash(leaf.encode(row)).hex()
    blob = f"X'{forged}'" if sealed_log.dialect.name == "sqlite" else f"'\\x{forged}'::bytea"
    report = _first_bad(
        sealed_log,
        signer,
        "UPDATE audit_events SET reason = 'forged' WHERE id = 26",
        f"UPDATE audit_leaves SET leaf_hash = {blob} WHERE event_id = 26",
    )
    assert report.problem is not None
    assert report.problem.kind == "tree" and report.problem.checkpoint == 30
    assert report.problem.leaf_index == 20  # the first leaf after the last good checkpoint


def test_forged_checkpoint_is_detected(sealed_log: Engine, signer: Ed25519Signer) -> None:
    report = _first_bad(
        sealed_log, signer, "UPDATE audit_checkpoints SET note = replace(note, '\n20\n', '\n21\n')"
    )
    assert report.problem is not None and report.problem.kind == "checkpoint"


def test_database_rolled_back_behind_an_exported_checkpoint(
    sealed_log: Engine, signer: Ed25519Signer
) -> None:
    """An older copy of the database is consistent in itself; only a checkpoint kept outside
    the database shows that it lost events."""
    with sealed_log.begin() as conn:
        from baomi.audit import store

        last = store.last_checkpoint(conn)
    assert last is not None
    exported = open_checkpoint(last[2], signer.verifier)
    attacker(
        sealed_log,
        "DELETE FROM audit_checkpoints WHERE tree_size > 20",
        "DELETE FROM audit_leaves WHERE leaf_index >= 20",
        "DELETE FROM audit_events WHERE id > 24",
    )
    assert _verify(sealed_log, signer).ok  # consistent in itself
    report = _verify(sealed_log, signer, exported)
    assert report.problem is not None and report.problem.kind == "rollback"
