"""Shared fixtures: real SQLite and PostgreSQL databases, each test on its own fresh copy.

A template database is migrated and populated with the test company once per session (and per
xdist worker); every test then gets a copy: a file copy for SQLite, CREATE DATABASE … TEMPLATE for
PostgreSQL. Nothing of our own storage is mocked.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from baomi.app import create_app
from baomi.audit.runner import create_log_key
from baomi.audit.settings import AuditSettings
from baomi.config import Settings
from baomi.crypto.keys import KeyProvider, LocalKeyFileProvider
from baomi.customers.vault import Vault
from baomi.db import make_engine
from baomi.keystore.service import ensure_master_versions
from baomi.migrate import upgrade
from baomi.uow import unit_of_work
from tests.support.org import Org, build_org

PG_ADMIN_URL = os.environ.get("BAOMI_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _pg_url(database: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + database


def _pg_admin() -> Engine:
    return make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def key_provider(tmp_path_factory: pytest.TempPathFactory) -> KeyProvider:
    """One master-key file for the session (tests that rotate keys make their own)."""
    return LocalKeyFileProvider.create(tmp_path_factory.mktemp("keys") / "master.key")


@pytest.fixture(scope="session")
def vault(key_provider: KeyProvider) -> Vault:
    return Vault.from_provider(key_provider)


def _prepare(engine: Engine, provider: KeyProvider) -> Org:
    upgrade(engine)
    with unit_of_work(engine) as conn:
        ensure_master_versions(conn, provider)
    return build_org(engine, provider)


@pytest.fixture(scope="session")
def sqlite_template(
    tmp_path_factory: pytest.TempPathFactory, key_provider: KeyProvider
) -> tuple[Path, Org]:
    path = tmp_path_factory.mktemp("template") / "baomi.db"
    engine = make_engine(f"sqlite:///{path}")
    org = _prepare(engine, key_provider)
    engine.dispose()  # closing the last connection folds the WAL into the file
    assert not path.with_name("baomi.db-wal").exists()
    return path, org


@pytest.fixture(scope="session")
def pg_template(key_provider: KeyProvider) -> Iterator[tuple[str, Org]]:
    name = f"baomi_tpl_{_worker()}_{uuid.uuid4().hex[:8]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(_pg_url(name))
    org = _prepare(engine, key_provider)
    engine.dispose()
    yield name, org
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[str, Org]]:
    """A fresh, migrated database holding the test company: (url, org)."""
    if backend == "sqlite":
        template, org = request.getfixturevalue("sqlite_template")
        target = tmp_path / "baomi.db"
        shutil.copyfile(template, target)
        yield f"sqlite:///{target}", org
        return
    template_name, org = request.getfixturevalue("pg_template")
    name = f"baomi_t_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"'))
    yield _pg_url(name), org
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def engine(database: tuple[str, Org]) -> Iterator[Engine]:
    engine = make_engine(database[0])
    yield engine
    engine.dispose()


@pytest.fixture
def org(database: tuple[str, Org]) -> Org:
    return database[1]


@pytest.fixture
def app(engine: Engine, vault: Vault, database: tuple[str, Org], tmp_path: Path) -> FastAPI:
    settings = Settings(home=tmp_path / "home", database_url=database[0])
    # The audit log's signing key, as `baomi init` creates it (nothing else does: C1.3).
    create_log_key(AuditSettings(home=settings.home))
    return create_app(settings=settings, engine=engine, vault=vault)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client
