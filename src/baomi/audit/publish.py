"""After a seal commits: keep the checkpoint in the export directory and have it witnessed.

The log side of C2SP tlog-witness: send the checkpoint with a consistency proof from the size
the witness last co-signed; on 409 learn the witness's size and retry once from there. A witness
ahead of the database means the database lost signed history (a restored older copy).
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection

from baomi import clock
from baomi.audit import export, merkle, store
from baomi.audit.checkpoint import Checkpoint, Verifier, check_cosignature, open_checkpoint
from baomi.audit.models import audit_witness_receipts
from baomi.audit.settings import AuditSettings
from baomi.audit.witness import format_request

TIMEOUT = 10.0


class WitnessRefused(RuntimeError):
    """The witness would not co-sign; `status` is its HTTP answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"witness answered {status}: {message}")
        self.status = status


def _post(url: str, body: str) -> tuple[int, str]:
    req = urllib.request.Request(  # noqa: S310 - the configured witness URL
        url.rstrip("/") + "/add-checkpoint", data=body.encode(), method="POST"
    )
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:  # noqa: S310
            return int(resp.status), resp.read().decode()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read().decode()


def fetch_witnessed(url: str, origin: str) -> str | None:
    """Return the witness's last co-signed checkpoint of a log (with its cosignature)."""
    query = urllib.parse.urlencode({"origin": origin})
    try:
        with urllib.request.urlopen(  # noqa: S310 - the configured witness URL
            f"{url.rstrip('/')}/checkpoint?{query}", timeout=TIMEOUT
        ) as resp:
            return str(resp.read().decode())
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise


def _witnessed_size(conn: Connection) -> int:
    return int(conn.scalar(select(func.max(audit_witness_receipts.c.tree_size))) or 0)


def witness(conn: Connection, cp: Checkpoint, url: str, witness_key: Verifier | None) -> str:
    """Have a checkpoint co-signed; record the receipt; return the cosignature line."""
    old = _witnessed_size(conn)
    for _attempt in range(2):
        proof: list[bytes] = []
        if 0 < old < cp.size:
            proof = merkle.consistency_proof(store.DbNodes(conn), old, cp.size)
        status, body = _post(url, format_request(old, proof, cp.note))
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
        if witness_key is not None:
            check_cosignature(body, cp, witness_key)
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
    if settings.witness_url:
        wkey = Verifier.parse(settings.witness_key) if settings.witness_key else None
        line = witness(conn, cp, settings.witness_url, wkey)
        export.write_witnessed(directory, cp.size, cp.note, line)
    return cp
