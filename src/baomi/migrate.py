"""Run the Alembic migrations programmatically, on SQLite or PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

import baomi


def _script_location() -> Path:
    package_copy = Path(baomi.__file__).parent / "_migrations"
    if package_copy.is_dir():
        return package_copy
    return Path(baomi.__file__).resolve().parents[2] / "migrations"


def alembic_config(engine: Engine) -> Config:
    """Return an Alembic config bound to the engine (env.py reads it from attributes)."""
    config = Config()
    config.set_main_option("script_location", str(_script_location()))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to `revision`."""
    command.upgrade(alembic_config(engine), revision)


def pending(engine: Engine) -> tuple[str | None, str | None]:
    """Return (current revision, head revision); equal when nothing is pending."""
    script = ScriptDirectory.from_config(alembic_config(engine))
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    return current, script.get_current_head()
