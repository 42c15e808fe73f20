"""The unsealed window (C1.3): a real `baomi serve` seals what waits when it stops gracefully and,
after a kill -9, when it starts again; `baomi audit verify` never calls unsealed events verified.

Each test runs the real command in a child process on its own SQLite home, with a checkpoint
interval of an hour, so that only the stop, the start or the verification can have sealed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import Engine
from typer.testing import CliRunner

from baomi import runtime
from baomi.audit import store
from baomi.cli.main import app
from baomi.db import make_engine
from tests.audit.conftest import attacker

BAOMI = [sys.executable, "-c", "from baomi.cli.main import app; app()"]
NO_INTERVAL = {"BAOMI_AUDIT_CHECKPOINT_SECONDS": "3600", "BAOMI_AUDIT_CHECKPOINT_EVENTS": "1000000"}


class Home:
    """A BAOMI_HOME: the server runs as a child process, the CLI in this one (it starts faster)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("BAOMI_")}
        self.env.update({"BAOMI_HOME": str(path), "BAOMI_RUN_JOBS": "false", **NO_INTERVAL})

    def run(self, *args: str) -> Result:
        runtime.reset()
        try:
            return CliRunner().invoke(app, list(args))
        finally:
            runtime.get_engine().dispose()
            runtime.reset()

    def engine(self) -> Engine:
        return make_engine(f"sqlite:///{self.path / 'baomi.db'}")

    def unsealed(self) -> tuple[int, datetime | None]:
        engine = self.engine()
        try:
            with engine.connect() as conn:
                return store.unsealed(conn)
        finally:
            engine.dispose()


class Server:
    """`baomi serve` on a free loopback port."""

    def __init__(self, home: Home) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process = subprocess.Popen(
            [*BAOMI, "serve", "--port", str(self.port)],
            env=home.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._wait_until_up()

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"baomi serve exited: {self.process.stderr.read()}")  # type: ignore[union-attr]
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/login", timeout=2)
                return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        raise AssertionError("baomi serve did not answer within 60 s")

    def failed_logins(self, n: int) -> None:
        """Audited requests: each refused sign-in is an auth:login deny event."""
        for i in range(n):
            body = json.dumps({"username": f"nobody{i}", "password": "wrong-password"}).encode()
            request = urllib.request.Request(
                f"http://127.0.0.1:{self.port}/api/v1/auth/login",
                data=body,
                headers={"Content-Type": "application/json"},
            )
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=10)
            assert refused.value.code == 401

    def stop(self, sig: signal.Signals) -> None:
        self.process.send_signal(sig)
        self.process.wait(timeout=60)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Home]:
    home = Home(tmp_path / "home")
    for name in list(os.environ):
        if name.startswith("BAOMI_"):
            monkeypatch.delenv(name)
    for name, value in home.env.items():
        if name.startswith("BAOMI_"):
            monkeypatch.setenv(name, value)
    assert home.run("init").exit_code == 0
    yield home
    runtime.reset()


def _rewrite_a_refusal(home: Home) -> None:
    engine = home.engine()
    try:
        attacker(
            engine,
            "UPDATE audit_events SET reason = 'forged' WHERE id ="
            " (SELECT max(id) FROM audit_events WHERE action = 'auth:login')",
        )
    finally:
        engine.dispose()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_graceful_stop_seals_so_a_later_edit_is_caught(home: Home, sig: signal.Signals) -> None:
    """The issue's reproduction: events written, the server stopped, one event rewritten."""
    server = Server(home)
    server.failed_logins(3)
    assert home.unsealed()[0] >= 3  # the interval did not seal them
    server.stop(sig)
    # Uvicorn shuts down gracefully, then re-raises the signal it caught.
    assert server.process.returncode in (0, -sig)
    assert home.unsealed() == (0, None)
    _rewrite_a_refusal(home)
    verified = home.run("audit", "verify")
    assert verified.exit_code == 1, verified.output
    assert "changed after sealing" in verified.stderr
    assert "audit log verified" not in verified.stdout


def test_a_graceful_stop_leaves_the_database_file_whole(home: Home, tmp_path: Path) -> None:
    """Issue 18: the WAL goes back into baomi.db, so the file alone holds every event."""
    server = Server(home)
    server.failed_logins(3)
    server.stop(signal.SIGTERM)
    wal = home.path / "baomi.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0
    alone = tmp_path / "copy.db"
    shutil.copyfile(home.path / "baomi.db", alone)  # the file only, as a careless copy takes it
    with closing(sqlite3.connect(alone)) as copy:
        copied = copy.execute("SELECT count(*) FROM audit_events").fetchone()[0]
    with closing(sqlite3.connect(home.path / "baomi.db")) as live:
        assert copied == live.execute("SELECT count(*) FROM audit_events").fetchone()[0] >= 3


def test_events_left_by_a_killed_server_are_sealed_on_the_next_start(home: Home) -> None:
    server = Server(home)
    server.failed_logins(3)
    server.stop(signal.SIGKILL)
    count, oldest = home.unsealed()
    assert count >= 3 and oldest is not None

    again = Server(home)  # start-up seals before it answers
    assert home.unsealed() == (0, None)
    again.stop(signal.SIGKILL)  # no graceful seal this time: the start did it
    _rewrite_a_refusal(home)
    verified = home.run("audit", "verify")
    assert verified.exit_code == 1
    assert "changed after sealing" in verified.stderr


def test_verify_seals_what_waits_when_it_holds_the_key(home: Home) -> None:
    server = Server(home)
    server.failed_logins(2)
    server.stop(signal.SIGKILL)
    verified = home.run("audit", "verify")
    assert verified.exit_code == 0, verified.output
    assert "audit log verified" in verified.stdout
    assert home.unsealed() == (0, None)


def test_verify_without_the_key_refuses_unsealed_events(home: Home, tmp_path: Path) -> None:
    """Exit 3, with the count, unless --allow-unsealed; never "verified" over them."""
    server = Server(home)
    server.failed_logins(2)
    server.stop(signal.SIGKILL)
    key = home.path / "audit_log.key"
    vkey = (home.path / "audit_log.vkey").read_text().strip()
    key.rename(tmp_path / "elsewhere.key")  # the auditor's copy has no signing key

    refused = home.run("audit", "verify")
    assert refused.exit_code == 3, refused.output
    assert "covered by no signed checkpoint" in refused.stderr
    assert "audit log verified" not in refused.stdout

    with_key = home.run("audit", "verify", "--key", vkey)
    assert with_key.exit_code == 3

    accepted = home.run("audit", "verify", "--allow-unsealed")
    assert accepted.exit_code == 0, accepted.output
    assert "accepted unsealed" in accepted.stdout
    assert "verified up to checkpoint" in accepted.stdout
    assert not key.exists()  # verification never creates a key of its own
