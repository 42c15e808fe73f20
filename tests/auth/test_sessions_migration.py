"""Migration 0005 replaces `api_tokens` with `sessions`, and its downgrade puts them back.

On a fresh SQLite file so that only 0004 ↔ 0005 runs; tests/test_migrations.py checks the
upgraded schema against the models on both backends.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import inspect

from baomi.db import make_engine
from baomi.migrate import alembic_config, upgrade


def test_upgrade_downgrade_upgrade(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine, "0005")
    tables = set(inspect(engine).get_table_names())
    assert "sessions" in tables and "api_tokens" not in tables
    command.downgrade(alembic_config(engine), "0004")
    tables = set(inspect(engine).get_table_names())
    assert "api_tokens" in tables and "sessions" not in tables
    upgrade(engine, "0005")
    columns = {c["name"] for c in inspect(engine).get_columns("sessions")}
    assert {"token_hash", "kind", "last_seen_at", "expires_at", "ended_at", "end_reason"} <= columns
    engine.dispose()
