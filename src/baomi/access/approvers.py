"""Who approves an access request: the one fact of ours the grants room needs.

Apart from the rest of access/ because grants/ asks it (an approver may end a grant early), while
access/ itself builds on grants/ (an approval creates grants): this module imports nothing of
either service, so the two never import each other in a circle.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Connection

from baomi.access.models import access_request_approvals as approvals


def approver_ids(conn: Connection, request_id: str) -> frozenset[str]:
    """Return who approves (or decided on) a request: they may revoke its grants early."""
    rows = conn.execute(
        select(approvals.c.approver_id, approvals.c.decided_by).where(
            approvals.c.request_id == request_id
        )
    )
    return frozenset(uid for row in rows for uid in row if uid is not None)
