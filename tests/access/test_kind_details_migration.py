"""Migration 0011 moves each kind's columns into `access_requests.details`, and back (issue 11).

On both backends, with requests that approvals refer to (SQLite must not rebuild the table
that foreign keys point at): an access request keeps its fields and hours, a level change
(C2.2) its from and target levels.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import command
from sqlalchemy import Engine, inspect

from baomi.ids import new_id
from baomi.migrate import alembic_config, upgrade
from tests.support.org import Org

BEFORE = sa.table(
    "access_requests",
    sa.column("id", sa.String()),
    sa.column("requester_id", sa.String()),
    sa.column("fields", sa.JSON()),
    sa.column("purpose", sa.Text()),
    sa.column("duration_hours", sa.Integer()),
    sa.column("status", sa.String()),
    sa.column("created_at", sa.DateTime()),
    sa.column("kind", sa.String()),
    sa.column("from_level", sa.String()),
    sa.column("target_level", sa.String()),
)
APPROVALS = sa.table(
    "access_request_approvals",
    sa.column("request_id", sa.String()),
    sa.column("slot", sa.Integer()),
    sa.column("role", sa.String()),
)
AFTER = sa.table("access_requests", sa.column("id", sa.String()), sa.column("details", sa.JSON()))
KIND_COLUMNS = {"fields", "duration_hours", "from_level", "target_level"}


def _columns(engine: Engine) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns("access_requests")}


def test_kind_columns_move_into_details_and_back(engine: Engine, org: Org) -> None:
    config = alembic_config(engine)
    command.downgrade(config, "0010")
    ids = {"whole": new_id(), "named": new_id(), "lowering": new_id()}
    common: dict[str, Any] = {
        "requester_id": org.user_ids["zhangsan"],
        "purpose": "跟进合作",
        "status": "pending",
        "created_at": datetime(2031, 1, 1, 9),
    }
    rows: list[dict[str, Any]] = [
        {"id": ids["whole"], "kind": "access", "fields": None, "duration_hours": 2},
        {"id": ids["named"], "kind": "access", "fields": ["name", "phones"], "duration_hours": 8},
        {
            "id": ids["lowering"],
            "kind": "level_change",
            "fields": None,
            "duration_hours": 0,
            "from_level": "confidential",
            "target_level": "secret",
        },
    ]
    with engine.begin() as conn:
        conn.execute(
            sa.insert(BEFORE),
            [{"from_level": None, "target_level": None, **common, **r} for r in rows],
        )
        conn.execute(
            sa.insert(APPROVALS),
            [{"request_id": i, "slot": 0, "role": "security_officer"} for i in ids.values()],
        )

    upgrade(engine)
    assert "details" in _columns(engine) and not KIND_COLUMNS & _columns(engine)
    with engine.connect() as conn:
        details = dict(conn.execute(sa.select(AFTER.c.id, AFTER.c.details)).all())
    assert details == {
        ids["whole"]: {"fields": None, "hours": 2},
        ids["named"]: {"fields": ["name", "phones"], "hours": 8},
        ids["lowering"]: {"from_level": "confidential", "target_level": "secret"},
    }

    command.downgrade(config, "0010")
    assert _columns(engine) >= KIND_COLUMNS and "details" not in _columns(engine)
    with engine.connect() as conn:
        back = {
            r.id: (r.kind, r.fields, r.duration_hours, r.from_level, r.target_level)
            for r in conn.execute(sa.select(BEFORE))
        }
    assert back == {
        ids["whole"]: ("access", None, 2, None, None),
        ids["named"]: ("access", ["name", "phones"], 8, None, None),
        ids["lowering"]: ("level_change", None, 0, "confidential", "secret"),
    }
    upgrade(engine)
