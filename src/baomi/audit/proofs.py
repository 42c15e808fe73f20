"""Inclusion and consistency proofs from the stored tree, as JSON the offline verifier reads.

Shapes follow the transparency-dev vectors (hashes base64); an inclusion proof also carries the
signed checkpoint it refers to and the event's canonical leaf, so an inspector (C6) can check the
event's content, its place in the log and the signed root with `proofcheck` alone.
"""

from __future__ import annotations

import base64
from typing import Any

from sqlalchemy.engine import Connection

from baomi.audit import leaf, merkle, store
from baomi.errors import NotFound, ValidationFailed


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class NotSealed(NotFound):
    """The event exists but no checkpoint covers it yet."""

    code = "not_sealed"
    title = "Event not sealed yet"


def inclusion(conn: Connection, event_id: int) -> dict[str, Any]:
    """Return the inclusion proof of an event in the latest signed checkpoint."""
    row = store.event_row(conn, event_id)
    if row is None:
        raise NotFound(f"no audit event {event_id}")
    index = store.leaf_of_event(conn, event_id)
    last = store.last_checkpoint(conn)
    if index is None or last is None or last[0] <= index:
        raise NotSealed(f"audit event {event_id} is not under a signed checkpoint yet")
    size, root, note = last
    reader = store.DbNodes(conn)
    data = leaf.encode(row)
    return {
        "leafIdx": index,
        "treeSize": size,
        "root": _b64(root),
        "leafHash": _b64(merkle.leaf_hash(data)),
        "proof": [_b64(h) for h in merkle.inclusion_proof(reader, index, size)],
        "checkpoint": note,
        "leaf": data.decode("utf-8"),
    }


def consistency(conn: Connection, size1: int, size2: int) -> dict[str, Any]:
    """Return the consistency proof between two sizes of the sealed tree."""
    sealed = store.last_checkpoint(conn)
    top = sealed[0] if sealed else 0
    if not 0 < size1 <= size2 <= top:
        raise ValidationFailed(
            [
                {
                    "field": "size",
                    "code": "size_out_of_range",
                    "message": f"need 0 < size1 <= size2 <= {top} (sealed size)",
                }
            ]
        )
    reader = store.DbNodes(conn)
    out: dict[str, Any] = {
        "size1": size1,
        "size2": size2,
        "root1": _b64(merkle.root(reader, size1)),
        "root2": _b64(merkle.root(reader, size2)),
        "proof": [_b64(h) for h in merkle.consistency_proof(reader, size1, size2)],
    }
    notes = dict(store.checkpoint_sizes(conn)) if size1 != size2 else {}
    for key, size in (("checkpoint1", size1), ("checkpoint2", size2)):
        if size in notes:
            out[key] = notes[size]
    return out
