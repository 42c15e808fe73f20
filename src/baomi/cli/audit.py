"""`baomi audit`: seal, verify, prove and search the tamper-evident audit log (C1.3, C6)."""

from __future__ import annotations

import getpass
import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from baomi.audit import coverage, proofcheck, proofs, runner, search, service
from baomi.audit.checkpoint import CheckpointError, Verifier, open_checkpoint
from baomi.audit.context import CLI_CONTEXT
from baomi.audit.guards import postgres_grants
from baomi.audit.sealing import SealRefused
from baomi.audit.tags import Action, Decision
from baomi.audit.verify import verify as verify_log
from baomi.audit.witness_client import WitnessUnavailable
from baomi.cli.audit_restore import accept_restore
from baomi.cli.output import console, err_console, fail
from baomi.errors import BaomiError
from baomi.runtime import get_audit_settings, get_engine
from baomi.uow import unit_of_work

app = typer.Typer(
    help="The tamper-evident audit log: verify, proofs, search.", no_args_is_help=True
)


def _operator() -> str:
    # The CLI runs on the server as an OS account; that account is who the audit log names.
    return f"os:{getpass.getuser()}"[:64]


def _audit_read(action: Action, reason: str, **extra: Any) -> None:
    """Record that someone read or checked the log (the log audits its own readers)."""
    with unit_of_work(get_engine()) as conn:
        service.record(
            conn,
            ctx=CLI_CONTEXT,
            actor_id=None,
            actor_username=_operator(),
            action=action,
            decision=Decision.ALLOW,
            reason=reason,
            **extra,
        )


def _print_json(doc: Any) -> None:
    typer.echo(json.dumps(doc, ensure_ascii=False, indent=2))


@app.command()
def seal() -> None:
    """Seal waiting events now and sign, export and witness a checkpoint."""
    try:
        sealed = runner.seal_now(get_engine(), get_audit_settings())
    except (SealRefused, CheckpointError, OSError, RuntimeError) as error:
        fail(str(error))
    if sealed is None:
        console.print("Nothing to seal (or another sealer is running).")
    else:
        console.print(f"Sealed {sealed.new_leaves} events; checkpoint size {sealed.size}.")


# `baomi audit verify` exit codes (documented in its help and docs/cli.md).
VERIFIED, FAILED, UNSEALED, WITNESS_UNAVAILABLE = 0, 1, 3, 4


def _seal_before_verifying(explicit_key: bool) -> str | None:
    """Seal what waits when this process holds the log key; return why it could not, or None.

    With `--key` the caller checks against a key of their choosing (an auditor's copy of the
    database): nothing is signed then, only checked.
    """
    if explicit_key:
        return "verifying with --key: nothing is sealed"
    settings = get_audit_settings()
    if not runner.can_sign(settings):
        return f"no signing key at {settings.resolved_key_file}"
    try:
        runner.seal_all(get_engine(), settings)
    except SealRefused as error:
        # Evidence of tampering: the full verification below names what was changed.
        return f"the sealer refused to sign: {error}"
    except (CheckpointError, OSError) as error:
        return f"cannot sign: {error}"
    return None


@app.command()
def verify(
    key: str | None = typer.Option(
        None, help="The log's verifier key, or its .vkey file (default: BAOMI_HOME's)."
    ),
    allow_unsealed: bool = typer.Option(
        False,
        "--allow-unsealed",
        help="Accept events that no signed checkpoint covers (they are reported, not verified).",
    ),
) -> None:
    """Seal what waits, then re-hash every event, rebuild the tree, check every checkpoint,
    the witness's last co-signed one included.

    Exit codes: 0 verified (every event is covered by a signed checkpoint); 1 verification
    failed (a rollback below what the witness co-signed included); 3 some events are covered by
    no signed checkpoint and this process cannot seal them (no signing key, or --key given):
    they could have been rewritten unseen (--allow-unsealed accepts them explicitly); 4 the
    configured witness cannot be asked, so a rollback cannot be ruled out.
    """
    try:
        settings = get_audit_settings()
        log_key = verifier_from(key) if key else runner.log_verifier(settings)
    except (CheckpointError, OSError) as error:
        fail(str(error))
    _audit_read(Action.AUDIT_VERIFY, "full_verification")
    # C1.3: the verification's own event is sealed too, so a clean log verifies to the end.
    cannot_seal = _seal_before_verifying(explicit_key=key is not None)
    engine = runner.reader(get_engine())
    try:
        external = runner.external_checkpoints(log_key, settings)
        with engine.connect() as conn:
            paired = coverage.assess(conn, log_key, settings)
    except WitnessUnavailable as error:
        fail(
            f"{error}: the log cannot be compared with what its witness co-signed, so a "
            "rollback cannot be ruled out",
            code=WITNESS_UNAVAILABLE,
        )
    except (CheckpointError, OSError) as error:
        fail(str(error))
    with (
        Progress(
            TextColumn("[bold]verifying audit events"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console,
        ) as bar,
        engine.connect() as conn,
    ):
        total = conn.exec_driver_sql("SELECT count(*) FROM audit_events").scalar()
        task = bar.add_task("verify", total=total)
        report = verify_log(
            conn, log_key, external=external, progress=lambda n: bar.advance(task, n)
        )
    rate = report.events / report.seconds if report.seconds else 0.0
    console.print(
        f"{report.events} events, {report.sealed} covered by {report.checkpoints} signed "
        f"checkpoints, kept outside: {', '.join(report.external) or 'none'}; "
        f"{report.seconds:.2f}s ({rate:,.0f} events/s)"
    )
    _say_coverage(paired)
    problems = [p for p in (paired.problem, report.problem and report.problem.message) if p]
    if problems:
        fail(f"verification FAILED: {'; '.join(problems)}", code=FAILED)
    # A log that went back verifies only as what it is: one with an accepted gap.
    gaps = (
        f", with {len(paired.restores)} accepted restore(s) named above" if paired.restores else ""
    )
    if report.pending and cannot_seal is None:
        # Sealed just now, so these arrived from a running server during the verification;
        # its sealer signs them within its interval.
        console.print(
            f"[green]audit log verified[/green]{gaps} up to checkpoint {report.sealed}; "
            f"{report.pending} events written since are being sealed by the server"
        )
        return
    if report.pending and not allow_unsealed:
        fail(
            f"{report.pending} events are covered by no signed checkpoint ({cannot_seal}): "
            "they could have been changed without trace. Seal them with `baomi audit seal` "
            "where the log key is, or accept them with --allow-unsealed",
            code=UNSEALED,
        )
    if report.pending:
        console.print(
            f"[yellow]{report.pending} events accepted unsealed (--allow-unsealed): "
            f"not verified[/yellow]"
        )
        console.print(f"[green]audit log verified[/green]{gaps} up to checkpoint {report.sealed}")
        return
    console.print(f"[green]audit log verified[/green]{gaps}")


def _say_coverage(paired: coverage.Coverage) -> None:
    """Issue 17.6: say which witness covers the log, and every restore it went through."""
    if paired.witness is None:
        console.print(f"[yellow]{coverage.NO_WITNESS}[/yellow]")
    else:
        size = paired.latest.size if paired.latest else 0
        console.print(f"witness: {escape(paired.witness)}, co-signed up to {size}")
    for line in paired.restores:
        console.print(f"[yellow]{escape(line)}[/yellow]")


def _sealed_proof(event_id: int) -> dict[str, Any]:
    engine = get_engine()
    settings = get_audit_settings()
    deadline = time.monotonic() + settings.checkpoint_seconds + 5
    while True:
        try:
            with runner.reader(engine).connect() as conn:
                return proofs.inclusion(conn, event_id)
        except proofs.NotSealed:
            # No server sealing for us (or not yet): seal here; if another sealer holds the
            # lock, wait for its checkpoint.
            if runner.seal_now(engine, settings) is None and time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@app.command()
def proof(event: int = typer.Option(..., "--event", help="The audit event id.")) -> None:
    """Print an inclusion proof of one event with the signed checkpoint it refers to."""
    try:
        doc = _sealed_proof(event)
    except (BaomiError, SealRefused, CheckpointError) as error:
        fail(str(error))
    _audit_read(Action.AUDIT_VERIFY, "inclusion_proof", object_id=str(event))
    _print_json(doc)


@app.command()
def consistency(
    size1: int = typer.Option(..., "--from", help="The older tree size."),
    size2: int = typer.Option(..., "--to", help="The newer tree size."),
) -> None:
    """Print a consistency proof between two tree sizes."""
    try:
        with runner.reader(get_engine()).connect() as conn:
            doc = proofs.consistency(conn, size1, size2)
    except BaomiError as error:
        fail(str(error))
    _print_json(doc)


@app.command("verify-proof")
def verify_proof(
    file: Path = typer.Argument(..., help="An inclusion or consistency proof, or a bundle."),
    key: str | None = typer.Option(
        None,
        help="Also check checkpoint signatures: the log's verifier key, or its .vkey file.",
    ),
) -> None:
    """Check a proof file offline: exit 0 valid, 1 invalid, 2 malformed. Needs no database.

    Without --key the proof's hashes are checked but not who signed its checkpoints: the output
    says so.
    """
    try:
        text = file.read_bytes()
    except OSError as error:
        fail(f"cannot read {file}: {error}", code=proofcheck.MALFORMED)
    code, message = proofcheck.check_text(text)
    if code == proofcheck.VALID and key:
        try:
            log_key = verifier_from(key)
            doc = json.loads(text)
            for name in ("checkpoint", "checkpoint1", "checkpoint2"):
                if name in doc:
                    open_checkpoint(doc[name], log_key)
        except CheckpointError as error:
            code, message = proofcheck.INVALID, f"invalid: {error}"
    if code != proofcheck.VALID:
        fail(message, code=code)
    if key:
        console.print(f"{message} (checkpoint signature checked)")
    else:
        console.print(
            f"{message} (checkpoint signature not checked: pass --key with the log's verifier "
            "key or its .vkey file)"
        )


def verifier_from(key: str) -> Verifier:
    """A verifier key given as its text, or as the path of a .vkey file holding it."""
    path = Path(key)
    if path.is_file():
        try:
            return Verifier.parse(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as error:
            raise CheckpointError(f"cannot read {path}: {error}") from error
    return Verifier.parse(key)


@app.command("search")
def search_cmd(
    actor: str | None = typer.Option(None, help="Actor id or username."),
    customer: str | None = typer.Option(None, help="Customer id."),
    action: str | None = typer.Option(None, help="Action tag, e.g. customer:read."),
    since: datetime | None = typer.Option(None, help="From this UTC time (inclusive)."),
    until: datetime | None = typer.Option(None, help="Until this UTC time (exclusive)."),
    before_id: int | None = typer.Option(None, help="Page: events older than this id."),
    limit: int = typer.Option(100, min=1, max=search.MAX_PAGE),
) -> None:
    """Search audit events (ids, tags and codes only: no customer data)."""
    since, until = _utc(since), _utc(until)
    with runner.reader(get_engine()).connect() as conn:
        page = search.search(
            conn,
            actor=actor,
            customer_id=customer,
            action=action,
            since=since,
            until=until,
            before_id=before_id,
            limit=limit,
        )
    _audit_read(Action.AUDIT_SEARCH, "search", customer_id=customer)
    _print_json(page)


def _utc(value: datetime | None) -> datetime | None:
    from datetime import UTC

    return value.replace(tzinfo=UTC) if value and value.tzinfo is None else value


@app.command()
def status() -> None:
    """Print the sealing status and check the database against the kept checkpoints.

    Exits 1 when the database disagrees with them or with the witness (an older copy: a
    rollback, or a restore not accepted on both sides), or a witnessed log has lost its witness.
    """
    engine, settings = get_engine(), get_audit_settings()
    with runner.reader(engine).connect() as conn:
        doc = search.status(conn)
    doc["witness"] = settings.witness_url or (
        str(settings.resolved_witness_dir) if settings.resolved_witness_dir else None
    )
    problem = runner.startup_check(engine, settings)
    doc["startupCheck"] = problem or "ok"
    _print_json(doc)
    if problem:
        # Issue 17.6: an older copy of the log (a rollback) must not look like a healthy one.
        raise typer.Exit(1)


app.command("accept-restore")(accept_restore)


@app.command("export-bundle")
def export_bundle(
    out: Path = typer.Option(..., "--out", help="Where to write the bundle (JSON)."),
    event: list[int] = typer.Option(..., "--event", help="Event ids to include (repeat)."),
) -> None:
    """Write an evidence bundle (events, proofs, checkpoint) that verify-proof checks offline."""
    engine = get_engine()
    try:
        for event_id in event:
            _sealed_proof(event_id)
        with runner.reader(engine).connect() as conn:
            doc = search.bundle(conn, event)
    except (BaomiError, SealRefused) as error:
        fail(str(error))
    out.write_text(json.dumps(doc, ensure_ascii=False, indent=2))
    _audit_read(Action.AUDIT_VERIFY, "evidence_bundle", details={"events": len(event)})
    console.print(f"Wrote {len(event)} events with proofs to {out}.")


@app.command()
def grants(role: str = typer.Argument(..., help="The application's PostgreSQL role.")) -> None:
    """Print the SQL that leaves the application role only INSERT and SELECT on audit tables."""
    typer.echo(postgres_grants(role))
