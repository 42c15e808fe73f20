"""`baomi import FILE --as USERNAME`: file a ledger's customers into the vault (C4.1.3).

The person importing becomes the handler of every customer filed (C1.3) and states once where
the data came from and on what lawful basis it is held (C4.1.1): `--source` and `--basis`, asked
for when not given. `--dry-run` checks everything and files nothing; `--json` prints the report,
`--report OUT.xlsx` writes it with a row per problem; an interrupted import goes on with
`--resume ID` (the id is printed when it starts). The work is imports/service.py's.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import Engine

from baomi import runtime
from baomi.audit.context import CLI_CONTEXT
from baomi.cli.identity import AS_USER, SECRETS_STDIN, acting_person
from baomi.cli.output import console, err_console, fail, user_errors
from baomi.customers.schemas import LawfulBasis
from baomi.customers.vault import Vault
from baomi.imports import report_file, service
from baomi.imports.headers import normalised_overrides
from baomi.imports.schemas import ImportReport, Options
from baomi.security.actor import Actor
from baomi.uow import unit_of_work

# Lines of each kind of problem printed before "… and N more" (the report file has them all).
SHOWN = 20
BASES = ", ".join(basis.value for basis in LawfulBasis)


def import_(
    path: Path = typer.Argument(..., help="The ledger: .xlsx, or .csv (UTF-8 or GB 18030)."),
    as_user: str = AS_USER,
    source: str | None = typer.Option(
        None, "--source", help="Where the data came from, e.g. 2024 展会名片 (asked if not given)."
    ),
    basis: LawfulBasis | None = typer.Option(
        None, "--basis", help=f"The lawful basis it is held on: {BASES} (asked if not given)."
    ),
    level: str = typer.Option("normal", "--level", help="The level of every customer filed."),
    mapping: list[str] = typer.Option(
        [],
        "--map",
        help="HEADER=TARGET for a column the importer does not know (TARGET: name, phones, "
        "emails, id_number, address, notes, … or ignore); repeatable.",
    ),
    move_found: bool = typer.Option(
        False,
        "--move-found",
        help="Move phones, IDs, cards and e-mails found in 备注 and other "
        "free text into their own fields.",
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check and report; file nothing."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    report_path: Path | None = typer.Option(
        None, "--report", help="Also write the report to this .xlsx file, a row per problem."
    ),
    resume: str | None = typer.Option(
        None, "--resume", help="Go on with an interrupted import (the same file)."
    ),
    password_stdin: bool = SECRETS_STDIN,
) -> None:
    """File a ledger's customers (xlsx/csv): checked, de-duplicated, reported; resumable."""
    if resume and dry_run:
        fail("--dry-run checks a file afresh; it cannot resume an import", code=2)
    with user_errors({"path": "FILE", "source": "--source", "level": "--level"}):
        if not path.is_file():
            fail(f"no such file: {path}")
        options = (
            None if resume else _options(source, basis, level, mapping, move_found, password_stdin)
        )
        engine = runtime.get_engine()
        with unit_of_work(engine) as conn:
            actor = acting_person(conn, as_user, password_stdin)
        vault = Vault.from_settings(runtime.settings(), runtime.get_key_provider())
        report = _run(engine, actor, vault, path, options, dry_run, resume, quiet=as_json)
    if report_path is not None:
        report_file.write(report, report_path)
    if as_json:
        typer.echo(json.dumps(report.model_dump(), ensure_ascii=False, indent=2))
    else:
        _show(report)
        if report_path is not None:
            console.print(f"Report written to {escape(str(report_path))}.")


def _options(
    source: str | None,
    basis: LawfulBasis | None,
    level: str,
    mapping: list[str],
    move_found: bool,
    from_stdin: bool,
) -> Options:
    """C4.1.1: source and lawful basis, asked once for the whole import."""
    if (source is None or basis is None) and from_stdin:
        fail("give --source and --basis: stdin holds the password", code=2)
    if source is None:
        source = typer.prompt("Where did these customers' data come from (source)")
    if basis is None:
        basis = LawfulBasis(typer.prompt(f"Lawful basis ({BASES})", default="contract"))
    pairs: dict[str, str] = {}
    for item in mapping:
        header, sep, target = item.partition("=")
        if not sep or not header.strip():
            fail(f"--map takes HEADER=TARGET, not {item!r}", code=2)
        pairs[header.strip()] = target.strip()
    try:
        normalised_overrides(pairs)
    except ValueError as error:
        fail(f"--map: {error}", code=2)
    return Options(
        source=source, lawful_basis=basis, level=level, mapping=pairs, move_found=move_found
    )


def _run(
    engine: Engine,
    actor: Actor,
    vault: Vault,
    path: Path,
    options: Options | None,
    dry_run: bool,
    resume: str | None,
    *,
    quiet: bool,
) -> ImportReport:
    """Run the import with a progress bar on stderr; say how to resume when interrupted."""
    started: list[str] = []
    bar = Progress(
        TextColumn("[bold]importing[/bold]" if not dry_run else "[bold]checking[/bold]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=quiet,
    )
    task = bar.add_task("rows", total=None)
    try:
        with bar:
            report = service.run(
                engine,
                actor=actor,
                ctx=CLI_CONTEXT,
                vault=vault,
                path=path,
                options=options,
                dry_run=dry_run,
                resume=resume,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
                started=started.append,
            )
    except KeyboardInterrupt:
        if started:
            fail(
                f"interrupted; what was filed stays filed. Go on with: baomi import "
                f"{path} --as {actor.username} --resume {started[0]}",
                code=130,
            )
        raise
    return report


def _show(report: ImportReport) -> None:
    table = Table(
        "rows",
        "customers",
        "imported",
        "in the file twice",
        "on file already",
        "invalid values",
        "in free text",
    )
    table.add_row(
        str(report.rows),
        str(report.customers),
        str(report.imported),
        str(report.duplicates_in_file),
        str(report.duplicates_in_company),
        str(len(report.invalid_values)),
        str(len(report.sensitive_in_text)),
    )
    console.print(table)
    for sheet in report.sheets:
        if sheet.header_row is None:
            console.print(f"sheet {escape(sheet.name)}: no header row, not read (notes?)")
        elif sheet.unmapped:
            unmapped = ", ".join(escape(c) for c in sheet.unmapped)
            console.print(f"sheet {escape(sheet.name)}: columns not imported: {unmapped} (--map)")
    for met in report.company_duplicates[:SHOWN]:
        handler = met.handler or {}
        if met.outcome == "on_file":
            who = f"{handler.get('username')} ({handler.get('department')})"
            console.print(
                f"{escape(met.sheet)} row {met.row}: on file already ({met.field}), handled by "
                f"{escape(who)}: ask for access to customer {met.customer_id}"
            )
        else:
            console.print(f"{escape(met.sheet)} row {met.row}: not filed, a candidate is damaged")
    _more(len(report.company_duplicates))
    for bad in report.invalid_values[:SHOWN]:
        console.print(
            f"{escape(bad.sheet)} row {bad.row}: {bad.field} {escape(bad.value_masked)!s} kept out "
            f"({bad.problem})"
        )
    _more(len(report.invalid_values))
    for found in report.sensitive_in_text[:SHOWN]:
        where = "moved to" if found.moved else "belongs in"
        console.print(
            f"{escape(found.sheet)} row {found.row}: a {found.kind} in {found.field} "
            f"({escape(found.value_masked)}), {where} {found.move_to}"
        )
    _more(len(report.sensitive_in_text))
    if report.dry_run:
        console.print("Dry run: nothing was filed.")
    elif report.sensitive_in_text and not any(f.moved for f in report.sensitive_in_text):
        console.print("Identifiers found in free text stay there; --move-found moves them.")


def _more(count: int) -> None:
    if count > SHOWN:
        console.print(f"… and {count - SHOWN} more (--report OUT.xlsx lists them all)")
