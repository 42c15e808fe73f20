"""After a seal commits: keep the checkpoint in the export directory and have it witnessed.

The log side of C2SP tlog-witness: send the checkpoint with a consistency proof from the size
the witness last co-signed; on 409 learn the witness's size and retry once from there. A witness
ahead of the database means the database lost signed history (a restored older copy).
"""

from __future__ import annotations

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection

from baomi import clock
from baomi.audit import export, merkle, store, witness_client
from baomi.audit.checkpoint import Checkpoint, Verifier, check_cosignature, open_checkpoint
from baomi.audit.models import audit_witness_receipts
from baomi.audit.settings import AuditSettings
from baomi.audit.witness import format_request
from baomi.audit.witness_client import WitnessClient


class WitnessRefused(RuntimeError):
    """The witness would not co-sign; `status` is its HTTP answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"witness answered {status}: {message}")
        self.status = status


def witnessed_size(conn: Connection) -> int:
    """Return the largest size a witness co-signed, by the receipts the database holds."""
    return int(conn.scalar(select(func.max(audit_witness_receipts.c.tree_size))) or 0)


def witness(conn: Connection, cp: Checkpoint, target: WitnessClient) -> str:
    """Have a checkpoint co-signed; record the receipt; return the cosignature line."""
    old = witnessed_size(conn)
    for _attempt in range(2):
        proof: list[bytes] = []
        if 0 < old < cp.size:
            proof = merkle.consistency_proof(store.DbNodes(conn), old, cp.size)
        status, body = target.post(format_request(old, proof, cp.note))
        if status == 409 and body.strip().isdigit():
            old = int(body.strip())
            if old > cp.size:
                raise WitnessRefused(
                    409,
                    f"the witness co-signed size {old} but the database holds {cp.size}: "
                    "is this a restored older copy of the database?",
                )
            continue
        if status != 200:
            raise WitnessRefused(status, body.strip())
        if target.key is not None:
            check_cosignature(body, cp, target.key)
        name = body.split(" ", 2)[1] if body.count(" ") >= 2 else "witness"
        conn.execute(
            insert(audit_witness_receipts),
            {
                "tree_size": cp.size,
                "witness": name,
                "cosignature": body,
                "received_at": clock.utcnow(),
            },
        )
        return body
    raise WitnessRefused(409, "the witness keeps changing its size")


def publish(conn: Connection, note: str, log: Verifier, settings: AuditSettings) -> Checkpoint:
    """Export a committed checkpoint and, if a witness is configured, have it co-signed."""
    cp = open_checkpoint(note, log)
    directory = settings.resolved_export_dir
    export.write_checkpoint(directory, cp.size, cp.note)
    target = witness_client.client(settings, log)
    if target is not None:
        line = witness(conn, cp, target)
        export.write_witnessed(directory, cp.size, cp.note, line)
    return cp
