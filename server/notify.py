"""Reaching people outside the pages: e-mail over SMTP, and text messages through a gateway.

Both are interfaces with a real implementation; a deployment without SMTP or a gateway gets
a logging stand-in, so nothing fails for want of configuration, and the log says so.
"""

from __future__ import annotations

import logging
import smtplib
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Protocol

from server.core.config import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Email:
    """One e-mail to one person."""

    to: str
    subject: str
    body: str


class Notifier(Protocol):
    """Sends e-mail; ``send`` blocks, so call it from a worker thread."""

    def send(self, email: Email) -> None:
        """Deliver one e-mail or raise."""


class SmtpNotifier:
    """E-mail through an SMTP server (STARTTLS and log-in when configured)."""

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 10.0,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password, self.starttls = username, password, starttls
        self.timeout = timeout

    def send(self, email: Email) -> None:
        """Deliver one e-mail."""
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = email.to
        message["Subject"] = email.subject
        message.set_content(email.body)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username and self.password:
                smtp.login(self.username, self.password)
            smtp.send_message(message)


class LogNotifier:
    """Stand-in when no SMTP server is configured: the e-mail is written to the log."""

    def send(self, email: Email) -> None:
        """Log the e-mail instead of sending it."""
        log.warning("no SMTP server configured; e-mail to %s: %s", email.to, email.subject)


class TextGateway(Protocol):
    """Sends a text message (SMS) through an operator's gateway."""

    def send_text(self, phone: str, body: str) -> None:
        """Deliver one text message or raise."""


@dataclass
class LogTextGateway:
    """Stand-in gateway: texts are logged and kept in memory (deployments plug in their SMS API)."""

    sent: list[tuple[str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def send_text(self, phone: str, body: str) -> None:
        """Record the text message."""
        with self._lock:
            self.sent.append((phone, body))
        log.warning("no SMS gateway configured; text to %s: %s", phone, body[:80])


def make_notifier(settings: Settings) -> Notifier:
    """The e-mail sender the settings ask for."""
    if not settings.smtp_host:
        return LogNotifier()
    return SmtpNotifier(
        settings.smtp_host,
        settings.smtp_port,
        settings.smtp_sender,
        settings.smtp_username,
        settings.smtp_password,
        settings.smtp_starttls,
    )
