"""The `baomi` command: one Typer sub-app per command group, each calling the services.

A command group is imported when it runs, not to print `baomi --help`: importing every group
pulled in SQLAlchemy, the app and every service, and `baomi --help` took ~4 s (issue 19). The
top-level help is printed from the short help kept below; tests/cli/test_lazy_main.py checks it
matches each command's own, and that `--help` imports no group.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from typing import Any

import typer
from typer import _click as click  # Typer's own copy of click, which its classes are built on
from typer.core import TyperCommand, TyperGroup


@dataclass(frozen=True, slots=True)
class Entry:
    """Where a top-level command lives, and its one-line help for `baomi --help`."""

    module: str
    attribute: str
    help: str


# In the order `baomi --help` lists them.
COMMANDS: dict[str, Entry] = {
    "init": Entry(
        "baomi.cli.server",
        "init",
        "Create BAOMI_HOME (0700), the key file (0600), the schema; check an existing home.",
    ),
    "serve": Entry(
        "baomi.cli.server",
        "serve",
        "Run the web service (the schema must be current: `baomi init` migrates it).",
    ),
    "demo": Entry(
        "baomi.cli.server",
        "demo",
        "Initialise, seed the demo company (published passwords) and serve on this machine only.",
    ),
    "doctor": Entry(
        "baomi.cli.doctor",
        "doctor",
        "Check the home, database (and that it takes writes), key files, migrations, master-key "
        "records, that the keys are the database's own (key check values), and the audit log's "
        "key, kept checkpoints and witness; exit 1 on any ✗ (a ! warns).",
    ),
    "keys": Entry("baomi.cli.keys", "app", "Master keys: rotate, retire, status, new."),
    "user": Entry(
        "baomi.cli.users",
        "user_app",
        "People: add, activate, edit, roles, move, reset-password, changes, approve, disable, "
        "enable.",
    ),
    "department": Entry(
        "baomi.cli.departments", "department_app", "Departments: add, rename, move, head, list."
    ),
    "grant": Entry("baomi.cli.grants", "app", "Time-bound access grants: add, revoke, list."),
    "audit": Entry(
        "baomi.cli.audit", "app", "The tamper-evident audit log: verify, proofs, search."
    ),
    "witness": Entry(
        "baomi.cli.witness", "app", "Run a witness that co-signs audit-log checkpoints."
    ),
    "jobs": Entry("baomi.cli.jobs", "app", "Scheduled jobs: list, run."),
    "import": Entry(
        "baomi.cli.imports",
        "import_",
        "File a ledger's customers (xlsx/csv): checked, de-duplicated, reported; resumable.",
    ),
    "scan": Entry(
        "baomi.cli.scan",
        "scan",
        "Find files holding customer data (phones, IDs, credit codes, cards, e-mails); read-only.",
    ),
}


@cache
def load(name: str) -> click.Command:
    """Import a top-level command's module and build its click command."""
    entry = COMMANDS[name]
    target: Any = getattr(importlib.import_module(entry.module), entry.attribute)
    if name == "user":
        _add_account_changes(target)
    command: click.Command
    if isinstance(target, typer.Typer):
        command = typer.main.get_group(target)  # completion options are the top level's only
    else:
        single = typer.Typer(add_completion=False)
        single.command(name)(target)
        command = typer.main.get_command(single)
    command.name = name
    return command


def _add_account_changes(user_app: typer.Typer) -> None:
    """`baomi user changes | approve | reject`: the officer's decisions, beside the user group."""
    from baomi.cli import account_changes

    user_app.command("changes")(account_changes.list_changes)
    user_app.command("approve")(account_changes.approve_change)
    user_app.command("reject")(account_changes.reject_change)


class LazyGroup(TyperGroup):
    """The top-level group: commands are loaded when run; help lists them from COMMANDS."""

    _listing = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        if self._listing:
            return TyperCommand(cmd_name, help=entry.help)
        return load(cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; a refusal or fault it did not handle ends in one red line, exit 1."""
        try:
            return super().invoke(ctx)
        except Exception as error:
            # Imported here, once something failed: --help stays free of the database layer.
            from baomi.cli.output import fail
            from baomi.errors import BaomiError
            from baomi.faults import translate

            known = error if isinstance(error, BaomiError) else translate(error)
            if known is None:
                raise
            fail(f"{known.detail} ({known.code})")

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


app = typer.Typer(
    name="baomi",
    cls=LazyGroup,
    help="baomi (保密): the confidential customer-data vault.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


@app.callback()
def main() -> None:
    """baomi (保密): the confidential customer-data vault."""
