"""Notification mail: queued with the work, delivered by the job to a real SMTP server, retried
with back-off, given up after N attempts, never sent for work that rolled back (C4.3.1)."""

from __future__ import annotations

import smtplib
from datetime import timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, func, select

from baomi import clock
from baomi.config import Settings
from baomi.notifications import outbox
from baomi.notifications.kinds import Kind
from baomi.notifications.mail import describe_failure
from baomi.notifications.models import mail_outbox, notifications
from baomi.notifications.service import notify
from baomi.uow import unit_of_work
from tests.notifications.conftest import Sink, free_port, outbox_rows
from tests.support.org import Org

PARAMS = {
    "request_id": "0190f3a4-0000-7000-8000-000000000001",
    "request_kind": "access",
    "outcome": "approved",
    "by": "sunqi",
    "by_name": "孙七",
    "customer_count": 2,
    "hours": 30,
    "ends_at": "2026-03-03T15:00:00+00:00",
}


def _notify(engine: Engine, settings: Settings, user_ids: list[str]) -> list[str]:
    """Notify as a service would in an app built with `settings` (mail on with an SMTP host)."""
    with unit_of_work(engine) as conn:
        return notify(
            conn,
            user_ids=user_ids,
            kind=Kind.REQUEST_DECIDED,
            params=PARAMS,
            link="/access-requests/0190f3a4-0000-7000-8000-000000000001",
            now=clock.utcnow(),
            mail=outbox.mail_enabled(settings),
        )


def test_mail_is_delivered_in_both_languages(
    engine: Engine,
    org: Org,
    sink: Sink,
    mail_settings: Settings,
    with_mailboxes: dict[str, str],
) -> None:
    _notify(engine, mail_settings, [with_mailboxes["zhouba"]])
    assert sink.raw == []  # queued, not sent: the job sends
    counts = outbox.send_due(engine, now=clock.utcnow(), settings=mail_settings)
    assert counts == {"sent": 1, "retrying": 0, "given_up": 0}
    (message,) = sink.messages
    assert message["To"] == "zhouba@example.com" and message["From"] == "baomi@example.com"
    assert (
        message["Subject"] == "[保密 baomi] 您的访问申请已批准 / Your access request was approved"
    )
    assert message["Auto-Submitted"] == "auto-generated"
    body = message.get_content()
    zh = body.index(
        "孙七（sunqi）批准了您的访问申请（2 位客户），访问权限有效至 2026-03-03 15:00 UTC。"
    )
    en = body.index("孙七 (sunqi) approved your access request (2 customer record(s))")
    assert zh < en  # Chinese first, English below
    link = "https://baomi.example.com/access-requests/0190f3a4-0000-7000-8000-000000000001"
    assert body.count(link) == 2
    (row,) = outbox_rows(engine)
    assert row.status == "sent" and row.attempts == 1 and row.sent_at is not None
    # Sent once: the next run finds nothing due.
    assert outbox.send_due(engine, now=clock.utcnow(), settings=mail_settings)["sent"] == 0
    assert len(sink.raw) == 1


def test_only_people_with_an_address_get_mail(
    engine: Engine,
    org: Org,
    sink: Sink,
    mail_settings: Settings,
    with_mailboxes: dict[str, str],
) -> None:
    ids = _notify(engine, mail_settings, [org.user_ids["zhaoliu"], with_mailboxes["zhouba"]])
    assert len(ids) == 2  # both inboxes
    (row,) = outbox_rows(engine)
    assert row.recipient == "zhouba@example.com"
    outbox.send_due(engine, now=clock.utcnow(), settings=mail_settings)
    assert [rcpt for rcpt, _ in sink.handler.received] == [["zhouba@example.com"]]


def test_no_mail_without_an_smtp_host(
    engine: Engine, org: Org, mail_off: Settings, with_mailboxes: dict[str, str]
) -> None:
    assert _notify(engine, mail_off, [with_mailboxes["zhouba"]])
    assert outbox_rows(engine) == []
    assert outbox.send_due(engine, now=clock.utcnow(), settings=mail_off)["sent"] == 0


def test_no_mail_when_the_work_rolled_back(
    engine: Engine,
    org: Org,
    sink: Sink,
    mail_settings: Settings,
    with_mailboxes: dict[str, str],
) -> None:
    with pytest.raises(RuntimeError), unit_of_work(engine) as conn:
        notify(
            conn,
            user_ids=[with_mailboxes["zhouba"]],
            kind=Kind.REQUEST_DECIDED,
            params=PARAMS,
            link=None,
            now=clock.utcnow(),
            mail=outbox.mail_enabled(mail_settings),
        )
        raise RuntimeError("the work failed after notifying")
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(notifications)) == 0
        assert conn.scalar(select(func.count()).select_from(mail_outbox)) == 0
    outbox.send_due(engine, now=clock.utcnow(), settings=mail_settings)
    assert sink.raw == []


def test_failed_delivery_is_retried_with_back_off_then_given_up(
    engine: Engine,
    org: Org,
    sink: Sink,
    mail_settings: Settings,
    with_mailboxes: dict[str, str],
) -> None:
    sink.handler.reply = "451 4.3.0 Mailbox busy, try later"
    _notify(engine, mail_settings, [with_mailboxes["zhouba"]])
    now = clock.utcnow()
    assert outbox.send_due(engine, now=now, settings=mail_settings)["retrying"] == 1
    (row,) = outbox_rows(engine)
    assert row.status == "pending" and row.attempts == 1
    assert row.next_attempt_at == now + timedelta(seconds=60)
    assert row.last_error == "SMTPDataError: 451 4.3.0 Mailbox busy, try later"
    # Not due again before the back-off has passed.
    assert outbox.send_due(engine, now=now + timedelta(seconds=59), settings=mail_settings) == {
        "sent": 0,
        "retrying": 0,
        "given_up": 0,
    }
    now += timedelta(seconds=60)
    assert outbox.send_due(engine, now=now, settings=mail_settings)["retrying"] == 1
    (row,) = outbox_rows(engine)
    assert row.attempts == 2 and row.next_attempt_at == now + timedelta(seconds=120)
    now += timedelta(seconds=120)
    assert outbox.send_due(engine, now=now, settings=mail_settings)["given_up"] == 1
    (row,) = outbox_rows(engine)
    assert row.status == "failed" and row.attempts == 3 and row.sent_at is None
    # Given up: even a server that works again gets nothing more.
    sink.handler.reply = None
    assert outbox.send_due(engine, now=now + timedelta(days=1), settings=mail_settings)["sent"] == 0
    assert sink.raw == []


def test_a_server_that_is_down_is_retried(
    engine: Engine,
    org: Org,
    mail_settings: Settings,
    with_mailboxes: dict[str, str],
) -> None:
    _notify(engine, mail_settings, [with_mailboxes["zhouba"], with_mailboxes["wujiu"]])
    down = mail_settings.model_copy(update={"smtp_port": free_port()})
    counts = outbox.send_due(engine, now=clock.utcnow(), settings=down)
    assert counts == {"sent": 0, "retrying": 2, "given_up": 0}
    assert {r.last_error for r in outbox_rows(engine)} == {
        "ConnectionRefusedError: Connection refused"
    }


def test_errors_are_recorded_without_secrets() -> None:
    settings = Settings(
        smtp_host="mail.example.com",
        smtp_username="baomi-mailer",
        smtp_password=SecretStr("s3cret-Pa55"),
    )
    error = smtplib.SMTPAuthenticationError(
        535, b"5.7.8 authentication failed for baomi-mailer with s3cret-Pa55"
    )
    text = describe_failure(error, settings)
    assert text == "SMTPAuthenticationError: 535 5.7.8 authentication failed for *** with ***"
    assert len(describe_failure(OSError(5, "x" * 1000), settings)) <= 300
