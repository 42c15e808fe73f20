"""Running instances and the master-key versions they hold (issue 19.5, C4.2.2).

Before this, rotating to a version a running instance did not hold was accepted, and that
instance then answered 500 on every customer whose data key was rewrapped."""

from __future__ import annotations

import base64
import os
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update

from baomi import clock
from baomi.app import create_app
from baomi.audit.runner import create_log_key
from baomi.audit.settings import AuditSettings
from baomi.config import Settings
from baomi.crypto.keys import EnvKeyProvider
from baomi.customers.vault import Vault
from baomi.keystore import instances, rotation
from baomi.keystore.models import app_instances, data_keys
from baomi.uow import unit_of_work
from tests.keystore.test_rotation import make_keys

_MATERIAL = {v: os.urandom(32) for v in (1, 2)}
_INDEX = base64.b64encode(os.urandom(32)).decode()


def _env(*versions: int) -> EnvKeyProvider:
    spec = ",".join(f"{v}:{base64.b64encode(_MATERIAL[v]).decode()}" for v in versions)
    return EnvKeyProvider(master_keys=spec, index_key=_INDEX)


def _names(engine: Engine, version: int) -> str | None:
    try:
        with unit_of_work(engine) as conn:
            instances.require_everywhere(conn, version)
    except instances.KeyNotEverywhere as refused:
        return str(refused)
    return None


def test_a_version_an_instance_lacks_is_named(schema_engine: Engine) -> None:
    old = instances.announce(schema_engine, _env(1))
    instances.announce(schema_engine, _env(1, 2))
    refused = _names(schema_engine, 2)
    assert refused is not None and ":" in refused and "(holds 1)" in refused
    assert refused.count("holds") == 1  # only the instance that lacks it
    # Its next heartbeat after a restart with the new key clears it.
    instances.beat(schema_engine, old, _env(1, 2))
    assert _names(schema_engine, 2) is None


def test_stopped_and_silent_instances_do_not_count(schema_engine: Engine) -> None:
    stopped = instances.announce(schema_engine, _env(1))
    silent = instances.announce(schema_engine, _env(1))
    instances.leave(schema_engine, stopped)
    with unit_of_work(schema_engine) as conn:
        conn.execute(
            update(app_instances)
            .where(app_instances.c.id == silent)
            .values(seen_at=clock.utcnow() - instances.FRESH - timedelta(seconds=1))
        )
    # A killed instance stops beating and drops out: a crash never blocks rotation for long.
    assert _names(schema_engine, 2) is None


def test_rotation_is_refused_while_a_running_instance_lacks_the_new_version(
    schema_engine: Engine,
) -> None:
    keys = make_keys(schema_engine, _env(1), 3)
    running = instances.announce(schema_engine, _env(1))
    with pytest.raises(instances.KeyNotEverywhere) as refused:
        rotation.rotate(schema_engine, _env(1, 2), batch_size=2)
    assert refused.value.code == "key_not_on_every_instance"
    with schema_engine.connect() as conn:
        versions = set(conn.execute(select(data_keys.c.master_version)).scalars())
    assert versions == {1}  # nothing was rewrapped
    instances.beat(schema_engine, running, _env(1, 2))  # restarted with the new key
    done = rotation.rotate(schema_engine, _env(1, 2), batch_size=2)
    assert done.target_version == 2 and done.rewrapped == len(keys)


def test_a_serving_app_announces_itself_and_leaves(schema_engine: Engine, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    create_log_key(AuditSettings(home=settings.home))
    provider = _env(1, 2)
    vault = Vault.from_settings(settings, provider)
    app = create_app(settings=settings, engine=schema_engine, vault=vault, announce_instance=True)
    with TestClient(app):
        with schema_engine.connect() as conn:
            running = instances.live(conn)
        assert [(i.pid, i.key_versions) for i in running] == [(os.getpid(), (1, 2))]
    with schema_engine.connect() as conn:
        assert instances.live(conn) == []
        stopped = conn.execute(select(app_instances.c.stopped_at)).scalar_one()
    assert stopped is not None
