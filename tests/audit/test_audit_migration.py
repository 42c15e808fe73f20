"""Migration 0002 creates the sealing tables and the append-only guards (C1.3)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import DBAPIError

from baomi.audit.guards import AUDIT_TABLES
from baomi.db import make_engine
from baomi.migrate import upgrade


def test_upgrade_and_downgrade_on_sqlite(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine)
    assert set(AUDIT_TABLES) <= set(inspect(engine).get_table_names())
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO audit_events (occurred_at, action, decision, reason)"
            " VALUES ('2025-01-01 00:00:00.000000', 'auth:login', 'allow', 'ok')"
        )
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM audit_events")
    engine.dispose()


def test_downgrade_removes_tables_and_guards(tmp_path: Path) -> None:
    from alembic import command

    from baomi.migrate import alembic_config

    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine)
    command.downgrade(alembic_config(engine), "0001")
    assert "audit_leaves" not in inspect(engine).get_table_names()
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO audit_events (occurred_at, action, decision, reason)"
            " VALUES ('2025-01-01 00:00:00.000000', 'auth:login', 'allow', 'ok')"
        )
        conn.exec_driver_sql("DELETE FROM audit_events")  # 0001 has no guards
    engine.dispose()
