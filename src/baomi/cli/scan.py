"""`baomi scan PATH [--json]`: find private ledgers on a disk or share (C4.1.3).

Lists the files (xlsx, csv, docx, pdf text, txt, eml) that hold customer identifiers, with
counts per kind, found by check digits. With `--as` the person's vault is asked how many are
customers on file: a salesperson or head over their own customers, the security officer over
the company's (customers/known.py says why). Without it the OS account scans and nothing is
looked up. The scan changes nothing; it is audited with counts only.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from baomi import runtime
from baomi.audit.context import CLI_CONTEXT
from baomi.cli.identity import SECRETS_STDIN, acting_person, console_actor
from baomi.cli.output import console, user_errors
from baomi.customers.vault import Vault
from baomi.ledgers import service
from baomi.ledgers.schemas import ScanReport
from baomi.security.actor import AnyActor
from baomi.uow import unit_of_work

_HEADINGS = {
    "phone": "phones",
    "id_number": "ID numbers",
    "uscc": "credit codes",
    "bank_card": "bank cards",
    "email": "e-mails",
}


def scan(
    path: Path = typer.Argument(..., help="The folder (or one file) to scan."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    as_user: str | None = typer.Option(
        None,
        "--as",
        help="Count matches with customers as this person (password and one-time code); "
        "without it nothing is looked up.",
    ),
    password_stdin: bool = SECRETS_STDIN,
) -> None:
    """Find files holding customer data (phones, IDs, credit codes, cards, e-mails); read-only."""
    with user_errors({"path": "PATH"}), unit_of_work(runtime.get_engine()) as conn:
        vault = Vault.from_settings(runtime.settings(), runtime.get_key_provider())
        actor: AnyActor = (
            acting_person(conn, as_user, password_stdin) if as_user else console_actor()
        )
        report = service.scan(conn, actor=actor, ctx=CLI_CONTEXT, vault=vault, root=path)
    if as_json:
        typer.echo(json.dumps(report.model_dump(), ensure_ascii=False, indent=2))
        return
    _show(report)


def _show(report: ScanReport) -> None:
    if not report.files:
        console.print(f"No customer data found in {report.files_seen} file(s) read.")
        return
    table = Table("file", *_HEADINGS.values(), "customers matched")
    for item in report.files:
        if item.error:
            table.add_row(escape(item.path), f"[yellow]unreadable: {escape(item.error)}[/yellow]")
            continue
        matched = "—" if item.matched is None else str(item.matched)
        table.add_row(escape(item.path), *(str(item.counts[k]) for k in _HEADINGS), matched)
    console.print(table)
    holding = sum(1 for f in report.files if f.error is None)
    line = f"{holding} of {report.files_seen} file(s) hold customer data"
    if report.scope is None:
        line += "; not matched against the vault (give --as to count customers on file)"
    else:
        line += f"; {report.matched} value(s) are customers on file ({report.scope} customers)"
    console.print(line)
