"""Sealing: leaves in id order, stored nodes, signed C2SP checkpoints, proofs, guards (C1.3)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, insert, select, text
from sqlalchemy.exc import DBAPIError

from baomi.audit import leaf, merkle, proofcheck, proofs, store
from baomi.audit.checkpoint import Ed25519Signer, Verifier, open_checkpoint
from baomi.audit.guards import AUDIT_TABLES, postgres_grants
from baomi.audit.models import audit_leaves, audit_tree_nodes
from baomi.audit.sealing import SealRefused, seal
from tests.audit.conftest import add_events, attacker


def _seal(engine: Engine, signer: Ed25519Signer, **kw: object) -> object:
    with engine.begin() as conn:
        return seal(conn, signer, **kw)  # type: ignore[arg-type]


def test_leaf_encoding_is_versioned_compact_json(audit_engine: Engine) -> None:
    add_events(audit_engine, 1)
    with audit_engine.begin() as conn:
        row = store.event_row(conn, 1)
    assert row is not None
    data = leaf.encode(row)
    reference = json.dumps(["baomi.audit/1", *row], ensure_ascii=False, separators=(",", ":"))
    assert data == reference.encode() and data.startswith(b'["baomi.audit/1",1,"')
    event = leaf.decode(data)
    assert event["action"] == "customer:read" and event["actor_username"] == "销售0"
    assert event["occurred_at"].endswith("Z") and len(event["occurred_at"]) == 27
    assert json.loads(event["details"]) == {"count": 0, "z": "ü", "a": [1, 2]}


def test_seal_signs_checkpoints_that_match_the_tree(
    audit_engine: Engine, signer: Ed25519Signer
) -> None:
    assert _seal(audit_engine, signer) is None  # nothing waits
    add_events(audit_engine, 10)
    first = _seal(audit_engine, signer)
    add_events(audit_engine, 23)
    second = _seal(audit_engine, signer)
    assert _seal(audit_engine, signer) is None
    with audit_engine.begin() as conn:
        rows = [store.event_row(conn, i) for i in range(1, 34)]
        cp = open_checkpoint(second.note, Verifier.parse(signer.verifier.vkey))  # type: ignore[attr-defined]
        tree = merkle.MemoryTree(merkle.leaf_hash(leaf.encode(r)) for r in rows if r)
        assert (cp.size, cp.root) == (33, merkle.root(tree, 33))
        assert first.note.splitlines()[:2] == ["baomi.test/audit", "10"]  # type: ignore[attr-defined]
        # Every event has an inclusion proof the offline verifier accepts.
        for event_id in range(1, 34):
            doc = proofs.inclusion(conn, event_id)
            assert proofcheck.check(doc) == "inclusion"
        doc = proofs.consistency(conn, 10, 33)
        assert "checkpoint1" in doc and "checkpoint2" in doc
        assert proofcheck.check(json.loads(json.dumps(doc))) == "consistency"


def test_max_events_splits_sealing(audit_engine: Engine, signer: Ed25519Signer) -> None:
    add_events(audit_engine, 7)
    assert _seal(audit_engine, signer, max_events=3).size == 3  # type: ignore[attr-defined]
    assert _seal(audit_engine, signer, max_events=3).size == 6  # type: ignore[attr-defined]
    assert _seal(audit_engine, signer, max_events=3).size == 7  # type: ignore[attr-defined]


def test_unsealed_event_has_no_proof(audit_engine: Engine, signer: Ed25519Signer) -> None:
    add_events(audit_engine, 2)
    with audit_engine.begin() as conn, pytest.raises(proofs.NotSealed):
        proofs.inclusion(conn, 1)
    with audit_engine.begin() as conn, pytest.raises(proofs.NotFound):
        proofs.inclusion(conn, 99)


@pytest.mark.parametrize("table", AUDIT_TABLES)
def test_guards_refuse_update_and_delete(
    audit_engine: Engine, signer: Ed25519Signer, table: str
) -> None:
    """C1.3: the audit tables are append-only for the application."""
    add_events(audit_engine, 4)
    _seal(audit_engine, signer)
    with audit_engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO audit_witness_receipts (tree_size, witness, cosignature, received_at)"
            " VALUES (4, 'w', 'x', CURRENT_TIMESTAMP)"
        )
    for stmt in (f"UPDATE {table} SET {_column(table)} = {_column(table)}", f"DELETE FROM {table}"):
        with pytest.raises(DBAPIError, match="append-only"), audit_engine.begin() as conn:
            conn.exec_driver_sql(stmt)
    if audit_engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"), audit_engine.begin() as conn:
            conn.exec_driver_sql(f"TRUNCATE {table}")


def _column(table: str) -> str:
    return {"audit_tree_nodes": "hash", "audit_leaves": "leaf_hash"}.get(
        table, "tree_size" if table != "audit_events" else "reason"
    )


def test_sealer_refuses_a_tampered_tree(audit_engine: Engine, signer: Ed25519Signer) -> None:
    add_events(audit_engine, 8)
    _seal(audit_engine, signer)
    attacker(
        audit_engine,
        "UPDATE audit_tree_nodes SET hash ="
        " (SELECT leaf_hash FROM audit_leaves WHERE leaf_index = 0) WHERE level = 3",
    )
    add_events(audit_engine, 1)
    with pytest.raises(SealRefused, match="no longer folds"):
        _seal(audit_engine, signer)


def test_sealer_refuses_a_database_behind_an_exported_checkpoint(
    audit_engine: Engine, signer: Ed25519Signer
) -> None:
    add_events(audit_engine, 5)
    _seal(audit_engine, signer)
    with audit_engine.begin() as conn:
        five = store.last_checkpoint(conn)
    add_events(audit_engine, 5)
    later = _seal(audit_engine, signer)
    exported = open_checkpoint(later.note, signer.verifier)  # type: ignore[attr-defined]
    # Consistent trusted checkpoint (smaller or equal): sealing goes on.
    add_events(audit_engine, 1)
    assert five is not None
    assert _seal(audit_engine, signer, trusted=open_checkpoint(five[2], signer.verifier))
    # The database "restored" to size 5 (the attacker removes later rows): refused.
    attacker(
        audit_engine,
        "DELETE FROM audit_checkpoints WHERE tree_size > 5",
        "DELETE FROM audit_leaves WHERE leaf_index >= 5",
        "DELETE FROM audit_tree_nodes",
        "DELETE FROM audit_events WHERE id > 5",
    )
    with audit_engine.begin() as conn:
        # Nodes are gone too: rebuild what a real size-5 backup would hold.
        rows = [store.event_row(conn, i) for i in range(1, 6)]
        edge = merkle.CompactRange()
        for r in rows:
            assert r is not None
            for (lvl, idx), digest in edge.append(merkle.leaf_hash(leaf.encode(r))):
                conn.execute(
                    insert(audit_tree_nodes), {"level": lvl, "node_index": idx, "hash": digest}
                )
    add_events(audit_engine, 2)
    with pytest.raises(SealRefused, match="restored older copy"):
        _seal(audit_engine, signer, trusted=exported)


def test_leaves_follow_event_ids(audit_engine: Engine, signer: Ed25519Signer) -> None:
    add_events(audit_engine, 6)
    _seal(audit_engine, signer)
    with audit_engine.begin() as conn:
        pairs = conn.execute(select(audit_leaves.c.leaf_index, audit_leaves.c.event_id)).all()
    assert sorted(pairs) == [(i, i + 1) for i in range(6)]


def test_postgres_grants_leave_insert_and_select_only() -> None:
    sql = postgres_grants("baomi_app")
    assert "GRANT SELECT, INSERT ON audit_events" in sql and "REVOKE ALL" in sql
    with pytest.raises(ValueError):
        postgres_grants("x; DROP TABLE audit_events")


@pytest.mark.postgres
def test_postgres_app_role_cannot_update(audit_engine: Engine, signer: Ed25519Signer) -> None:
    if audit_engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL privileges")
    add_events(audit_engine, 3)
    role = f"baomi_app_{abs(hash(str(audit_engine.url))) % 10**8}"
    with audit_engine.begin() as conn:
        conn.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")
        conn.exec_driver_sql(f"CREATE ROLE {role}")
        for line in postgres_grants(role).splitlines():
            conn.exec_driver_sql(line)
    try:
        with audit_engine.begin() as conn:
            conn.exec_driver_sql(f"SET LOCAL ROLE {role}")
            conn.exec_driver_sql(
                "INSERT INTO audit_events (occurred_at, action, decision, reason)"
                " VALUES (now(), 'auth:login', 'allow', 'ok')"
            )
            # The sealer itself runs under the restricted role too.
            assert seal(conn, signer) is not None
        # Without the triggers, the privilege alone still refuses.
        attacker(audit_engine)
        for stmt in ("UPDATE audit_events SET reason = 'x'", "DELETE FROM audit_events"):
            with pytest.raises(DBAPIError, match="permission denied"), audit_engine.begin() as conn:
                conn.exec_driver_sql(f"SET LOCAL ROLE {role}")
                conn.exec_driver_sql(stmt)
    finally:
        with audit_engine.begin() as conn:
            conn.execute(text(f"DROP OWNED BY {role}"))
            conn.execute(text(f"DROP ROLE {role}"))
