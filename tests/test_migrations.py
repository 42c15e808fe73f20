"""Every schema change is a migration: the migrated database matches the models exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from baomi.migrate import pending
from baomi.schema import metadata


def test_schema_is_at_head_and_matches_models(engine: Engine) -> None:
    current, head = pending(engine)
    assert current == head
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    # SQLite cannot add the departments→users foreign key after the fact (see 0001).
    differences = [
        d
        for d in differences
        if not (d[0] == "add_fk" and d[1].name == "fk_departments_head_user_id_users")
    ]
    assert differences == []
