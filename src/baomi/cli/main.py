"""The `baomi` command: one Typer sub-app per command group, each calling the services."""

from __future__ import annotations

import typer

from baomi.cli import keys

app = typer.Typer(
    name="baomi",
    help="baomi (保密): the confidential customer-data vault.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)

# Sub-apps register themselves here, one line each.
app.add_typer(keys.app, name="keys")
