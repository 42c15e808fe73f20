"""The mail outbox: queued with the notification, delivered by the `mail.send` job.

Queued in the transaction that writes the notification, so mail goes out only for work that
committed. Delivery talks to an SMTP server that may be slow or down, so it does not hold a
database transaction meanwhile (on SQLite that would hold the write lock for every request): it
reads a batch, sends it, then records each outcome. A failed mail is retried with exponential
back-off and given up after `mail_max_attempts`; the last error is kept without secrets.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timedelta

import structlog
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.engine import Connection

from baomi.config import Settings
from baomi.ids import new_id
from baomi.notifications.mail import SmtpSession, build_message, describe_failure
from baomi.notifications.models import mail_outbox, notifications
from baomi.uow import unit_of_work

log = structlog.get_logger(__name__)

PENDING, SENT, FAILED = "pending", "sent", "failed"
BATCH_SIZE = 50
MAX_BACKOFF = timedelta(hours=6)


def mail_enabled(settings: Settings) -> bool:
    """Whether notification mail is on: an SMTP host is configured (BAOMI_SMTP_HOST)."""
    return bool(settings.smtp_host)


def enqueue(conn: Connection, messages: Sequence[tuple[str, str]], *, now: datetime) -> None:
    """Queue one mail per (notification id, recipient address), in the caller's transaction."""
    if not messages:
        return
    conn.execute(
        insert(mail_outbox),
        [
            {
                "id": new_id(),
                "notification_id": notification_id,
                "recipient": recipient,
                "status": PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "last_error": None,
                "created_at": now,
                "sent_at": None,
            }
            for notification_id, recipient in messages
        ],
    )


def backoff(settings: Settings, attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failure: base · 2^(attempts-1), capped."""
    seconds = settings.mail_retry_base_seconds * 2 ** min(max(attempts - 1, 0), 20)
    return min(timedelta(seconds=seconds), MAX_BACKOFF)


def send_due(
    engine: Engine,
    *,
    now: datetime,
    settings: Settings,
    budget_seconds: float = 120.0,
) -> dict[str, int]:
    """Deliver the mails that are due; return counts (sent, retrying, given up)."""
    counts = {"sent": 0, "retrying": 0, "given_up": 0}
    if not mail_enabled(settings):
        return counts
    o, n = mail_outbox.c, notifications.c
    with unit_of_work(engine) as conn:
        due = conn.execute(
            select(o.id, o.recipient, o.attempts, n.kind, n.params, n.link)
            .join(notifications, n.id == o.notification_id)
            .where(o.status == PENDING, o.next_attempt_at <= now)
            .order_by(o.next_attempt_at, o.id)
            .limit(BATCH_SIZE)
        ).all()
    outcomes: list[tuple[str, int, str | None]] = []
    # Stop starting new mails well before the job's lease could run out.
    deadline = time.monotonic() + budget_seconds
    with SmtpSession(settings) as smtp:
        for row in due:
            if time.monotonic() > deadline:
                break
            message = build_message(
                settings=settings,
                recipient=row.recipient,
                kind=row.kind,
                params=row.params,
                link=row.link,
                now=now,
            )
            try:
                smtp.send(message)
            except Exception as failure:  # every failure is recorded and retried
                outcomes.append((row.id, row.attempts + 1, describe_failure(failure, settings)))
            else:
                outcomes.append((row.id, row.attempts + 1, None))
    with unit_of_work(engine) as conn:
        for mail_id, attempts, error in outcomes:
            values: dict[str, object] = {"attempts": attempts, "last_error": error}
            if error is None:
                values.update(status=SENT, sent_at=now)
                counts["sent"] += 1
            elif attempts >= settings.mail_max_attempts:
                values.update(status=FAILED)
                counts["given_up"] += 1
                log.warning("mail.given_up", mail_id=mail_id, attempts=attempts, error=error)
            else:
                values.update(next_attempt_at=now + backoff(settings, attempts))
                counts["retrying"] += 1
            conn.execute(
                update(mail_outbox).where(o.id == mail_id, o.status == PENDING).values(**values)
            )
    return counts
