"""`baomi init`, `serve` and `demo`: a private home, keys never overwritten, loopback-only demo."""

from __future__ import annotations

import base64
import json
import os
import socket
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from baomi import migrate, runtime
from baomi.cli import server
from baomi.demo import seed
from tests.cli.conftest import Invoke


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_creates_a_private_home_and_key_file(backend_home: Path, cli: Invoke) -> None:
    """C4.2.2: keys kept apart from data, readable by the service account only."""
    result = cli("init")
    assert result.exit_code == 0, result.output
    assert "Initialised BAOMI_HOME" in result.stdout
    assert _mode(backend_home) == 0o700
    assert _mode(backend_home / "master.key") == 0o600
    assert (backend_home / "logs").is_dir()
    current, head = migrate.pending(runtime.get_engine())
    assert current == head


def test_second_init_checks_and_never_overwrites_keys(backend_home: Path, cli: Invoke) -> None:
    assert cli("init").exit_code == 0
    keys = (backend_home / "master.key").read_bytes()
    again = cli("init")
    assert again.exit_code == 0, again.output
    assert "already initialised" in again.stdout
    assert (backend_home / "master.key").read_bytes() == keys


def test_init_will_not_replace_a_lost_key_file(initialised: Path, cli: Invoke) -> None:
    """A new key could never open the data keys already wrapped in the database."""
    (initialised / "master.key").unlink()
    result = cli("init")
    assert result.exit_code == 1
    assert "restore master.key" in result.stderr
    assert "Traceback" not in result.output
    assert not (initialised / "master.key").exists()


def test_init_reports_a_loose_key_file(initialised: Path, cli: Invoke) -> None:
    (initialised / "master.key").chmod(0o644)
    result = cli("init")
    assert result.exit_code == 1
    assert "chmod 600" in result.stderr


def test_serve_refuses_an_unmigrated_database(
    home: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server, "_run_uvicorn", _must_not_run)
    home.mkdir()
    result = cli("serve")
    assert result.exit_code == 1
    assert "run `baomi init`" in result.stderr


def test_serve_refuses_a_missing_home(
    home: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server, "_run_uvicorn", _must_not_run)
    result = cli("serve")
    assert result.exit_code == 1
    assert "does not exist: run `baomi init`" in result.stderr
    assert not home.exists()


def _must_not_run(app: Any, host: str, port: int) -> None:
    raise AssertionError("the server must not start")


def test_serve_starts_the_app_and_logs_paths_without_values(
    initialised: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: dict[str, Any] = {}

    def fake_run(app: Any, host: str, port: int) -> None:
        started.update(app=app, host=host, port=port)

    monkeypatch.setattr(server, "_run_uvicorn", fake_run)
    result = cli("serve", "--port", "8123")
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8123" in result.stdout
    assert (started["host"], started["port"]) == ("127.0.0.1", 8123)
    with TestClient(started["app"]) as client:
        assert client.get("/api/openapi.json").status_code == 200
        # A 查重 query carries a customer value in its query string.
        client.get("/api/v1/customers/check", params={"phone": "13912345678"})
    log = (initialised / "logs" / "baomi.log").read_text()
    lines = [json.loads(line) for line in log.splitlines()]
    paths = [line["path"] for line in lines if line["event"] == "http_request"]
    assert paths == ["/api/openapi.json", "/api/v1/customers/check"]
    assert "13912345678" not in log


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "example.com"])
def test_demo_refuses_a_non_loopback_host(home: Path, cli: Invoke, host: str) -> None:
    """Demo passwords are published: the demo listens on this machine only."""
    result = cli("demo", "--host", host)
    assert result.exit_code == 2
    assert "this machine only" in result.stderr
    assert not home.exists()


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("10.0.0.1", False),
        ("baomi.lan", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert server.is_loopback(host) is loopback


def test_demo_seeds_once_writes_credentials_and_serves_on_loopback(
    home: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(seed, "DEMO_CUSTOMERS", 12)  # the full 200 are checked in tests/demo
    started: dict[str, Any] = {}
    monkeypatch.setattr(server, "_run_uvicorn", lambda app, host, port: started.update(app=app))
    result = cli("demo", "--port", "8124")
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8124" in result.stdout
    assert "8 people, 12 customers" in result.stdout
    credentials = home / "demo-credentials.txt"
    assert _mode(credentials) == 0o600
    lines = credentials.read_text().splitlines()
    assert len(lines) == 8
    assert "zhangsan baomi-demo-2026 -" in lines
    assert str(credentials) in result.stdout
    assert started["app"].app.state.settings.demo is True

    again = cli("demo", "--port", "8124")
    assert again.exit_code == 0, again.output
    assert "already initialised" in again.stdout
    assert "not seeded again" in again.stdout
    assert "baomiyuan" in again.stdout


def test_demo_without_its_extra_says_how_to_install_it(
    home: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    """faker is the `demo` extra: without it the demo explains itself instead of a traceback."""
    monkeypatch.setitem(sys.modules, "faker", None)  # what an install without the extra has
    monkeypatch.setattr(server, "_run_uvicorn", lambda app, host, port: None)
    result = cli("demo", "--port", "8124")
    assert result.exit_code == 1
    assert "uv sync --extra demo" in result.stderr and "baomi[demo]" in result.stderr
    assert "Traceback" not in result.output
    assert not (home / "demo-credentials.txt").exists()


def _env_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def test_init_refuses_an_env_provider_missing_versions_in_use(
    home: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Marking a version in use as retired would make its data unreadable for good (C4.2.2)."""
    first = f"1:{_env_key()}"
    monkeypatch.setenv("BAOMI_KEY_PROVIDER", "env")
    monkeypatch.setenv("BAOMI_INDEX_KEY", _env_key())
    monkeypatch.setenv("BAOMI_MASTER_KEYS", first)
    assert cli("init").exit_code == 0
    assert not (home / "master.key").exists()
    monkeypatch.setenv("BAOMI_MASTER_KEYS", f"2:{_env_key()}")
    wrong = cli("init")
    assert wrong.exit_code == 1
    assert "does not have" in wrong.stderr
    monkeypatch.setenv("BAOMI_MASTER_KEYS", first)
    assert cli("doctor").exit_code == 0  # version 1 is still on record as active


def test_demo_listens_where_baomi_port_says(
    home: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 19: `make run` could not move off port 8000 (BAOMI_PORT was ignored by the demo)."""
    monkeypatch.setattr(seed, "DEMO_CUSTOMERS", 3)
    started: dict[str, Any] = {}
    monkeypatch.setattr(
        server, "_run_uvicorn", lambda app, host, port: started.update(host=host, port=port)
    )
    monkeypatch.setenv("BAOMI_PORT", str(_free_port()))
    result = cli("demo")
    assert result.exit_code == 0, result.output
    port = int(os.environ["BAOMI_PORT"])
    assert started == {"host": "127.0.0.1", "port": port}
    assert f"http://127.0.0.1:{port}" in result.stdout


def test_a_taken_port_fails_before_serving_is_announced(
    initialised: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server, "_run_uvicorn", _must_not_run)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli("serve", "--port", str(port))
    assert result.exit_code == 1
    assert f"port {port} on 127.0.0.1 is taken" in result.stderr
    assert "serving on" not in result.stdout
    assert "Traceback" not in result.output


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
