"""Issue 17.2: a wrong master or index key is refused by name, by `baomi doctor` and at start.

Found: with random keys `baomi doctor` showed every line ✓ and the server started; every list
then answered 500 `integrity_failure` (as if tampered with) and 查重 answered "no such customer"
for a phone on file (C4.1.3). The env provider makes the keys easy to swap, as an operator
would by pasting the wrong BAOMI_MASTER_KEYS or BAOMI_INDEX_KEY.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select

from baomi import runtime
from baomi.audit.context import CLI_CONTEXT
from baomi.audit.models import audit_events
from baomi.cli import server
from baomi.customers import service
from baomi.customers.schemas import CustomerIn
from baomi.customers.vault import Vault
from baomi.keystore.models import key_check_values
from baomi.uow import unit_of_work
from tests.cli.conftest import Invoke
from tests.cli.test_doctor import _row
from tests.support.api import PROVENANCE
from tests.support.org import actor, build_org

WRONG_MASTER = "master key version 1 does not match the key this database was written with"
WRONG_INDEX = "the index key does not match the key this database was written with"


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def _use_keys(monkeypatch: pytest.MonkeyPatch, master: str, index: str) -> None:
    monkeypatch.setenv("BAOMI_KEY_PROVIDER", "env")
    monkeypatch.setenv("BAOMI_MASTER_KEYS", f"1:{master}")
    monkeypatch.setenv("BAOMI_INDEX_KEY", index)
    runtime.reset()


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """What `baomi serve` would have served: nothing, unless it got that far."""
    apps: list[Any] = []
    monkeypatch.setattr(server, "_run_uvicorn", lambda app, host, port: apps.append(app))
    return apps


def _check_values() -> dict[str, bytes]:
    with runtime.get_engine().connect() as conn:
        rows = conn.execute(select(key_check_values.c.key_name, key_check_values.c.check_value))
        return {name: bytes(value) for name, value in rows}


def test_random_keys_are_refused_by_name_by_doctor_and_at_start(
    backend_home: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch, started: list[Any]
) -> None:
    master, index = _key(), _key()
    _use_keys(monkeypatch, master, index)
    assert cli("init").exit_code == 0
    assert sorted(_check_values()) == ["index", "master:1"]  # recorded at first use
    sound = cli("doctor")
    assert sound.exit_code == 0, sound.stdout
    assert "✓" in _row(sound.stdout, "key checks")

    _use_keys(monkeypatch, _key(), _key())
    doctor = cli("doctor")
    assert doctor.exit_code == 1
    row = _row(doctor.stdout, "key checks")
    assert "✗" in row and WRONG_MASTER in row and WRONG_INDEX in row
    serve = cli("serve")
    assert serve.exit_code == 1
    assert WRONG_MASTER in serve.stderr and WRONG_INDEX in serve.stderr
    assert "Traceback" not in serve.output
    assert started == []  # the API never started with them
    # The refused start is on record (C1.3), naming the keys, never their material.
    with runtime.get_engine().connect() as conn:
        refused = conn.execute(
            select(audit_events.c.details).where(
                audit_events.c.action == "key:check", audit_events.c.decision == "deny"
            )
        ).scalar_one()
    assert refused == {"keys": ["master:1", "index"]}

    _use_keys(monkeypatch, master, _key())  # only the index key wrong: only it is named
    serve = cli("serve")
    assert serve.exit_code == 1
    assert WRONG_INDEX in serve.stderr and "master key version" not in serve.stderr
    _use_keys(monkeypatch, master, index)
    assert cli("serve").exit_code == 0 and len(started) == 1


def test_a_database_from_before_check_values_is_proven_before_they_are_recorded(
    home: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch, started: list[Any]
) -> None:
    """The master key by opening a data key, the index key by recomputing a stored blind index.

    An index key recorded unproven would be recorded wrong for good, and 查重 would answer
    "no such customer" for every customer on file.
    """
    master, index = _key(), _key()
    _use_keys(monkeypatch, master, index)
    assert cli("init").exit_code == 0
    engine, provider = runtime.get_engine(), runtime.get_key_provider()
    org = build_org(engine, provider)
    filer = actor(engine, org, "zhangsan")
    customer = CustomerIn(name="旧库客户", phones=["13912345678"], **PROVENANCE)
    with unit_of_work(engine) as conn:
        filed = service.create(
            conn,
            actor=filer,
            ctx=CLI_CONTEXT,
            vault=Vault.from_provider(provider),
            customer_in=customer,
        )
        conn.execute(delete(key_check_values))  # as migration 0012 leaves an older database
    doctor = cli("doctor")
    assert doctor.exit_code == 1
    assert "`baomi init` proves the key" in _row(doctor.stdout, "key checks")

    _use_keys(monkeypatch, master, _key())
    refused = cli("serve")
    assert refused.exit_code == 1 and WRONG_INDEX in refused.stderr
    assert "blind indexes of the 1 customers tried" in refused.stderr
    assert started == [] and _check_values() == {}

    _use_keys(monkeypatch, master, index)
    assert cli("serve").exit_code == 0 and len(started) == 1
    assert sorted(_check_values()) == ["index", "master:1"]
    with runtime.get_engine().connect() as conn:
        recorded = conn.execute(
            select(audit_events.c.details).where(
                audit_events.c.action == "key:check", audit_events.c.decision == "allow"
            )
        ).all()
    [(details,)] = recorded[-1:]
    assert details["recorded"] == ["master:1", "index"]
    assert details["proven_by"]["index"] == [filed.id]
    assert "旧库客户" not in str(details)
    assert cli("doctor").exit_code == 0
