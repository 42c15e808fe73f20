"""`baomi keys`: rotate, retire and inspect master keys (C4.2.2 managed keys)."""

from __future__ import annotations

import base64
import getpass

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from baomi import runtime
from baomi.cli.output import err_console
from baomi.crypto.errors import CryptoError
from baomi.crypto.keys import parse_master_keys, random_key
from baomi.errors import BaomiError
from baomi.keystore import rotation, service
from baomi.runtime import get_engine, get_key_provider
from baomi.uow import unit_of_work

app = typer.Typer(help="Master keys: rotate, retire, status, new.", no_args_is_help=True)
console = Console()


def _operator() -> str:
    # The CLI runs on the server as an OS account; that account is who the audit log names.
    return f"os:{getpass.getuser()}"[:64]


def _fail(error: Exception) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {escape(str(error))}")
    return typer.Exit(code=1)


@app.command()
def rotate(
    batch_size: int = typer.Option(500, min=1, help="Data keys rewrapped per transaction."),
) -> None:
    """Add a master-key version and rewrap every data key under it (online, resumable).

    Damaged wrapped keys are passed over and named, and the command exits 1 (issue 17).
    """
    try:
        engine, provider = get_engine(), get_key_provider()
        with Progress(
            TextColumn("[bold]rewrapping data keys"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
        ) as bar:
            task = bar.add_task("rotate", total=None)

            def report(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            result = rotation.rotate(
                engine,
                provider,
                batch_size=batch_size,
                progress=report,
                actor_username=_operator(),
                mail=runtime.mail_on(),
            )
    except (BaomiError, CryptoError) as error:
        raise _fail(error) from None
    if result.damaged:
        # Issue 17: the others are rewrapped; these are named, and the rotation stays open.
        named = ", ".join(key.describe() for key in result.damaged)
        err_console.print(
            f"[red]error:[/red] master key version {result.target_version} is active; "
            f"{result.rewrapped} data keys rewrapped, {len(result.damaged)} damaged: "
            f"{escape(named)}. Their wrapped keys fail authentication (tampered with or "
            "corrupted in the database); they stay under their old version, which cannot be "
            "retired until they are restored from a database backup (then run `baomi keys "
            "rotate` again) or their records destroyed. The security officers are told."
        )
        raise typer.Exit(code=1)
    console.print(
        f"Master key version {result.target_version} is active; "
        f"{result.rewrapped} data keys rewrapped."
    )


@app.command()
def new(
    version: int | None = typer.Option(
        None,
        "--version",
        min=1,
        help="Its version (default: one above the highest in BAOMI_MASTER_KEYS, else 1).",
    ),
) -> None:
    """Print a new random master key as a BAOMI_MASTER_KEYS entry (the env provider's keys).

    Nothing is stored: append the entry to BAOMI_MASTER_KEYS on every instance, restart them,
    then run `baomi keys rotate`. The key is a secret: keep it where the other keys are kept.
    """
    if version is None:
        try:
            current = runtime.get_settings().master_keys
            version = max(parse_master_keys(current)) + 1 if current else 1
        except CryptoError as error:
            raise _fail(error) from None
    entry = f"{version}:{base64.b64encode(random_key()).decode()}"
    typer.echo(entry)


@app.command()
def retire(
    version: int = typer.Argument(..., help="The master-key version to erase."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
) -> None:
    """Erase a master-key version that no data key uses any more (irreversible)."""
    if not yes:
        typer.confirm(f"Erase master key version {version} for good?", abort=True)
    try:
        rotation.retire(
            get_engine(), get_key_provider(), version=version, actor_username=_operator()
        )
    except (BaomiError, CryptoError) as error:
        raise _fail(error) from None
    console.print(f"Master key version {version} retired and erased.")


@app.command()
def status() -> None:
    """Show master-key versions and how many data keys each one wraps."""
    try:
        provider = get_key_provider()
        with unit_of_work(get_engine()) as conn:
            service.ensure_master_versions(conn, provider)
            report = service.key_status(conn, provider)
    except (BaomiError, CryptoError) as error:
        raise _fail(error) from None
    table = Table("version", "status", "data keys", "created", "retired")
    for info in report.versions:
        table.add_row(
            str(info.version),
            info.status,
            str(info.data_keys),
            f"{info.created_at:%Y-%m-%d %H:%M}",
            f"{info.retired_at:%Y-%m-%d %H:%M}" if info.retired_at else "",
        )
    console.print(table)
    console.print(f"Shredded data keys: {report.shredded}")
    if report.rotation_target is not None:
        console.print(
            f"[yellow]A rotation to version {report.rotation_target} is unfinished: "
            "run `baomi keys rotate` to resume it.[/yellow]"
        )
