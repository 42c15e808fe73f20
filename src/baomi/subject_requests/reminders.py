"""Overdue data-subject requests: remind the handler and the security officer (issue 12 item 4).

A scheduled job (jobs/catalog.py, hourly): every open request past its due date whose last
reminder is a day old or more (or that had none) is put in the inbox of its handler and its
officer (notifications: ids, kind and dates only, never customer data), and audited.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.engine import Connection

from baomi.audit.context import job_context
from baomi.audit.service import append, event
from baomi.audit.tags import Action, Decision
from baomi.notifications.kinds import Kind
from baomi.notifications.service import notify
from baomi.subject_requests.models import subject_requests
from baomi.subject_requests.schemas import Status

JOB = "subject_requests.remind"
EVERY = timedelta(days=1)


def remind_overdue(conn: Connection, *, now: datetime, mail: bool) -> dict[str, int]:
    """Remind of each overdue open request, at most once a day; return the count."""
    rows = conn.execute(
        select(subject_requests).where(
            subject_requests.c.status == Status.OPEN.value,
            subject_requests.c.due_at < now,
            or_(
                subject_requests.c.reminded_at.is_(None),
                subject_requests.c.reminded_at <= now - EVERY,
            ),
        )
    ).all()
    ctx = job_context(JOB)
    for row in rows:
        days = max(1, (now - row.due_at).days)
        notify(
            conn,
            user_ids=sorted({row.handler_id, row.officer_id}),
            kind=Kind.SUBJECT_REQUEST_OVERDUE,
            params={
                "request_id": row.id,
                "subject_kind": row.kind,
                "due_on": row.due_at.date().isoformat(),
                "days": days,
            },
            link=f"/subject-requests/{row.id}",
            now=now,
            mail=mail,
        )
        conn.execute(
            update(subject_requests).where(subject_requests.c.id == row.id).values(reminded_at=now)
        )
        append(
            conn,
            event(
                ctx=ctx,
                actor_id=None,
                actor_username=f"system:{JOB}",
                action=Action.SUBJECT_REQUEST_REMIND,
                decision=Decision.ALLOW,
                reason="overdue",
                customer_id=row.customer_id,
                object_id=row.id,
                details={"kind": row.kind, "days_overdue": days},
            ),
        )
    return {"reminded": len(rows)}
