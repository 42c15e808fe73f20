"""Notification mails: bilingual plain text built from a notification, sent with smtplib.

A mail carries the notification's title and body in Chinese, then in English, and the link to
the app; like the notification itself it holds no customer data (C4.4.2: customer data never
travels by mail). Failures are described without secrets: no password, no server banner echoing
the login.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from types import TracebackType

from baomi.config import Settings
from baomi.notifications.kinds import Param
from baomi.notifications.messages import (
    MAIL_FOOTER,
    MAIL_OPEN_LINK,
    MAIL_SUBJECT_PREFIX,
    render,
)

MAX_ERROR_LENGTH = 300


def app_url(settings: Settings, link: str | None) -> str:
    """Return the absolute address of a path inside the app."""
    base = settings.public_url.rstrip("/")
    return f"{base}{link}" if link and link.startswith("/") else base


def build_message(
    *,
    settings: Settings,
    recipient: str,
    kind: str,
    params: Mapping[str, Param],
    link: str | None,
    now: datetime,
) -> EmailMessage:
    """Return the mail of one notification: Chinese first, English below, plain text."""
    zh, en = render(kind, params, "zh_CN"), render(kind, params, "en")
    url = app_url(settings, link)
    message = EmailMessage()
    message["Subject"] = f"{MAIL_SUBJECT_PREFIX} {zh.title} / {en.title}"
    message["From"] = settings.smtp_from
    message["To"] = recipient
    message["Date"] = format_datetime(now)
    domain = settings.smtp_from.rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    # RFC 3834: an automatic message; well-behaved autoresponders stay quiet.
    message["Auto-Submitted"] = "auto-generated"
    text = "\n".join(
        [
            zh.title,
            "",
            zh.body,
            MAIL_OPEN_LINK["zh_CN"].format(url=url),
            "",
            "----",
            "",
            en.title,
            "",
            en.body,
            MAIL_OPEN_LINK["en"].format(url=url),
            "",
            "--",
            MAIL_FOOTER,
            "",
        ]
    )
    message.set_content(text, charset="utf-8")
    return message


def describe_failure(error: BaseException, settings: Settings) -> str:
    """Say why a delivery failed in a line fit for the database: no secrets, bounded length."""
    text = type(error).__name__
    if isinstance(error, smtplib.SMTPResponseException):
        reply = error.smtp_error
        detail = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
        text += f": {error.smtp_code} {detail}"
    elif isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in error.recipients.values()})
        text += f": recipient refused {codes}"
    elif isinstance(error, OSError) and error.strerror:
        text += f": {error.strerror}"
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    for secret in (password, settings.smtp_username):
        if secret:
            text = text.replace(secret, "***")
    return " ".join(text.split())[:MAX_ERROR_LENGTH]


class SmtpSession:
    """One connection to the SMTP server for a batch of mails (STARTTLS and login as set)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None
        # A server that cannot be reached (or refuses the login) is not asked again for the
        # rest of the batch: each remaining mail fails at once with the same error.
        self._unreachable: Exception | None = None

    def __enter__(self) -> SmtpSession:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _open(self) -> smtplib.SMTP:
        s = self.settings
        assert s.smtp_host is not None
        smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds)
        try:
            if s.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if s.smtp_username:
                password = s.smtp_password.get_secret_value() if s.smtp_password else ""
                smtp.login(s.smtp_username, password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: EmailMessage) -> None:
        """Send one mail, connecting on first use; a failure drops the connection."""
        if self._unreachable is not None:
            raise self._unreachable
        if self._smtp is None:
            try:
                self._smtp = self._open()
            except Exception as error:
                self._unreachable = error
                raise
        try:
            self._smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused:
            raise  # the connection is still good for the next recipient
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None
