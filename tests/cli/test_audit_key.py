"""The audit log's signing key is created by `baomi init` and by nothing else (C1.3, issue 18).

A missing key used to be replaced silently by `serve`, the sealer and even `audit verify`: the
new key then signed checkpoints no verifier of the existing log trusted, while the server went
on serving with sealing failing every second. Now a missing key is refused, saying what to do.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest

from baomi.audit import runner
from baomi.audit.checkpoint import MissingSigningKey
from baomi.audit.settings import AuditSettings
from baomi.cli import server
from tests.cli.conftest import Invoke


def _must_not_run(app: Any, host: str, port: int) -> None:
    raise AssertionError("the server must not start")


def test_init_creates_the_key_once_and_keeps_it(backend_home: Path, cli: Invoke) -> None:
    first = cli("init")
    assert first.exit_code == 0, first.output
    key, vkey = backend_home / "audit_log.key", backend_home / "audit_log.vkey"
    assert "audit log signing key" in first.stdout and "created" in first.stdout
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and vkey.is_file()
    kept = key.read_bytes()
    again = cli("init")
    assert again.exit_code == 0, again.output
    assert key.read_bytes() == kept


def test_serve_refuses_to_start_without_the_key(
    initialised: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server, "_run_uvicorn", _must_not_run)
    (initialised / "audit_log.key").unlink()
    result = cli("serve")
    assert result.exit_code == 1
    assert "no audit log signing key" in result.stderr and "baomi init" in result.stderr
    assert not (initialised / "audit_log.key").exists()


def test_verify_says_the_key_is_missing_and_creates_none(initialised: Path, cli: Invoke) -> None:
    (initialised / "audit_log.key").unlink()
    (initialised / "audit_log.vkey").unlink()
    result = cli("audit", "verify")
    assert result.exit_code == 1
    assert "no audit log signing key" in result.stderr
    assert "Traceback" not in result.output
    assert not (initialised / "audit_log.key").exists()
    assert not (initialised / "audit_log.vkey").exists()


def test_init_will_not_replace_the_key_of_a_signed_log(initialised: Path, cli: Invoke) -> None:
    """A signed log needs its own key back: a new one would fork the log's trust."""
    assert cli("audit", "verify").exit_code == 0  # records its own event and seals it
    (initialised / "audit_log.key").unlink()
    result = cli("init")
    assert result.exit_code == 1
    assert "restore it from your key backup" in result.stderr
    assert not (initialised / "audit_log.key").exists()


def test_the_sealer_refuses_instead_of_making_a_key(initialised: Path) -> None:
    settings = AuditSettings(home=initialised)
    (initialised / "audit_log.key").unlink()
    assert not runner.can_sign(settings)
    with pytest.raises(MissingSigningKey):
        runner.log_signer(settings)
    assert not (initialised / "audit_log.key").exists()
