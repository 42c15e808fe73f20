"""Data keys in the database, online resumable rotation and retirement (C4.2.2, C4.5.1)."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select, update

from baomi.audit.models import audit_events
from baomi.audit.tags import Action
from baomi.crypto.envelope import unwrap_data_key
from baomi.crypto.errors import KeyProviderReadOnly, KeyUnavailable
from baomi.crypto.keys import EnvKeyProvider, KeyProvider, LocalKeyFileProvider, parse_master_keys
from baomi.customers.decrypt import open_cipher
from baomi.errors import NotFound
from baomi.ids import new_id
from baomi.keystore import rotation, service
from baomi.keystore.checks import KeyMismatch
from baomi.keystore.errors import DataKeyShredded, KeyInUse
from baomi.keystore.models import data_keys, key_rotations, master_key_versions
from baomi.uow import unit_of_work


def make_keys(engine: Engine, provider: KeyProvider, count: int) -> dict[str, bytes]:
    with unit_of_work(engine) as conn:
        return dict(
            service.create_data_key(conn, provider, owner_id=new_id()) for _ in range(count)
        )


def load_all(engine: Engine, provider: KeyProvider, ids: list[str]) -> dict[str, bytes]:
    """Unwrap each data key from its stored wrapping, as the customers door does on a read."""
    with engine.connect() as conn:
        rows = conn.execute(select(data_keys).where(data_keys.c.id.in_(ids))).all()
    return {
        r.id: unwrap_data_key(
            provider, owner_id=r.owner_id, version=r.master_version, wrapped=r.wrapped
        )
        for r in rows
    }


def versions_in_use(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        query = select(data_keys.c.id, data_keys.c.master_version)
        return {i: v for i, v in conn.execute(query)}


def statuses(engine: Engine) -> dict[int, str]:
    with engine.connect() as conn:
        query = select(master_key_versions.c.version, master_key_versions.c.status)
        return {v: s for v, s in conn.execute(query)}


def audit_actions(engine: Engine) -> list[tuple[str, object]]:
    with engine.connect() as conn:
        query = select(audit_events.c.action, audit_events.c.details).order_by(audit_events.c.id)
        return [tuple(row) for row in conn.execute(query)]


def test_data_keys_round_trip_and_the_versions_are_recorded(
    schema_engine: Engine, provider: LocalKeyFileProvider
) -> None:
    keys = make_keys(schema_engine, provider, 3)
    assert load_all(schema_engine, provider, list(keys)) == keys
    assert statuses(schema_engine) == {1: "active"}


def test_shredded_and_unknown_keys_raise_clear_errors(
    schema_engine: Engine, provider: LocalKeyFileProvider
) -> None:
    (key_id,) = make_keys(schema_engine, provider, 1)
    with unit_of_work(schema_engine) as conn:
        service.shred_data_key(conn, data_key_id=key_id)
    with schema_engine.connect() as conn:
        row = conn.execute(select(data_keys).where(data_keys.c.id == key_id)).one()
    assert row.wrapped is None and row.shredded_at is not None
    # The door (customers.decrypt) is the one place a stored data key is opened.
    with pytest.raises(DataKeyShredded):
        open_cipher(
            provider,
            customer_id=row.owner_id,
            data_key_id=key_id,
            version=row.master_version,
            wrapped=row.wrapped,
        )
    with unit_of_work(schema_engine) as conn, pytest.raises(NotFound):
        service.shred_data_key(conn, data_key_id="no-such-key")


def test_rotate_rewraps_every_data_key_under_the_new_version(
    schema_engine: Engine, provider: LocalKeyFileProvider
) -> None:
    keys = make_keys(schema_engine, provider, 25)
    seen: list[tuple[int, int]] = []
    result = rotation.rotate(
        schema_engine, provider, batch_size=7, progress=lambda d, t: seen.append((d, t))
    )
    assert result.target_version == 2 and result.rewrapped == 25
    assert set(versions_in_use(schema_engine).values()) == {2}
    assert load_all(schema_engine, provider, list(keys)) == keys
    assert statuses(schema_engine) == {1: "previous", 2: "active"}
    assert seen[0] == (0, 25) and seen[-1] == (25, 25)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert audit_actions(schema_engine) == [
        (Action.KEY_ROTATE.value, {"target_version": 2, "rewrapped": 25})
    ]


def test_an_interrupted_rotation_resumes_and_readers_keep_working(
    schema_engine: Engine, provider: LocalKeyFileProvider
) -> None:
    keys = make_keys(schema_engine, provider, 12)
    # A server process that loaded the key file before the rotation began.
    server = LocalKeyFileProvider.load(provider.path)
    started = rotation.start_rotation(schema_engine, provider)
    assert rotation.rewrap_batch(schema_engine, provider, rotation=started, batch_size=5) == 5
    # ...the process stops here (a crash between batches).
    assert sorted(versions_in_use(schema_engine).values()) == [1] * 7 + [2] * 5
    assert load_all(schema_engine, server, list(keys)) == keys
    with unit_of_work(schema_engine) as conn:
        assert service.key_status(conn, provider).rotation_target == 2
    added_meanwhile = make_keys(schema_engine, server, 1)
    assert {versions_in_use(schema_engine)[k] for k in added_meanwhile} == {2}

    result = rotation.rotate(schema_engine, provider, batch_size=5)
    assert result.id == started.id and result.target_version == 2 and result.rewrapped == 12
    assert provider.versions() == [1, 2]
    assert set(versions_in_use(schema_engine).values()) == {2}
    assert load_all(schema_engine, server, list(keys)) == keys
    with schema_engine.connect() as conn:
        finished = conn.execute(select(key_rotations.c.finished_at)).scalars().all()
    assert len(finished) == 1 and finished[0] is not None
    assert [action for action, _ in audit_actions(schema_engine)] == [Action.KEY_ROTATE.value]


def test_key_status_counts_data_keys_per_version(
    schema_engine: Engine, provider: LocalKeyFileProvider
) -> None:
    make_keys(schema_engine, provider, 4)
    started = rotation.start_rotation(schema_engine, provider)
    rotation.rewrap_batch(schema_engine, provider, rotation=started, batch_size=3)
    with unit_of_work(schema_engine) as conn:
        report = service.key_status(conn, provider)
    assert report.active_version == 2
    assert [(v.version, v.status, v.data_keys) for v in report.versions] == [
        (1, "previous", 1),
        (2, "active", 3),
    ]


def test_retire_refuses_the_active_version_and_one_in_use(
    schema_engine: Engine, provider: LocalKeyFileProvider
) -> None:
    keys = make_keys(schema_engine, provider, 3)
    with pytest.raises(KeyInUse, match="active"):
        rotation.retire(schema_engine, provider, version=1)
    started = rotation.start_rotation(schema_engine, provider)
    rotation.rewrap_batch(schema_engine, provider, rotation=started, batch_size=2)
    with pytest.raises(KeyInUse, match="1 data keys still use"):
        rotation.retire(schema_engine, provider, version=1)
    with pytest.raises(KeyInUse, match="active"):
        rotation.retire(schema_engine, provider, version=2)
    assert provider.versions() == [1, 2]
    assert load_all(schema_engine, provider, list(keys)) == keys


def test_retire_erases_an_unused_version(
    schema_engine: Engine, provider: LocalKeyFileProvider
) -> None:
    keys = make_keys(schema_engine, provider, 3)
    with unit_of_work(schema_engine) as conn:
        old_wrapped = conn.execute(select(data_keys.c.owner_id, data_keys.c.wrapped)).first()
    assert old_wrapped is not None
    rotation.rotate(schema_engine, provider)
    rotation.retire(schema_engine, provider, version=1)

    assert statuses(schema_engine) == {1: "retired", 2: "active"}
    assert provider.versions() == [2]
    for reloaded in (provider, LocalKeyFileProvider.load(provider.path)):
        with pytest.raises(KeyUnavailable):
            reloaded.unwrap(version=1, wrapped=old_wrapped.wrapped, aad=b"")
    assert load_all(schema_engine, provider, list(keys)) == keys
    assert audit_actions(schema_engine)[-1] == (Action.KEY_RETIRE.value, {"version": 1})
    with pytest.raises(NotFound):
        rotation.retire(schema_engine, provider, version=1)


def test_env_provider_rotates_onto_a_version_added_to_the_environment(
    schema_engine: Engine,
) -> None:
    def env(*versions: int) -> EnvKeyProvider:
        spec = ",".join(f"{v}:{base64.b64encode(material[v]).decode()}" for v in versions)
        return EnvKeyProvider(master_keys=spec, index_key=index)

    material = {1: os.urandom(32), 2: os.urandom(32)}
    index = base64.b64encode(os.urandom(32)).decode()
    keys = make_keys(schema_engine, env(1), 4)
    result = rotation.rotate(schema_engine, env(1, 2), batch_size=3)
    assert result.target_version == 2 and result.rewrapped == 4
    assert load_all(schema_engine, env(2), list(keys)) == keys
    # Read-only: erasing happens in the environment, and the failed attempt leaves no trace.
    with pytest.raises(KeyProviderReadOnly):
        rotation.retire(schema_engine, env(1, 2), version=1)
    assert statuses(schema_engine) == {1: "previous", 2: "active"}
    assert [action for action, _ in audit_actions(schema_engine)] == [Action.KEY_ROTATE.value]
    with unit_of_work(schema_engine) as conn:
        service.ensure_master_versions(conn, env(2))
    assert statuses(schema_engine) == {1: "retired", 2: "active"}


def test_env_provider_refuses_a_rotation_with_no_newer_version(schema_engine: Engine) -> None:
    """Issue 19: without a new version in BAOMI_MASTER_KEYS, rotate said "0 rewrapped", exit 0."""
    material = base64.b64encode(os.urandom(32)).decode()
    env = EnvKeyProvider(
        master_keys=f"1:{material}", index_key=base64.b64encode(os.urandom(32)).decode()
    )
    make_keys(schema_engine, env, 2)
    with pytest.raises(rotation.NothingToRotate) as refused:
        rotation.rotate(schema_engine, env, batch_size=3)
    assert refused.value.code == "nothing_to_rotate" and "baomi keys new" in str(refused.value)
    assert audit_actions(schema_engine) == []  # nothing rotated, nothing recorded


def test_keys_new_prints_an_entry_the_env_provider_accepts(
    cli_runner_env: dict[str, str],
) -> None:
    from typer.testing import CliRunner

    from baomi.cli.main import app

    result = CliRunner().invoke(app, ["keys", "new"], env=cli_runner_env)
    assert result.exit_code == 0, result.output
    entry = result.stdout.strip()
    assert entry.startswith("3:")
    keys = parse_master_keys(cli_runner_env["BAOMI_MASTER_KEYS"] + "," + entry)
    assert sorted(keys) == [1, 2, 3] and len(keys[3]) == 32


@pytest.fixture
def cli_runner_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    from baomi import runtime

    spec = ",".join(f"{v}:{base64.b64encode(os.urandom(32)).decode()}" for v in (1, 2))
    monkeypatch.setenv("BAOMI_MASTER_KEYS", spec)
    runtime.reset()
    yield {"BAOMI_MASTER_KEYS": spec}
    runtime.reset()


def test_a_process_without_the_newest_version_changes_no_version_record(
    schema_engine: Engine,
) -> None:
    """Issue 19: an instance not yet given version 2 marked it retired, for good, on its first
    new data key (a rolling restart); now it leaves the records as they are."""
    material = {v: base64.b64encode(os.urandom(32)).decode() for v in (1, 2)}
    index = base64.b64encode(os.urandom(32)).decode()

    def env(*versions: int) -> EnvKeyProvider:
        spec = ",".join(f"{v}:{material[v]}" for v in versions)
        return EnvKeyProvider(master_keys=spec, index_key=index)

    with unit_of_work(schema_engine) as conn:
        service.ensure_master_versions(conn, env(1, 2))
    assert statuses(schema_engine) == {1: "previous", 2: "active"}
    keys = make_keys(schema_engine, env(1), 2)  # the lagging instance still works
    assert statuses(schema_engine) == {1: "previous", 2: "active"}
    assert load_all(schema_engine, env(1, 2), list(keys)) == keys


def _damage(engine: Engine, key_ids: list[str]) -> dict[str, bytes]:
    """Flip a byte of each wrapped key in the database; return the originals (the "backup")."""
    originals = {}
    with unit_of_work(engine) as conn:
        for key_id in key_ids:
            wrapped = conn.execute(
                select(data_keys.c.wrapped).where(data_keys.c.id == key_id)
            ).scalar_one()
            originals[key_id] = wrapped
            conn.execute(
                update(data_keys)
                .where(data_keys.c.id == key_id)
                .values(wrapped=wrapped[:-1] + bytes([wrapped[-1] ^ 1]))
            )
    return originals


def test_rotation_goes_past_damaged_keys_names_them_and_stays_unfinished(
    schema_engine: Engine, provider: LocalKeyFileProvider
) -> None:
    """Issue 17.3: one corrupted wrapped key stopped the rotation at 0 of N, unnamed (C4.2.2)."""
    keys = make_keys(schema_engine, provider, 10)
    broken = sorted(keys)[3:5]
    backup = _damage(schema_engine, broken)
    seen: list[tuple[int, int]] = []
    result = rotation.rotate(
        schema_engine, provider, batch_size=3, progress=lambda d, t: seen.append((d, t))
    )
    assert result.target_version == 2 and result.rewrapped == 8
    assert sorted(k.data_key_id for k in result.damaged) == broken
    assert not result.finished and seen[-1] == (10, 10)
    assert sorted(k for k, v in versions_in_use(schema_engine).items() if v == 1) == broken
    with unit_of_work(schema_engine) as conn:
        assert service.key_status(conn, provider).rotation_target == 2  # left open
    [(action, details)] = audit_actions(schema_engine)
    assert action == Action.KEY_ROTATE.value
    assert isinstance(details, dict) and details["rewrapped"] == 8
    assert sorted(d["data_key_id"] for d in details["damaged"]) == broken
    # Retiring version 1 would erase the only key that opens the backup copies: refused, named.
    with pytest.raises(KeyInUse) as refused:
        rotation.retire(schema_engine, provider, version=1)
    assert all(key_id in str(refused.value) for key_id in broken)
    assert "2 of them damaged" in str(refused.value) and "backup" in str(refused.value)
    assert provider.versions() == [1, 2]
    # Restored from the backup, they rewrap on the next run, which finishes the same rotation.
    with unit_of_work(schema_engine) as conn:
        for key_id, wrapped in backup.items():
            conn.execute(update(data_keys).where(data_keys.c.id == key_id).values(wrapped=wrapped))
    again = rotation.rotate(schema_engine, provider, batch_size=3)
    assert again.id == result.id and again.rewrapped == 10 and again.finished
    assert load_all(schema_engine, provider, list(keys)) == keys
    rotation.retire(schema_engine, provider, version=1)
    assert provider.versions() == [2]


def test_a_rotation_with_a_wrong_master_key_is_refused_before_it_starts(
    schema_engine: Engine,
) -> None:
    """Issue 17.2: every key would have been called damaged; the key is named instead."""
    right = base64.b64encode(os.urandom(32)).decode()
    index = base64.b64encode(os.urandom(32)).decode()
    make_keys(schema_engine, EnvKeyProvider(master_keys=f"1:{right}", index_key=index), 3)
    wrong = base64.b64encode(os.urandom(32)).decode()
    other = base64.b64encode(os.urandom(32)).decode()
    env = EnvKeyProvider(master_keys=f"1:{wrong},2:{other}", index_key=index)
    with pytest.raises(KeyMismatch) as refused:
        rotation.rotate(schema_engine, env)
    assert "master key version 1 does not match" in str(refused.value)
    assert refused.value.code == "key_mismatch"
    assert statuses(schema_engine) == {1: "active"}
