"""`baomi doctor`: check the installation, read-only, and say what to do about each failure."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from baomi import faults, migrate, runtime
from baomi.audit import export, witness_client
from baomi.audit.checkpoint import CheckpointError, Verifier, parse_skey
from baomi.audit.coverage import NO_WITNESS
from baomi.audit.publish import witnessed_size
from baomi.audit.settings import AuditSettings
from baomi.cli.output import console
from baomi.config import Settings
from baomi.crypto.errors import CryptoError
from baomi.crypto.keys import KeyProvider
from baomi.customers.keycheck import inspect_keys
from baomi.keystore.checks import Finding, key_label
from baomi.keystore.service import VersionState, key_status, unwrap_probe
from baomi.uow import unit_of_work

AUDIT_KEY_ADVICE = (
    "`baomi init` creates it on a new installation; restore it from the key backup otherwise"
)
# A write no one sees: made in a transaction that is always rolled back (SQLite has no other way
# to ask whether the file, its directory and the file system take writes).
_WRITE_PROBE = "CREATE TABLE baomi_doctor_write_probe (id INTEGER)"


class _RollBack(Exception):
    """Ends the trial write's unit of work: whatever it wrote is rolled back."""


def refuses_writes(engine: Engine) -> str | None:
    """Why the database refuses writes, or None; changes nothing (issue 18).

    PostgreSQL says so itself (`default_transaction_read_only`, a standby). A SQLite file that is
    read-only, immutable (`chattr +i`) or on a read-only file system opens and reads as usual;
    only a write shows it, so one is tried in a unit of work that is always rolled back.
    """
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            read_only = conn.execute(text("SELECT current_setting('transaction_read_only')"))
            if read_only.scalar_one() != "on":
                return None
        return (
            "the server makes every transaction read-only "
            "(default_transaction_read_only, or a standby)"
        )
    try:
        with unit_of_work(engine) as conn:
            conn.execute(text(_WRITE_PROBE))
            raise _RollBack
    except _RollBack:
        return None
    except SQLAlchemyError as error:
        fault = faults.database_fault(error)
        if isinstance(fault, faults.DatabaseReadOnly):
            return fault.reason
        raise


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str
    # Works, but weaker than it should be: shown as "!", and no reason to exit 1.
    warn: bool = False


@dataclass
class Doctor:
    """Runs the checks in order; later ones use what earlier ones found (and skip without it)."""

    settings: Settings
    results: list[Check] = field(default_factory=list)
    database_ok: bool = False
    provider: KeyProvider | None = None
    verifier: Verifier | None = None

    @property
    def audit_settings(self) -> AuditSettings:
        return AuditSettings(home=self.settings.home)

    def add(self, name: str, ok: bool, detail: str, warn: bool = False) -> bool:
        self.results.append(Check(name, ok, detail, warn))
        return ok

    def home(self) -> None:
        home = self.settings.home
        if not home.is_dir():
            self.add("home", False, f"{home.resolve()} does not exist: run `baomi init`")
            return
        mode = stat.S_IMODE(home.stat().st_mode)
        advice = "" if mode & 0o077 == 0 else f"; `chmod 700 {home}` is advised"
        self.add("home", True, f"{home.resolve()} (mode {mode:04o}{advice})")

    def database(self) -> None:
        url = self.settings.resolved_database_url
        if not self.settings.database_url and not (self.settings.home / "baomi.db").exists():
            # Connecting would create an empty SQLite file; a doctor changes nothing.
            self.add("database", False, "no baomi.db in BAOMI_HOME: run `baomi init`")
            return
        try:
            with runtime.get_engine().connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError as error:
            cause = str(getattr(error, "orig", None) or error).splitlines()[0]
            home = self.settings.home
            if not self.settings.database_url and not os.access(home, os.W_OK | os.X_OK):
                # Issue 18: SQLite makes baomi.db-wal and -shm beside the file as it opens it.
                cause += (
                    f"; SQLite creates baomi.db-wal and baomi.db-shm in {home}, which takes no "
                    "new files: check its owner, mode, attributes (`lsattr`) and mount"
                )
            self.add("database", False, f"unreachable: {cause}")
            return
        backend = url.split(":", 1)[0]
        self.database_ok = self.add("database", True, f"{backend} reachable")

    def database_writes(self) -> None:
        if not self.database_ok:
            self.add("database writes", False, "skipped: the database is not reachable")
            return
        try:
            refused = refuses_writes(runtime.get_engine())
        except SQLAlchemyError as error:
            cause = str(getattr(error, "orig", None) or error).splitlines()[0]
            self.add("database writes", False, f"a trial write (rolled back) failed: {cause}")
            return
        if refused is None:
            self.add("database writes", True, "the database takes writes")
            return
        where = (
            f"; check the mode and attributes (`lsattr`) of {self.settings.home / 'baomi.db'} "
            "and its directory, and the file system's mount"
            if not self.settings.database_url
            else ""
        )
        self.add("database writes", False, f"read-only: {refused}{where}")

    def keys(self) -> None:
        if self.settings.key_provider == "file":
            path = self.settings.key_file
            if not path.is_file():
                self.add("key file", False, f"{path} is missing: run `baomi init` or restore it")
                return
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & 0o077:
                self.add("key file", False, f"{path} has mode {mode:04o}: `chmod 600 {path}`")
                return
        try:
            self.provider = runtime.get_key_provider()
        except CryptoError as error:
            self.add("master keys", False, str(error))
            return
        file_based = self.settings.key_provider == "file"
        where = f"{self.settings.key_file} (mode 0600)" if file_based else "the environment"
        active = self.provider.active_version()
        self.add("master keys", True, f"load from {where}; active version {active}")

    def migrations(self) -> None:
        if not self.database_ok:
            self.add("migrations", False, "skipped: the database is not reachable")
            return
        current, head = migrate.pending(runtime.get_engine())
        if current == head:
            self.add("migrations", True, f"schema at {head}")
        else:
            self.add(
                "migrations", False, f"schema at {current or 'nothing'}, needs {head}: `baomi init`"
            )

    def master_versions(self) -> None:
        if not self.database_ok or self.provider is None:
            self.add("key versions", False, "skipped: needs the database and the master keys")
            return
        try:
            with runtime.get_engine().connect() as conn:
                report = key_status(conn, self.provider)
        except SQLAlchemyError:
            self.add("key versions", False, "cannot read the key records: run `baomi init`")
            return
        usable = {v.version for v in report.versions if v.status != VersionState.RETIRED}
        active = {v.version for v in report.versions if v.status == VersionState.ACTIVE}
        wanted = set(self.provider.versions())
        if usable == wanted and active == {self.provider.active_version()}:
            self.add("key versions", True, f"versions {sorted(wanted)} on record and in sync")
            self.data_keys_open()
        elif usable - wanted:
            missing = sorted(usable - wanted)
            self.add("key versions", False, f"the key provider lacks versions {missing} in use")
        else:
            self.add("key versions", False, "records out of date: run `baomi keys status`")

    def data_keys_open(self) -> None:
        """One data key per master version opens with the keys loaded (issue 19)."""
        assert self.provider is not None
        with runtime.get_engine().connect() as conn:
            probe = unwrap_probe(conn, self.provider)
        failed = {version: why for version, why in probe.items() if why is not None}
        if failed:
            detail = "; ".join(f"version {v}: {why}" for v, why in sorted(failed.items()))
            self.add("data keys", False, f"do not open: {detail} (wrong key material?)")
        elif probe:
            self.add("data keys", True, f"one per version opens: versions {sorted(probe)}")
        else:
            self.add("data keys", True, "none yet")

    def key_checks(self) -> None:
        """Issue 17: every master version and the index key match their recorded check values.

        Read-only, and no customer is opened: an index key not on record yet says `baomi init`.
        """
        if not self.database_ok or self.provider is None:
            self.add("key checks", False, "skipped: needs the database and the master keys")
            return
        try:
            with runtime.get_engine().connect() as conn:
                found = inspect_keys(conn, self.provider, open_records=False)
        except SQLAlchemyError:
            self.add("key checks", False, "cannot read the key check values: run `baomi init`")
            return
        wrong = [c for c in found if c.finding in (Finding.DIFFERS, Finding.UNPROVEN)]
        if wrong:
            detail = "; ".join(
                c.detail if c.finding is Finding.DIFFERS else f"{key_label(c.name)}: {c.detail}"
                for c in wrong
            )
            if any(c.finding is Finding.DIFFERS for c in wrong):
                detail += " (`baomi serve` refuses to start with it)"
            self.add("key checks", False, detail)
            return
        self.add("key checks", True, ", ".join(key_label(c.name) for c in found) + " match")

    def audit_key(self) -> None:
        """C1.3: the log's signing key, owner-only, and its public half beside it."""
        path = self.audit_settings.resolved_key_file
        vkey = path.with_suffix(".vkey")
        if not path.is_file():
            self.add("audit key", False, f"{path} is missing: {AUDIT_KEY_ADVICE}")
            return
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            self.add("audit key", False, f"{path} has mode {mode:04o}: `chmod 600 {path}`")
            return
        if not vkey.is_file():
            self.add("audit key", False, f"{vkey} is missing: {AUDIT_KEY_ADVICE}")
            return
        try:
            signer = parse_skey(path.read_text())
            verifier = Verifier.parse(vkey.read_text())
        except (CheckpointError, OSError, UnicodeDecodeError) as error:
            self.add("audit key", False, f"{path} or {vkey} cannot be read: {error}")
            return
        if verifier.vkey != signer.verifier.vkey:
            self.add(
                "audit key", False, f"{vkey} is not the public key of {path}: {AUDIT_KEY_ADVICE}"
            )
            return
        self.verifier = verifier
        self.add("audit key", True, f"{path} (mode {mode:04o}) and {vkey.name}")

    def audit_checkpoints(self) -> None:
        """C1.3: the kept checkpoints open and verify, and new ones can be kept beside them.

        `baomi serve` refuses to start on a kept file that does not verify (an empty one is what
        a crash mid-write used to leave), so this says so first.
        """
        directory = self.audit_settings.resolved_export_dir
        if not _writable_or_creatable(directory):
            self.add(
                "audit checkpoints",
                False,
                f"{directory} cannot be written: new checkpoints "
                "cannot be kept (check its owner, mode and file system)",
            )
            return
        if self.verifier is None:
            self.add("audit checkpoints", False, "skipped: needs the audit key's .vkey")
            return
        newest = []
        for kind in ("checkpoint", "witnessed"):
            try:
                kept = export.latest(directory, self.verifier, kind)
            except (CheckpointError, OSError, UnicodeDecodeError) as error:
                self.add(
                    "audit checkpoints",
                    False,
                    f"{error}: `baomi serve` refuses to start on it; "
                    "`baomi audit status` and `baomi audit verify` say more",
                )
                return
            if kept is not None:
                newest.append(f"{kind} {kept.size}")
        shown = ", newest " + " and ".join(newest) if newest else ", none kept yet"
        self.add("audit checkpoints", True, f"{directory} writable{shown}")

    def witness(self) -> None:
        """Issue 17.6: a witness holds what the log co-signed beyond the database and home.

        Asking it is a read (the same GET the start-up check makes); nothing is co-signed.
        """
        settings = self.audit_settings
        if not settings.witness_configured:
            received = 0
            if self.database_ok:
                with runtime.get_engine().connect() as conn:
                    received = witnessed_size(conn)
            gone = f"a witness co-signed this log up to {received} but none is configured now"
            self.add("witness", not received, gone if received else NO_WITNESS, warn=True)
            return
        if self.verifier is None:
            self.add("witness", False, "skipped: needs the audit key's .vkey")
            return
        try:
            target = witness_client.client(settings, self.verifier)
            assert target is not None
            latest = witness_client.latest_checkpoint(target, self.verifier)
        except (CheckpointError, OSError) as error:
            self.add("witness", False, f"{error}: sealing fails, `baomi serve` refuses to start")
            return
        shown = f"{target.where}, co-signed up to {latest.size if latest else 0}"
        if settings.witness_url and not settings.witness_key:
            shown += "; set BAOMI_AUDIT_WITNESS_KEY to check its cosignatures"
        elif not settings.witness_url:
            shown += (
                ": out of reach of the database and BAOMI_HOME, not of this account; in "
                "production run it on another machine or account (docs/operations.md#the-witness)"
            )
        self.add("witness", True, shown, warn=not (settings.witness_url and settings.witness_key))

    def run(self) -> list[Check]:
        steps: list[Callable[[], None]] = [
            self.home,
            self.database,
            self.database_writes,
            self.keys,
            self.migrations,
            self.master_versions,
            self.key_checks,
            self.audit_key,
            self.audit_checkpoints,
            self.witness,
        ]
        for step in steps:
            step()
        return self.results


def _writable_or_creatable(directory: Path) -> bool:
    """Whether files can be made in `directory`, or in the nearest ancestor that exists."""
    for candidate in (directory, *directory.parents):
        if candidate.exists():
            return candidate.is_dir() and os.access(candidate, os.W_OK | os.X_OK)
    return False


def doctor() -> None:
    """Check the home, database (and that it takes writes), key files, migrations, master-key
    records, that the keys are the database's own (key check values), and the audit log's key,
    kept checkpoints and witness; exit 1 on any ✗ (a ! warns)."""
    runtime.reset()
    results = Doctor(runtime.get_settings()).run()
    table = Table("", "check", "detail")
    for check in results:
        mark = (
            "[red]✗[/red]"
            if not check.ok
            else "[yellow]![/yellow]"
            if check.warn
            else "[green]✓[/green]"
        )
        table.add_row(mark, check.name, escape(check.detail))
    console.print(table)
    if not all(check.ok for check in results):
        raise typer.Exit(code=1)
