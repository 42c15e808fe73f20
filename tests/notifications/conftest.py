"""Notification fixtures: people logged in once, people with mailboxes, a real SMTP sink.

The sink is aiosmtpd's SMTP server on a free local port (the one thing outside the product we
stand in for); everything of ours — inbox, outbox, the mail job — runs for real.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from baomi.audit.context import CLI_CONTEXT
from baomi.config import Settings, get_settings
from baomi.notifications.models import mail_outbox, notifications
from baomi.security.actor import SEEDER
from baomi.security.roles import Role
from baomi.uow import unit_of_work
from baomi.users import service as users
from baomi.users.schemas import EmploymentType
from tests.support.api import login
from tests.support.org import PASSWORD, Org


class People:
    """Log each person in once per test (argon2 is slow by design)."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self._headers: dict[str, dict[str, str]] = {}

    def __getitem__(self, username: str) -> dict[str, str]:
        if username not in self._headers:
            self._headers[username] = login(self.client, username)
        return self._headers[username]


@pytest.fixture
def people(client: TestClient) -> People:
    return People(client)


@dataclass
class Handler:
    """aiosmtpd handler: keeps what it receives, or answers with `reply` (e.g. a 451)."""

    received: list[tuple[list[str], bytes]] = field(default_factory=list)
    reply: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.reply is not None:
            return self.reply
        with self.lock:
            self.received.append((list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 Message accepted for delivery"


@dataclass
class Sink:
    handler: Handler
    port: int

    @property
    def raw(self) -> list[bytes]:
        with self.handler.lock:
            return [content for _, content in self.handler.received]

    @property
    def messages(self) -> list[EmailMessage]:
        parsed = []
        for content in self.raw:
            message = message_from_bytes(content, policy=policy.default)
            assert isinstance(message, EmailMessage)
            parsed.append(message)
        return parsed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def sink() -> Iterator[Sink]:
    """A real SMTP server on 127.0.0.1 that keeps every mail it accepts."""
    handler = Handler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield Sink(handler, port)
    finally:
        controller.stop()


def _use_settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    for name in ("SMTP_HOST", "SMTP_PORT", "SMTP_STARTTLS", "SMTP_USERNAME", "SMTP_PASSWORD"):
        monkeypatch.delenv(f"BAOMI_{name}", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(f"BAOMI_{name.upper()}", value)
    get_settings.cache_clear()
    return get_settings()


@pytest.fixture
def mail_settings(sink: Sink, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Mail on (BAOMI_SMTP_HOST set), pointing at the sink, three attempts before giving up."""
    yield _use_settings(
        monkeypatch,
        smtp_host="127.0.0.1",
        smtp_port=str(sink.port),
        smtp_starttls="false",
        smtp_from="baomi@example.com",
        public_url="https://baomi.example.com",
        mail_max_attempts="3",
        mail_retry_base_seconds="60",
    )
    get_settings.cache_clear()


@pytest.fixture
def mail_off(monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """No SMTP host: notifications go to the inbox only."""
    yield _use_settings(monkeypatch)
    get_settings.cache_clear()


# Extra people with mailboxes: a salesperson in 华南 and a second security officer.
MAILBOXES = {
    "zhouba": ("周八", "华南销售部", Role.SALESPERSON, "zhouba@example.com"),
    "wujiu": ("吴九", None, Role.SECURITY_OFFICER, "wujiu@example.com"),
}


@pytest.fixture
def with_mailboxes(engine: Engine, org: Org) -> dict[str, str]:
    """Create zhouba (华南 salesperson) and wujiu (a second officer), both with an e-mail."""
    ids = {}
    with unit_of_work(engine) as conn:
        for username, (name, dept, role, email) in MAILBOXES.items():
            ids[username] = users.create_user(
                conn,
                actor=SEEDER,
                ctx=CLI_CONTEXT,
                username=username,
                display_name=name,
                password=PASSWORD,
                employment_type=EmploymentType.FULL_TIME,
                department_id=org.departments[dept] if dept else None,
                roles={role},
                email=email,
            )
    return ids


def inbox(engine: Engine) -> list[Any]:
    """Every notification in the database, oldest first."""
    with engine.connect() as conn:
        return conn.execute(
            select(notifications).order_by(notifications.c.created_at, notifications.c.id)
        ).all()


def outbox_rows(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return conn.execute(select(mail_outbox).order_by(mail_outbox.c.created_at)).all()


def recipients(
    engine: Engine, org: Org, kind: str, extra: dict[str, str] | None = None
) -> set[str]:
    """Usernames that received notifications of a kind."""
    names = {uid: name for name, uid in {**org.user_ids, **(extra or {})}.items()}
    return {names[row.user_id] for row in inbox(engine) if row.kind == kind}
