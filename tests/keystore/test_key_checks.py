"""Key check values on record (issue 17.2, C4.2.2): written at a key's first use, proven for a
database from before them, and a wrong master key named."""

from __future__ import annotations

import base64
import os

from sqlalchemy import Engine, delete, select

from baomi.crypto.keys import EnvKeyProvider, LocalKeyFileProvider
from baomi.ids import new_id
from baomi.keystore import checks, rotation, service
from baomi.keystore.checks import Finding
from baomi.keystore.models import key_check_values
from baomi.uow import unit_of_work


def _names(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(select(key_check_values.c.key_name)).scalars())


def _env(master: str, index: str | None = None) -> EnvKeyProvider:
    return EnvKeyProvider(
        master_keys=f"1:{master}", index_key=index or base64.b64encode(os.urandom(32)).decode()
    )


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def test_a_version_gets_its_check_value_when_its_row_is_written(
    schema_engine: Engine, provider: LocalKeyFileProvider
) -> None:
    with unit_of_work(schema_engine) as conn:
        service.create_data_key(conn, provider, owner_id=new_id())
    assert _names(schema_engine) == ["master:1"]
    rotation.rotate(schema_engine, provider)  # `baomi keys rotate` adds version 2
    assert _names(schema_engine) == ["master:1", "master:2"]
    with schema_engine.connect() as conn:
        found = checks.check_master_keys(conn, provider)
    assert [(c.name, c.finding) for c in found] == [
        ("master:1", Finding.MATCHES),
        ("master:2", Finding.MATCHES),
    ]


def test_a_wrong_master_key_is_named_by_its_check_value(schema_engine: Engine) -> None:
    with unit_of_work(schema_engine) as conn:
        service.ensure_master_versions(conn, _env(_key()))  # no data key yet: first use
    with schema_engine.connect() as conn:
        [found] = checks.check_master_keys(conn, _env(_key()))
        refusal = checks.mismatch([found])
    assert found.finding is Finding.DIFFERS
    assert refusal is not None and refusal.code == "key_mismatch" and refusal.status == 503
    assert "master key version 1 does not match the key this database was written with" in str(
        refusal
    )


def test_a_version_without_a_check_value_is_proven_by_opening_a_data_key(
    schema_engine: Engine,
) -> None:
    """A database from before issue 17: the key is proven, never assumed, before recording."""
    right = _key()
    with unit_of_work(schema_engine) as conn:
        service.create_data_key(conn, _env(right), owner_id=new_id())
        conn.execute(delete(key_check_values))
    with schema_engine.connect() as conn:
        [proven] = checks.check_master_keys(conn, _env(right))
        [wrong] = checks.check_master_keys(conn, _env(_key()))
    assert proven.finding is Finding.PROVEN and len(proven.witnesses) == 1
    assert wrong.finding is Finding.DIFFERS and "opens none of the 1 data keys" in wrong.detail
    with unit_of_work(schema_engine) as conn:
        assert checks.record(conn, [proven, wrong]) == ["master:1"]
    assert _names(schema_engine) == ["master:1"]


def test_a_version_with_nothing_under_it_is_recorded_as_it_is(schema_engine: Engine) -> None:
    with unit_of_work(schema_engine) as conn:
        service.ensure_master_versions(conn, _env(_key()))
        conn.execute(delete(key_check_values))
    with schema_engine.connect() as conn:
        [found] = checks.check_master_keys(conn, _env(_key()))
    assert found.finding is Finding.FIRST_USE and found.to_record
