"""Audit-log fixtures: a scratch SQLite file and a scratch PostgreSQL database with the audit
tables and their guards, plus a log signing key. Real databases, nothing of ours faked."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from baomi.audit import guards, service
from baomi.audit.checkpoint import Ed25519Signer, load_or_create_key
from baomi.audit.context import RequestContext
from baomi.audit.models import (
    audit_checkpoints,
    audit_events,
    audit_leaves,
    audit_tree_nodes,
    audit_witness_receipts,
)
from baomi.audit.tags import Action, Decision
from baomi.db import make_engine, metadata

PG_ADMIN = os.environ.get("BAOMI_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
TABLES = [audit_events, audit_leaves, audit_tree_nodes, audit_checkpoints, audit_witness_receipts]
AUDIT_BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def pg_url(name: str) -> str:
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(params=AUDIT_BACKENDS)
def audit_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a fresh database holding only the guarded audit tables."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'audit.db'}")
        name = None
    else:
        name = f"baomi_test_audit_{uuid.uuid4().hex[:10]}"
        admin = make_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        engine = make_engine(pg_url(name))
    metadata.create_all(engine, tables=TABLES)
    with engine.begin() as conn:
        guards.install_triggers(conn)
    yield engine
    engine.dispose()
    if name:
        admin = make_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def signer(tmp_path: Path) -> Ed25519Signer:
    return load_or_create_key(tmp_path / "keys" / "audit_log.key", "baomi.test/audit")


def add_events(engine: Engine, n: int, **overrides: Any) -> None:
    """Append n events the way the business transactions do (service.record)."""
    with engine.begin() as conn:
        for i in range(n):
            kwargs: dict[str, Any] = {
                "ctx": RequestContext(request_id=f"req-{i}", client_addr="10.0.0.1"),
                "actor_id": f"user-{i % 3}",
                "actor_username": f"销售{i % 3}",
                "action": Action.CUSTOMER_READ,
                "decision": Decision.ALLOW,
                "reason": "handler",
                "customer_id": f"cust-{i % 7}",
                "fields": ["phone", "email"] if i % 2 else None,
                "details": {"count": i, "z": "ü", "a": [1, 2]} if i % 3 == 0 else None,
            }
            kwargs.update(overrides)
            service.record(conn, **kwargs)


def attacker(engine: Engine, *statements: str) -> None:
    """Run SQL as an attacker with database access would: guards dropped first."""
    with engine.begin() as conn:
        for stmt in guards.drop_ddl(conn.dialect.name):
            conn.exec_driver_sql(stmt)
        for stmt in statements:
            conn.exec_driver_sql(stmt)
