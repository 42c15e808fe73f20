"""`baomi jobs`: list the scheduled jobs, or run them from cron (`baomi jobs run --once`).

Runs share the leases of the server's in-process runner, so cron and any number of servers can
run side by side: each due job run happens once.
"""

from __future__ import annotations

import time
from datetime import datetime

import typer
from rich.table import Table

from baomi import clock, migrate, runtime
from baomi.cli.output import console, fail, user_errors
from baomi.customers.vault import Vault
from baomi.jobs import lease
from baomi.jobs.catalog import default_registry
from baomi.jobs.runner import JobRunner, RunOutcome

app = typer.Typer(help="Scheduled jobs: list, run.", no_args_is_help=True)


def _runner() -> JobRunner:
    settings = runtime.get_settings()
    engine = runtime.get_engine()
    with user_errors():
        current, head = migrate.pending(engine)
    if current != head:
        fail(
            f"the database schema is at {current or 'nothing (empty database)'} but this "
            f"version needs {head}: run `baomi init` first"
        )
    with user_errors():
        vault = Vault.from_settings(settings, runtime.get_key_provider())
    registry = default_registry(settings, vault)
    return JobRunner(engine, registry, lease_seconds=settings.job_lease_seconds)


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC" if moment else "—"


def _show(outcomes: list[RunOutcome]) -> None:
    if not outcomes:
        console.print("No job was due.")
        return
    for outcome in outcomes:
        counts = ", ".join(f"{k} {v}" for k, v in outcome.counts.items())
        if outcome.status == "ok":
            console.print(f"[green]✓[/green] {outcome.name}" + (f": {counts}" if counts else ""))
        elif outcome.status == "skipped":
            console.print(f"· {outcome.name}: taken by another runner")
        else:
            console.print(f"[red]✗[/red] {outcome.name}: {outcome.error}")


@app.command("list")
def list_jobs() -> None:
    """Show each job: interval, last run, its status and the next run."""
    runner = _runner()
    now = clock.utcnow()
    with runner.engine.connect() as conn:
        rows = lease.states(conn)
    table = Table("job", "every", "last started", "last finished", "status", "next due", "lease")
    for job in runner.registry:
        row = rows.get(job.name)
        status = (row.last_status or "never run") if row else "never run"
        if row is not None and row.last_status == "failed":
            status = f"[red]failed[/red]: {row.last_error or ''}"
        held = row is not None and row.lease_until is not None and row.lease_until > now
        table.add_row(
            job.name,
            str(job.every),
            _when(row.last_started_at if row else None),
            _when(row.last_finished_at if row else None),
            status,
            _when(row.next_due_at if row else None),
            f"{row.lease_owner} until {_when(row.lease_until)}" if held and row else "",
        )
    console.print(table)


@app.command("run")
def run(
    once: bool = typer.Option(False, "--once", help="Run what is due, then exit (for cron)."),
    job: str | None = typer.Option(None, "--job", help="Run this job now, due or not."),
) -> None:
    """Run due jobs: once (`--once`, for cron), one job now (`--job`), or until Ctrl-C."""
    runner = _runner()
    if job is not None:
        with user_errors():
            outcome = runner.run_one(job)
        _show([outcome])
        if outcome.status == "failed":
            raise typer.Exit(code=1)
        return
    if once:
        outcomes = runner.run_due()
        _show(outcomes)
        if any(o.status == "failed" for o in outcomes):
            raise typer.Exit(code=1)
        return
    poll = runtime.get_settings().job_poll_seconds
    console.print(f"Running jobs every {poll:g} s (Ctrl-C stops).")
    try:
        while True:
            if outcomes := [o for o in runner.run_due() if o.status != "skipped"]:
                _show(outcomes)
            time.sleep(poll)
    except KeyboardInterrupt:
        console.print("Stopped.")
