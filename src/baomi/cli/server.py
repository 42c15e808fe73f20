"""`baomi init`, `baomi serve` and `baomi demo`: set up BAOMI_HOME and run the web service."""

from __future__ import annotations

import gc
import ipaddress
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
import uvicorn
from rich.markup import escape
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from baomi import logging as baomi_logging
from baomi import migrate, runtime
from baomi.app import create_app
from baomi.audit import runner, store
from baomi.audit.checkpoint import CheckpointError
from baomi.audit.context import CLI_CONTEXT
from baomi.audit.coverage import NO_WITNESS
from baomi.audit.runner import startup_check
from baomi.audit.settings import AuditSettings
from baomi.cli.output import console, fail, user_errors
from baomi.config import Settings
from baomi.crypto.keys import KeyProvider, LocalKeyFileProvider, provider_from_settings
from baomi.customers.keycheck import enforce_keys
from baomi.customers.upgrade import Resealed, needs_sealing, seal_legacy_rows
from baomi.customers.vault import Vault
from baomi.errors import BaomiError, Conflict
from baomi.keystore.checks import Finding
from baomi.keystore.service import (
    VersionState,
    ensure_master_versions,
    key_status,
    recorded_versions,
)
from baomi.uow import unit_of_work


@dataclass(frozen=True, slots=True)
class InitResult:
    home: Path
    already: bool
    key_file_created: bool
    migrated_from: str | None
    revision: str | None
    master_version: int
    audit_key_created: bool = False
    audit_key_file: Path | None = None
    # Keys whose check value could not be proven yet (issue 17): said, not refused.
    unproven: tuple[str, ...] = ()
    # The witness that co-signs the log's checkpoints (issue 17.6), and whether it was made now.
    witness: str | None = None
    witness_created: bool = False
    # Records from before row tags, sealed and tagged by this run (issue 17.5, 17.9).
    resealed: Resealed | None = None


def schema_revisions(engine: Engine) -> tuple[str | None, str | None]:
    """Return (current, head) or raise a BaomiError saying why the database is unreachable."""
    try:
        return migrate.pending(engine)
    except SQLAlchemyError as error:
        cause = str(getattr(error, "orig", None) or error).splitlines()[0]
        raise BaomiError(
            f"cannot reach the database: {cause}", code="database_unreachable"
        ) from None


def _prepare_home(settings: Settings) -> bool:
    """Create BAOMI_HOME (0700) and its logs directory; return whether the home existed."""
    home = settings.home
    existed = home.is_dir()
    if not existed:
        home.mkdir(parents=True, mode=0o700)
        home.chmod(0o700)  # mkdir's mode is filtered through the umask
    settings.log_dir.mkdir(exist_ok=True, mode=0o700)
    return existed


def _versions_on_record(engine: Engine) -> int:
    # Read-only bookkeeping check made before any key exists, so no provider can be asked yet.
    with engine.connect() as conn:
        return recorded_versions(conn)


def _provider(settings: Settings, engine: Engine) -> tuple[KeyProvider, bool]:
    """Load the key provider, creating the key file only for a database that has no keys yet."""
    if settings.key_provider != "file" or settings.key_file.exists():
        return provider_from_settings(settings), False
    if _versions_on_record(engine):
        # A new key file could never open the data keys already in this database.
        raise Conflict(
            f"the key file {settings.key_file} is missing but the database already holds data "
            "keys: restore master.key from your backup; init will not create a new one",
            code="key_file_missing",
        )
    return LocalKeyFileProvider.create(settings.key_file, settings.key_passphrase), True


def _audit_key(settings: Settings, engine: Engine) -> tuple[Path, bool]:
    """Create the audit log's signing key for a log that has none yet (C1.3); say if it did.

    Nothing else creates it: a log already signed needs its own key back, from the key backup,
    since checkpoints signed by a new key would not be trusted by its verifiers (issue 18).
    """
    audit = AuditSettings(home=settings.home)
    path = audit.resolved_key_file
    if not path.exists():
        with engine.connect() as conn:
            signed = store.last_checkpoint(conn) is not None
        if signed:
            raise Conflict(
                f"the audit log signing key {path} is missing but the log is already signed: "
                "restore it from your key backup; init will not create a new one",
                code="audit_key_missing",
            )
    return path, runner.create_log_key(audit)


def _witness(settings: Settings, engine: Engine) -> tuple[str | None, bool]:
    """Open (or, for a log never witnessed, make) the local witness; say which one covers the log.

    The demo gets one beside its home when none is configured, so every checkpoint it signs is
    co-signed where an older copy of the home cannot reach (issue 17.6).
    """
    audit = AuditSettings(home=settings.home)
    if audit.witness_url:
        return audit.witness_url, False
    directory = audit.resolved_witness_dir or (audit.demo_witness_dir if settings.demo else None)
    if directory is None:
        return None, False
    try:
        local, created = runner.ensure_local_witness(engine, audit, directory)
    except (OSError, CheckpointError) as error:
        raise Conflict(str(error), code="witness_missing") from None
    return local.where, created


def _sync_versions(engine: Engine, provider: KeyProvider) -> None:
    with unit_of_work(engine) as conn:
        status = key_status(conn, provider)
        recorded = {v.version for v in status.versions if v.status != VersionState.RETIRED}
        if unknown := sorted(recorded - set(provider.versions())):
            # ensure_master_versions would mark them retired for good: refuse instead.
            raise Conflict(
                f"the database uses master key versions {unknown} that the key provider does "
                "not have: check BAOMI_KEY_PROVIDER and the keys it reads",
                code="master_versions_missing",
            )
        ensure_master_versions(conn, provider)


def check_keys(engine: Engine, provider: KeyProvider) -> tuple[str, ...]:
    """Refuse a master or index key this database was not written with (issue 17), by name.

    Records the check values proven by now; returns what could not be proven yet.
    """
    with unit_of_work(engine) as conn:
        found = enforce_keys(conn, provider, ctx=CLI_CONTEXT)
    return tuple(c.detail for c in found if c.finding is Finding.UNPROVEN)


def _say_unproven(unproven: tuple[str, ...]) -> None:
    for detail in unproven:
        console.print(f"  [yellow]! key check: {escape(detail)}[/yellow]")


def initialise(settings: Settings) -> InitResult:
    """Create or check BAOMI_HOME, the key file, the schema and the master-key records."""
    home_existed = _prepare_home(settings)
    engine = runtime.create_database()
    before, _ = schema_revisions(engine)
    migrate.upgrade(engine)
    current, _ = schema_revisions(engine)
    provider, created = _provider(settings, engine)
    _sync_versions(engine, provider)
    unproven = check_keys(engine, provider)
    resealed = None
    if needs_sealing(before):
        with unit_of_work(engine) as conn:
            resealed = seal_legacy_rows(conn, provider, CLI_CONTEXT)
    audit_key_file, audit_key_created = _audit_key(settings, engine)
    witness, witness_created = _witness(settings, engine)
    baomi_logging.configure(settings)
    baomi_logging.get_logger().info(
        "init", key_file_created=created, migrated=before != current, revision=current
    )
    return InitResult(
        home=settings.home.resolve(),
        already=home_existed and not created and before is not None,
        key_file_created=created,
        migrated_from=before if before != current else None,
        revision=current,
        master_version=provider.active_version(),
        audit_key_created=audit_key_created,
        audit_key_file=audit_key_file,
        unproven=unproven,
        resealed=resealed,
        witness=witness,
        witness_created=witness_created,
    )


def _report(result: InitResult, settings: Settings) -> None:
    if result.already:
        console.print(f"BAOMI_HOME {result.home} is already initialised; checked it:")
    else:
        console.print(f"Initialised BAOMI_HOME at {result.home}:")
    if settings.key_provider == "file":
        made = "created" if result.key_file_created else "loads"
        console.print(f"  ✓ key file {settings.key_file} {made} (mode 0600)")
    else:
        console.print("  ✓ master keys from the environment (BAOMI_MASTER_KEYS) load")
    moved = f" (upgraded from {result.migrated_from})" if result.migrated_from else ""
    console.print(f"  ✓ database schema at {result.revision}{moved}")
    console.print(f"  ✓ master key version {result.master_version} active and on record")
    console.print("  ✓ the keys are the ones this database was written with (key check values)")
    _say_unproven(result.unproven)
    if (resealed := result.resealed) is not None:
        console.print(
            f"  ✓ {resealed.customers} customers and {resealed.grants} grants sealed under row "
            "tags and revisions"
        )
        for customer_id in resealed.damaged:
            console.print(
                f"  [yellow]! customer {customer_id} failed its integrity check and was left "
                "as it is: it reads as damaged (the officer is told on each read)[/yellow]"
            )
    made = "created" if result.audit_key_created else "loads"
    console.print(f"  ✓ audit log signing key {result.audit_key_file} {made} (mode 0600)")
    if result.witness is None:
        console.print(f"  [yellow]! {NO_WITNESS}[/yellow]")
    else:
        made = " (created)" if result.witness_created else ""
        console.print(f"  ✓ witness: {escape(result.witness)}{made} co-signs every checkpoint")


def url_of(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def is_loopback(host: str) -> bool:
    """Whether the address only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def freeze_startup_heap() -> None:
    """Keep what exists at start (modules, the app, its caches) out of the garbage collector.

    None of it ever becomes garbage, yet every full collection walked it: pauses of ~70 ms that
    set the p99 of every route under load (benchmarks/bench_http.py).
    """
    gc.collect()
    gc.freeze()


def refuse_a_taken_port(host: str, port: int) -> None:
    """Fail before saying "serving on" when another process already listens there."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as error:
        fail(f"cannot listen on {host}: {error}")
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # As uvicorn binds: SO_REUSEADDR, so a port in TIME_WAIT is not called taken.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError:
            fail(
                f"port {port} on {host} is taken by another program: stop it, or choose "
                "another port with --port or BAOMI_PORT (make run PORT=…)"
            )


def _run_uvicorn(app: Any, host: str, port: int) -> None:
    freeze_startup_heap()
    # Uvicorn's access log would print query strings (查重 values); RequestLog logs paths only.
    uvicorn.run(app, host=host, port=port, access_log=False)


def _serve(settings: Settings, host: str, port: int) -> None:
    if not settings.database_url and not settings.home.is_dir():
        fail(f"BAOMI_HOME {settings.home.resolve()} does not exist: run `baomi init` first")
    with user_errors():
        engine = runtime.get_engine()
        current, head = schema_revisions(engine)
        if current != head:
            fail(
                f"the database schema is at {current or 'nothing (empty database)'} but this "
                f"version needs {head}: run `baomi init` to migrate it, then serve again"
            )
        # C2.2: BAOMI_LEVELS and levels.toml are read and checked here; a bad file stops us.
        vault = Vault.from_settings(settings, runtime.get_key_provider())
        # Issue 17: a wrong master or index key stops us here, by name, before any request.
        unproven = check_keys(engine, vault.provider)
    _say_unproven(unproven)
    audit_settings = AuditSettings(home=settings.home)
    # C1.3: without its key the log cannot be sealed, and a new key is never made here.
    if not runner.can_sign(audit_settings):
        fail(
            f"no audit log signing key at {audit_settings.resolved_key_file}: `baomi init` "
            "creates it for a new installation; otherwise restore it from the key backup"
        )
    # C1.3: a database restored to an older copy would quietly fork the sealed audit log.
    if problem := startup_check(engine, audit_settings):
        fail(f"the audit log does not match its kept checkpoints: {problem} (`baomi audit status`)")
    app = create_app(
        settings=settings,
        engine=engine,
        vault=vault,
        seal_in_background=True,
        # Reminders, expiry notices and mail (BAOMI_RUN_JOBS=false leaves them to cron).
        run_jobs_in_background=settings.run_jobs,
        # Issue 19.5: the master-key versions this instance holds, for `baomi keys rotate`.
        announce_instance=True,
    )
    refuse_a_taken_port(host, port)
    baomi_logging.configure(settings)
    baomi_logging.get_logger().info("serve", host=host, port=port, demo=settings.demo)
    console.print(f"baomi is serving on [bold]{url_of(host, port)}[/bold]")
    console.print(f"  API docs: {url_of(host, port)}/api/docs   (Ctrl-C stops it)")
    _run_uvicorn(baomi_logging.RequestLog(app), host, port)


HOST = typer.Option(None, "--host", help="Address to listen on (default BAOMI_HOST, 127.0.0.1).")
PORT = typer.Option(None, "--port", min=1, max=65535, help="Port (default BAOMI_PORT, 8000).")


def init() -> None:
    """Create BAOMI_HOME (0700), the key file (0600), the schema; check an existing home."""
    runtime.reset()
    settings = runtime.get_settings()
    with user_errors():
        result = initialise(settings)
    _report(result, settings)


def serve(host: str | None = HOST, port: int | None = PORT) -> None:
    """Run the web service (the schema must be current: `baomi init` migrates it)."""
    runtime.reset()
    settings = runtime.get_settings()
    _serve(settings, host or settings.host, port or settings.port)


def demo(
    host: str = typer.Option("127.0.0.1", "--host", help="Loopback address only."),
    port: int | None = typer.Option(
        None, "--port", min=1, max=65535, help="Port (default BAOMI_PORT, 8000)."
    ),
) -> None:
    """Initialise, seed the demo company (published passwords) and serve on this machine only."""
    if not is_loopback(host):
        fail(
            f"demo mode refuses --host {host}: its passwords are published, so it listens on "
            "this machine only (127.0.0.1, ::1 or localhost)",
            code=2,
        )
    from baomi.demo.seed import seed_if_empty

    runtime.reset()
    settings = runtime.get_settings().model_copy(update={"demo": True})
    with user_errors():
        _report(initialise(settings), settings)
        vault = Vault.from_settings(settings, runtime.get_key_provider())
        outcome = seed_if_empty(runtime.get_engine(), vault, settings)
    if outcome.seeded:
        console.print(
            f"Seeded the demo company: {outcome.users} people, {outcome.customers} customers."
        )
    else:
        console.print("The database already has users; the demo company was not seeded again.")
    if outcome.logins:
        console.print("\nDemo logins (username / password / TOTP secret for MFA roles):")
        for username, password, secret, role in outcome.logins:
            console.print(f"  {username:<10} {password}   {secret:<32}   {role}")
        console.print(f"They are also in {outcome.credentials_file} (mode 0600).")
    _serve(settings, host, port or settings.port)
