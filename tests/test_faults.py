"""Faults beneath a request get problem codes of their own (issue 18, "clearer faults").

A database that cannot be reached, one that refuses writes and a master key file deleted while
the server runs each answer 503 with a stable code and a Retry-After, in problem+json for the
API and as the error page for the web UI: never a generic 500 `internal_error`, and never
`integrity_failure`, which speaks of tampering with stored data. Real databases throughout: a
PostgreSQL port nothing listens on, a PostgreSQL database refusing connections or set read-only,
a SQLite file out of reach or immutable.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, text
from structlog.testing import capture_logs

from baomi.app import create_app
from baomi.config import Settings
from baomi.crypto.keys import KeyProvider, LocalKeyFileProvider
from baomi.customers.vault import Vault
from baomi.db import make_engine
from baomi.faults import RETRY_AFTER_SECONDS
from tests.conftest import _pg_admin
from tests.support.api import PROVENANCE, create_customer, login
from tests.support.org import Org
from tests.support.read_only import read_only
from tests.web.forms import browser, csrf_token
from tests.web.forms import login as web_login

PROBLEM_JSON = "application/problem+json"


def _assert_problem(response: Response, code: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["code"] == code
    assert body["type"] == f"urn:baomi:problem:{code}"
    assert response.headers["retry-after"] == str(RETRY_AFTER_SECONDS)


def _assert_error_page(response: Response, code: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert code in response.text
    assert response.headers["retry-after"] == str(RETRY_AFTER_SECONDS)


def _app(url: str, vault: Vault, home: Path) -> FastAPI:
    return create_app(
        settings=Settings(home=home, database_url=url), engine=make_engine(url), vault=vault
    )


# --- the database cannot be reached -----------------------------------------------------------


@pytest.fixture(
    params=[
        # Nothing listens on port 1: the connection is refused, as with PostgreSQL down.
        "postgresql://postgres@127.0.0.1:1/baomi",
        # A SQLite file in a directory that is not there (an unmounted volume, a moved home).
        "sqlite",
    ]
)
def unreachable(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    url = str(request.param)
    return f"sqlite:///{tmp_path / 'unmounted' / 'baomi.db'}" if url == "sqlite" else url


def test_an_unreachable_database_answers_503_database_unavailable(
    unreachable: str, vault: Vault, tmp_path: Path
) -> None:
    app = _app(unreachable, vault, tmp_path / "home")
    with TestClient(app, raise_server_exceptions=False) as client, capture_logs() as logs:
        listed = client.get("/api/v1/customers", headers={"Authorization": "Bearer whatever"})
        logged_in = client.post("/api/v1/auth/login", json={"username": "a", "password": "b"})
    _assert_problem(listed, "database_unavailable")
    _assert_problem(logged_in, "database_unavailable")
    assert [e["event"] for e in logs] == ["database_unavailable", "database_unavailable"]
    # Nothing was created where the file should be (an empty database would hide the fault).
    assert not (tmp_path / "unmounted").exists()


def test_an_unreachable_database_shows_the_error_page(
    unreachable: str, vault: Vault, tmp_path: Path
) -> None:
    app = _app(unreachable, vault, tmp_path / "home")
    with browser(app) as client:
        form = client.get("/login")  # served without the database
        assert form.status_code == 200
        response = client.post(
            "/login",
            data={"username": "zhangsan", "password": "x", "csrf_token": csrf_token(form.text)},
        )
    _assert_error_page(response, "database_unavailable")
    assert "数据库" in response.text  # the page's own words, in the default language


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
@pytest.mark.postgres
def test_postgresql_refusing_connections_while_serving_answers_503(
    client: TestClient, database: tuple[str, Org]
) -> None:
    """The server was up and serving; then the database stops taking connections."""
    headers = login(client, "zhangsan")
    assert client.get("/api/v1/customers", headers=headers).status_code == 200
    name = database[0].rsplit("/", 1)[1]
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
        conn.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
            {"name": name},
        )
    admin.dispose()
    _assert_problem(client.get("/api/v1/customers", headers=headers), "database_unavailable")


# --- the database refuses writes ----------------------------------------------------------------


@contextmanager
def _refusing_writes(backend: str, url: str, engine: Engine) -> Iterator[None]:
    """SQLite: the file made read-only (immutable as root, tests/support/read_only.py);
    PostgreSQL: every new session read-only, as on a standby. Connections open until now are
    closed, so that the next request opens one on the read-only database."""
    engine.dispose()
    if backend == "sqlite":
        with read_only(Path(url.removeprefix("sqlite:///"))):
            yield
        return
    admin = _pg_admin()
    with admin.connect() as conn:
        name = url.rsplit("/", 1)[1]
        conn.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))
    admin.dispose()
    yield


def test_a_read_only_database_answers_503_database_read_only(
    app: FastAPI, client: TestClient, engine: Engine, database: tuple[str, Org], backend: str
) -> None:
    headers = login(client, "zhangsan")
    with browser(app) as web:
        web_login(web, "zhangsan")
        with _refusing_writes(backend, database[0], engine), capture_logs() as logs:
            listed = client.get("/api/v1/customers", headers=headers)
            filed = client.post(
                "/api/v1/customers", json={"name": "只读客户", **PROVENANCE}, headers=headers
            )
            page = web.get("/customers")
    _assert_problem(listed, "database_read_only")
    _assert_problem(filed, "database_read_only")
    _assert_error_page(page, "database_read_only")
    assert {e["event"] for e in logs} == {"database_read_only"}
    assert not [e for e in logs if e["event"] == "unhandled_error"]


# --- the master key file is deleted while the server runs ----------------------------------------


def test_a_key_file_deleted_while_serving_answers_503_key_unavailable(
    engine: Engine, database: tuple[str, Org], key_provider: KeyProvider, tmp_path: Path
) -> None:
    """Not `integrity_failure`: nothing stored was tampered with, a file is missing (C4.2.2).

    The keys loaded at start stay in memory, so stored data still opens; a new customer needs a
    new data key under the active version, which rereads the file, and that is what fails.
    """
    assert isinstance(key_provider, LocalKeyFileProvider)
    home = tmp_path / "home"
    home.mkdir()
    key_file = home / "master.key"
    shutil.copy2(key_provider.path, key_file)
    vault = Vault.from_provider(LocalKeyFileProvider.load(key_file))
    settings = Settings(home=home, database_url=database[0])
    app = create_app(settings=settings, engine=engine, vault=vault)
    with TestClient(app) as client:
        headers = login(client, "zhangsan")
        filed = create_customer(client, headers, name="删钥匙前的客户")
        key_file.unlink()
        with capture_logs() as logs:
            read = client.get(f"/api/v1/customers/{filed['id']}", headers=headers)
            refused = client.post(
                "/api/v1/customers", json={"name": "删钥匙后的客户", **PROVENANCE}, headers=headers
            )
    assert read.status_code == 200, read.text
    _assert_problem(refused, "key_unavailable")
    assert "integrity" not in refused.text
    assert [e["event"] for e in logs] == ["key_unavailable"]
    assert str(key_file) in logs[0]["reason"]  # the log names the missing file
    assert "key backup" in logs[0]["reason"]
