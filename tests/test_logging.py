"""The log file failing to take a line (a full disk) costs log lines, never responses (issue 18).

The disk is really full: BAOMI_HOME/logs/baomi.log is a link to /dev/full, where every write
fails with ENOSPC, and the app is served through `RequestLog` as `baomi serve` does.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from baomi import logging as baomi_logging
from baomi.config import Settings
from baomi.logging import LogFile
from tests.support.api import login

FULL = Path("/dev/full")
pytestmark = pytest.mark.skipif(not FULL.exists(), reason="needs /dev/full (Linux)")


def _fails_with_enospc() -> None:
    fd = os.open(FULL, os.O_WRONLY)
    try:
        with pytest.raises(OSError) as raised:
            os.write(fd, b"x")
        assert raised.value.errno == errno.ENOSPC
    finally:
        os.close(fd)


@pytest.fixture
def full_disk_log(tmp_path: Path) -> Iterator[Path]:
    """The server's logging configured (`baomi_logging.configure`) onto a full disk."""
    _fails_with_enospc()
    settings = Settings(home=tmp_path / "home")
    settings.log_dir.mkdir(parents=True)
    baomi_logging.log_path(settings).symlink_to(FULL)
    yield baomi_logging.configure(settings)
    baomi_logging.close()


def test_requests_are_answered_while_the_log_cannot_be_written(
    app: FastAPI, full_disk_log: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    def crash() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/api/v1/test-crash", crash)
    served = baomi_logging.RequestLog(app)
    with TestClient(served, raise_server_exceptions=False) as client:
        headers = login(client, "zhangsan")
        listed = client.get("/api/v1/customers", headers=headers)
        # A real 500: its handler logs too, and still answers in problem+json.
        crashed = client.get("/api/v1/test-crash")
        refused = client.get("/api/v1/customers")  # 401, logged as well
    assert listed.status_code == 200, listed.text
    assert listed.headers["content-type"] == "application/json"
    assert crashed.status_code == 500
    assert crashed.headers["content-type"] == "application/problem+json"
    assert crashed.json()["code"] == "internal_error"
    assert refused.status_code == 401
    assert refused.json()["code"] == "not_authenticated"
    # One line per request (and the crash's own line) lost, each counted...
    assert baomi_logging.write_failures() >= 5
    # ...and reported once, not per request, naming the file and never a line of it.
    err = capfd.readouterr().err
    reports = [line for line in err.splitlines() if "cannot write the log" in line]
    assert len(reports) == 1, err
    assert str(full_disk_log) in reports[0]
    assert "No space left on device" in reports[0]
    assert "/api/v1/customers" not in err and "http_request" not in err


def test_the_log_says_when_writes_succeed_again(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """The disk freed: lines are written whole again, and stderr says how many were lost."""
    path = tmp_path / "baomi.log"
    fd = os.open(FULL, os.O_WRONLY)
    log = LogFile(fd, path)
    assert log.write('{"event": "lost"}\n') == 0
    assert log.write('{"event": "lost too"}\n') == 0
    # The same descriptor now points at a file with room (what freeing the disk amounts to).
    roomy = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(roomy, fd)
    os.close(roomy)
    log.write('{"event": "kept"}\n')
    assert log.write(json.dumps({"event": "kept too"}) + "\n") > 0
    log.close()
    assert log.failures == 2
    assert [json.loads(line)["event"] for line in path.read_text().splitlines()] == [
        "kept",
        "kept too",
    ]
    err = capfd.readouterr().err.splitlines()
    assert len(err) == 2, err
    assert "cannot write the log" in err[0]
    assert "again (2 lines lost so far)" in err[1]
