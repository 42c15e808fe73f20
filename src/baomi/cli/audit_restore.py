"""`baomi audit accept-restore`: the officer's audited acceptance of a restored database (C1.3).

With a witness ahead of the restored log, the officer's acceptance is half of it: the witness's
operator accepts it too (`baomi witness accept-restore`), and the command says how.
"""

from __future__ import annotations

import typer
from rich.markup import escape

from baomi.audit import restore
from baomi.audit.context import CLI_CONTEXT
from baomi.cli.identity import AS_USER, SECRETS_STDIN, acting_person
from baomi.cli.output import console, user_errors
from baomi.runtime import get_audit_settings, get_engine
from baomi.uow import unit_of_work


def accept_restore(
    yes: bool = typer.Option(False, "--yes", help="Accept without asking again."),
    as_user: str = AS_USER,
    password_stdin: bool = SECRETS_STDIN,
) -> None:
    """Accept a database restored from a backup, as a security officer (audited, C1.3).

    The restored log must verify and be an older state of the kept checkpoints; those beyond it
    are set aside (never deleted) and an audit:restore_accept event records the gap. A witness
    that co-signed beyond it goes back only when its own operator accepts the restore too.
    """
    engine, settings = get_engine(), get_audit_settings()
    with user_errors():
        plan = restore.examine(engine, settings)
    console.print(
        f"The restored database holds the audit log up to checkpoint {plan.restored_size}; "
        f"the log had gone up to {plan.newest_superseded} ({len(plan.superseded)} kept "
        "checkpoint file(s) beyond it). Sealed events between them are gone with the old "
        "database; those files are set aside in the export directory, not deleted."
    )
    if plan.witness_size is not None:
        console.print(
            f"The witness ({escape(plan.witness or '')}) co-signed up to {plan.witness_size} "
            "and keeps that mark: it co-signs this log again only once its operator accepts "
            "the restore too."
        )
    with user_errors(), unit_of_work(engine) as conn:
        officer = acting_person(conn, as_user, password_stdin)
    if not yes:
        typer.confirm("Accept this restore?", abort=True)
    with user_errors():
        restore.accept(engine, settings, actor=officer, ctx=CLI_CONTEXT)
    if plan.witness_size is None:
        console.print(
            f"Restore accepted: the log continues from checkpoint {plan.restored_size}, and the "
            "acceptance is itself an audit event, sealed."
        )
        return
    kept = settings.resolved_export_dir / plan.checkpoint_file
    local = settings.resolved_witness_dir
    console.print(
        f"Restore accepted on the log's side (an audit event, sealed once the witness agrees). "
        f"Now the witness's operator runs, where the witness is:\n"
        f"  baomi witness accept-restore --dir {local or '<witness directory>'} "
        f"--checkpoint {kept}\n"
        "then `baomi audit seal`. Until then `baomi serve` refuses to start and "
        "`baomi audit verify` fails."
    )
