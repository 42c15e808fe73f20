"""The `baomi` command: one Typer sub-app per command group, each calling the services."""

from __future__ import annotations

import typer

from baomi.cli import account_changes, audit, doctor, grants, jobs, keys, server, users, witness

app = typer.Typer(
    name="baomi",
    help="baomi (保密): the confidential customer-data vault.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)

# Sub-apps register themselves here, one line each.
app.add_typer(keys.app, name="keys")
users.user_app.command("changes")(account_changes.list_changes)
users.user_app.command("approve")(account_changes.approve_change)
users.user_app.command("reject")(account_changes.reject_change)
app.add_typer(users.user_app, name="user")
app.add_typer(users.department_app, name="department")
app.add_typer(grants.app, name="grant")
app.command("init")(server.init)
app.command("serve")(server.serve)
app.command("demo")(server.demo)
app.command("doctor")(doctor.doctor)
app.add_typer(audit.app, name="audit")
app.add_typer(witness.app, name="witness")
app.add_typer(jobs.app, name="jobs")
