"""`baomi doctor`: check the installation, read-only, and say what to do about each failure."""

from __future__ import annotations

import stat
from collections.abc import Callable
from dataclasses import dataclass, field

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from baomi import migrate, runtime
from baomi.cli.output import console
from baomi.config import Settings
from baomi.crypto.errors import CryptoError
from baomi.crypto.keys import KeyProvider
from baomi.keystore.service import VersionState, key_status


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class Doctor:
    """Runs the checks in order; later ones use what earlier ones found (and skip without it)."""

    settings: Settings
    results: list[Check] = field(default_factory=list)
    database_ok: bool = False
    provider: KeyProvider | None = None

    def add(self, name: str, ok: bool, detail: str) -> bool:
        self.results.append(Check(name, ok, detail))
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
            self.add("database", False, f"unreachable: {cause}")
            return
        backend = url.split(":", 1)[0]
        self.database_ok = self.add("database", True, f"{backend} reachable")

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
        elif usable - wanted:
            missing = sorted(usable - wanted)
            self.add("key versions", False, f"the key provider lacks versions {missing} in use")
        else:
            self.add("key versions", False, "records out of date: run `baomi keys status`")

    def run(self) -> list[Check]:
        steps: list[Callable[[], None]] = [
            self.home,
            self.database,
            self.keys,
            self.migrations,
            self.master_versions,
        ]
        for step in steps:
            step()
        return self.results


def doctor() -> None:
    """Check the home, database, key file, migrations and master-key records; exit 1 on ✗."""
    runtime.reset()
    results = Doctor(runtime.get_settings()).run()
    table = Table("", "check", "detail")
    for check in results:
        mark = "[green]✓[/green]" if check.ok else "[red]✗[/red]"
        table.add_row(mark, check.name, escape(check.detail))
    console.print(table)
    if not all(check.ok for check in results):
        raise typer.Exit(code=1)
