"""What the auditor reads: events by actor, customer, action and time; the sealing status;
evidence bundles. Events carry ids, tags and codes only, so reading them gives no customer data
(C1.3, C6). Reads of the log are themselves audited by the callers (audit:search, audit:verify).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.engine import Connection

from baomi import clock
from baomi.audit import leaf, proofcheck, proofs, store
from baomi.audit.models import audit_events, audit_witness_receipts

MAX_PAGE = 500


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def search(
    conn: Connection,
    *,
    actor: str | None = None,
    customer_id: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: int | None = None,
    limit: int = 100,
    decision: str | None = None,
    object_id: str | None = None,
) -> dict[str, Any]:
    """Return a page of events, newest first, and the cursor of the next page."""
    e = audit_events.c
    q = select(audit_events).order_by(e.id.desc()).limit(min(max(limit, 1), MAX_PAGE))
    if actor:
        q = q.where(or_(e.actor_id == actor, e.actor_username == actor))
    if customer_id:
        q = q.where(e.customer_id == customer_id)
    if action:
        q = q.where(e.action == action)
    if decision:
        q = q.where(e.decision == decision)
    if object_id:
        q = q.where(e.object_id == object_id)
    if since:
        q = q.where(e.occurred_at >= since)
    if until:
        q = q.where(e.occurred_at < until)
    if before_id:
        q = q.where(e.id < before_id)
    items = []
    for row in conn.execute(q).mappings():
        item = dict(row)
        item["occurred_at"] = leaf.format_time(row["occurred_at"])
        item["fields"], item["details"] = _json(row["fields"]), _json(row["details"])
        items.append(item)
    full = len(items) == min(max(limit, 1), MAX_PAGE)
    return {"items": items, "next_before_id": items[-1]["id"] if items and full else None}


def status(conn: Connection) -> dict[str, Any]:
    """Return the sealing state: tree size, signed checkpoint, events waiting, last witnessed.

    `pending` events are covered by no signed checkpoint yet; the age of the oldest of them is
    the window in which a rewrite would go unseen (C1.3), so it is shown beside the count.
    """
    last = store.last_checkpoint(conn)
    pending, oldest = store.unsealed(conn)
    witnessed = conn.scalar(select(func.max(audit_witness_receipts.c.tree_size)))
    age = (clock.utcnow() - oldest).total_seconds() if oldest is not None else None
    return {
        "treeSize": last[0] if last else 0,
        "checkpoint": last[2] if last else None,
        "pending": pending,
        "oldestPendingAt": oldest.isoformat() if oldest is not None else None,
        "oldestPendingAgeSeconds": round(max(age, 0.0), 3) if age is not None else None,
        "witnessedSize": int(witnessed) if witnessed is not None else None,
    }


def bundle(conn: Connection, event_ids: list[int]) -> dict[str, Any]:
    """Return an evidence bundle: the events' proofs against the latest signed checkpoint,
    and a consistency proof from the last witnessed size (checked by proofcheck alone)."""
    last = store.last_checkpoint(conn)
    if last is None:
        raise proofs.NotSealed("nothing is sealed yet")
    inclusions = []
    for event_id in event_ids:
        item = proofs.inclusion(conn, event_id)
        item.pop("checkpoint")
        inclusions.append(item)
    consistency = []
    witnessed = status(conn)["witnessedSize"]
    if witnessed and witnessed < last[0]:
        consistency.append(proofs.consistency(conn, witnessed, last[0]))
        consistency[0].pop("checkpoint2", None)
    return {
        "bundle": proofcheck.BUNDLE_FORMAT,
        "checkpoint": last[2],
        "inclusions": inclusions,
        "consistency": consistency,
    }
