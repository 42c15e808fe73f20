"""Accepting a restored database: the audited way back to an older copy of the log (C1.3).

A database restored from a backup is behind the checkpoints kept outside it, and the sealer
refuses to sign over it: that is how a silently restored copy is caught. A legitimate restore
(after a disk failure, say) is accepted here, in the open, by a security officer:

1. the restored log must verify on its own (every event re-hashed, every stored checkpoint);
2. the newest kept checkpoint it covers must have its root: the copy is an older state of this
   log, not a fork of it;
3. the kept checkpoints beyond it are set aside, never deleted, into `superseded-<when>/` of the
   export directory: the evidence of what the log held before the restore;
4. an `audit:restore_accept` event names the checkpoint the log went back to and the gap, and is
   sealed at once, so the next checkpoint continues the restored log and says so.

With a witness ahead of the restored log, the officer's word is not enough: whoever holds the
database and BAOMI_HOME could forge it. The witness keeps its high-water mark and co-signs the
restored log again only once its own operator accepts the restore (`baomi witness
accept-restore`, given the checkpoint file kept here); until then the acceptance event waits
unsealed and `baomi serve` refuses to start, saying so (issue 17.6).

Events written after the backup and before the failure are lost with the database; the gap says
how many sealed ones, so the auditor can ask for them elsewhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from baomi import clock
from baomi.audit import export, merkle, runner, store, witness_client
from baomi.audit.checkpoint import CheckpointError, Verifier, open_checkpoint
from baomi.audit.context import RequestContext
from baomi.audit.service import actor_event, append
from baomi.audit.settings import AuditSettings
from baomi.audit.tags import Action
from baomi.audit.verify import verify
from baomi.errors import Conflict, Forbidden
from baomi.security.actor import AnyActor
from baomi.security.roles import Permission
from baomi.uow import unit_of_work

# The officer who manages the keys also decides what the log's key has vouched for.
ACCEPT_PERMISSION = Permission.KEY_MANAGE


class NotARestore(Conflict):
    """The database is not an older state of the kept log: nothing to accept, or a fork."""

    code = "not_a_restore"


@dataclass(frozen=True, slots=True)
class RestorePlan:
    """What accepting would do: the size the log goes back to and the kept files beyond it."""

    restored_size: int
    superseded: tuple[tuple[int, Path], ...]
    # The size the witness co-signed beyond the restored log (None if it did not), and where.
    witness_size: int | None = None
    witness: str | None = None
    restored_note: str | None = None

    @property
    def newest_superseded(self) -> int:
        return max([size for size, _ in self.superseded] + [self.witness_size or 0])

    @property
    def checkpoint_file(self) -> str:
        """The file the witness's operator is given to go back to (kept in the export dir)."""
        return f"checkpoint.{self.restored_size:020d}"


def examine(engine: Engine, settings: AuditSettings) -> RestorePlan:
    """Check the restored database against the kept checkpoints; change nothing."""
    log_key = runner.log_verifier(settings)
    kept = export.kept_files(settings.resolved_export_dir)
    with runner.reader(engine).connect() as conn:
        report = verify(conn, log_key)
        if not report.ok:
            assert report.problem is not None
            raise NotARestore(f"the restored log does not verify: {report.problem.message}")
        last = store.last_checkpoint(conn)
        size = last[0] if last else 0
        covered = [(s, p) for s, p in kept if s <= size]
        if covered:
            kept_size, path = covered[-1]
            try:
                cp = open_checkpoint(path.read_text(encoding="utf-8"), log_key)
            except CheckpointError as exc:
                raise NotARestore(f"{path}: {exc}") from exc
            if merkle.root(store.DbNodes(conn), kept_size) != cp.root:
                raise NotARestore(
                    f"the restored log disagrees with kept checkpoint {kept_size}: it is not an "
                    "older copy of this log"
                )
        where, ahead = _witness_ahead(conn, log_key, settings, size)
    beyond = tuple((s, p) for s, p in kept if s > size)
    if not beyond and ahead is None:
        raise NotARestore(f"the database is not behind the kept checkpoints (it holds {size})")
    if ahead is not None and last is None:
        raise NotARestore("the restored log has no signed checkpoint for the witness to go back to")
    return RestorePlan(
        restored_size=size,
        superseded=beyond,
        witness_size=ahead,
        witness=where,
        restored_note=last[2] if last else None,
    )


def _witness_ahead(
    conn: Connection, log_key: Verifier, settings: AuditSettings, size: int
) -> tuple[str | None, int | None]:
    """Return the witness and the size it co-signed beyond the restored log (None if not)."""
    try:
        target = witness_client.client(settings, log_key)
        latest = None if target is None else witness_client.latest_checkpoint(target, log_key)
    except (CheckpointError, OSError) as exc:
        raise NotARestore(
            f"cannot ask the witness, which a restore is checked against: {exc}"
        ) from exc
    if target is None or latest is None:
        return None, None
    if latest.size > size:
        return target.where, latest.size
    if merkle.root(store.DbNodes(conn), latest.size) != latest.root:
        raise NotARestore(
            f"the restored log disagrees with the witness's checkpoint {latest.size}: it is not "
            "an older copy of this log"
        )
    return target.where, None


def accept(
    engine: Engine, settings: AuditSettings, *, actor: AnyActor, ctx: RequestContext
) -> RestorePlan:
    """Accept the restore as `actor` (a security officer): set aside, record, seal."""
    with unit_of_work(engine):  # a refusal is recorded by the unit (C1.3)
        _require_officer(actor, ctx)
    plan = examine(engine, settings)
    aside = settings.resolved_export_dir / f"superseded-{clock.utcnow():%Y%m%dT%H%M%SZ}"
    if plan.superseded:
        aside.mkdir(mode=0o700)
    for _, path in plan.superseded:
        os.rename(path, aside / path.name)  # same directory tree: atomic, nothing copied
    with unit_of_work(engine) as conn:
        append(
            conn,
            actor_event(
                ctx=ctx,
                actor=actor,
                action=Action.AUDIT_RESTORE_ACCEPT,
                reason="restore_accepted",
                details={
                    "restored_to": plan.restored_size,
                    "newest_superseded": plan.newest_superseded,
                    "superseded_files": len(plan.superseded),
                    "set_aside_in": aside.name if plan.superseded else None,
                    "witness_size": plan.witness_size,
                },
            ),
        )
    if plan.witness_size is None:
        runner.seal_all(engine, settings)
    elif plan.restored_note is not None:
        # Sealing waits for the witness's operator, who is handed this file (written once:
        # a no-op when it is already kept).
        export.write_checkpoint(
            settings.resolved_export_dir, plan.restored_size, plan.restored_note
        )
    return plan


def _require_officer(actor: AnyActor, ctx: RequestContext) -> None:
    if actor.can(ACCEPT_PERMISSION):
        return
    refusal = actor_event(
        ctx=ctx,
        actor=actor,
        action=Action.AUDIT_RESTORE_ACCEPT,
        allowed=False,
        reason="role_lacks_permission",
        details={"permission": ACCEPT_PERMISSION.value},
    )
    raise Forbidden("only a security officer accepts a restored audit log").with_audit(refusal)
