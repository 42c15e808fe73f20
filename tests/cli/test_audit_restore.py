"""Accepting a restored database (C1.3, issue 18): refused while it is silent, accepted in the
open by a security officer, with the gap on record and the newer checkpoints kept as evidence."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import select

from baomi import runtime
from baomi.audit import runner, store
from baomi.audit.models import audit_events
from baomi.audit.settings import AuditSettings
from tests.cli.conftest import Invoke
from tests.support.org import PASSWORD, build_org, recovery_codes

OFFICER = ("--as", "baomiyuan", "--password-stdin")


def _officer_secrets(code: int = 0) -> str:
    return f"{PASSWORD}\n{recovery_codes('baomiyuan')[code]}\n"


def _copy(source: Path, target: Path) -> None:
    """SQLite's online backup: how docs/backup.md says to copy a live database."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def _restore(backup: Path, home: Path) -> None:
    """Put the backup back, through SQLite (the backup API writes into the live file)."""
    runtime.get_engine().dispose()
    _copy(backup, home / "baomi.db")
    runtime.reset()


@pytest.fixture
def restored(initialised: Path, cli: Invoke, tmp_path: Path) -> tuple[Path, int, int]:
    """A log sealed, backed up, sealed further, then the backup restored over it."""
    build_org(runtime.get_engine(), runtime.get_key_provider())
    assert cli("audit", "seal").exit_code == 0
    backup = tmp_path / "backup.db"
    _copy(initialised / "baomi.db", backup)
    with runtime.get_engine().connect() as conn:
        backed_up = store.tree_size(conn)
    assert cli("audit", "verify").exit_code == 0  # its own event, sealed: a newer checkpoint
    with runtime.get_engine().connect() as conn:
        newest = store.tree_size(conn)
    _restore(backup, initialised)
    return initialised, backed_up, newest


def test_a_restored_copy_is_refused_until_an_officer_accepts_it(
    restored: tuple[Path, int, int], cli: Invoke
) -> None:
    home, backed_up, newest = restored
    settings = AuditSettings(home=home)
    problem = runner.startup_check(runtime.get_engine(), settings)
    assert problem is not None and "older copy" in problem
    assert cli("audit", "verify").exit_code == 1

    accepted = cli("audit", "accept-restore", "--yes", *OFFICER, input=_officer_secrets())
    assert accepted.exit_code == 0, accepted.output
    assert f"up to checkpoint {backed_up}" in accepted.stdout
    assert str(newest) in accepted.stdout

    assert runner.startup_check(runtime.get_engine(), settings) is None
    verified = cli("audit", "verify")
    assert verified.exit_code == 0, verified.output
    # The newer checkpoints are set aside, not deleted: the evidence of the gap.
    [aside] = list(settings.resolved_export_dir.glob("superseded-*"))
    assert f"checkpoint.{newest:020d}" in {p.name for p in aside.iterdir()}
    with runtime.get_engine().connect() as conn:
        [(decision, details)] = conn.execute(
            select(audit_events.c.decision, audit_events.c.details).where(
                audit_events.c.action == "audit:restore_accept"
            )
        ).all()
    assert decision == "allow"
    assert details["restored_to"] == backed_up and details["newest_superseded"] == newest


def test_only_a_security_officer_accepts_and_the_refusal_is_on_record(
    restored: tuple[Path, int, int], cli: Invoke
) -> None:
    home, _, _ = restored
    refused = cli(
        "audit", "accept-restore", "--yes", "--as", "zhangsan", "--password-stdin",
        input=f"{PASSWORD}\n",
    )  # fmt: skip
    assert refused.exit_code == 1
    assert "security officer" in refused.stderr
    assert runner.startup_check(runtime.get_engine(), AuditSettings(home=home)) is not None
    with runtime.get_engine().connect() as conn:
        decisions = conn.execute(
            select(audit_events.c.decision).where(audit_events.c.action == "audit:restore_accept")
        ).scalars()
        assert list(decisions) == ["deny"]


def test_a_database_that_is_not_behind_has_nothing_to_accept(
    initialised: Path, cli: Invoke
) -> None:
    assert cli("audit", "verify").exit_code == 0
    nothing = cli("audit", "accept-restore", "--yes", *OFFICER, input=_officer_secrets())
    assert nothing.exit_code == 1
    assert "not behind" in nothing.stderr
