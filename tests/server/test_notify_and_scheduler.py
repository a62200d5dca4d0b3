"""E-mail reaches a real SMTP server; periodic jobs run on the server's scheduler."""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient

from server.app import FEATURES, create_app
from server.core.config import Settings
from server.features import Feature, PeriodicJob
from server.notify import Email, LogNotifier, SmtpNotifier, make_notifier
from server.runtime import Runtime
from tests.support.smtp import smtp_server


def test_smtp_notifier_delivers_chinese_mail() -> None:
    with smtp_server() as (mailbox, port):
        notifier = make_notifier(Settings(smtp_host="127.0.0.1", smtp_port=port))
        assert isinstance(notifier, SmtpNotifier)
        notifier.send(Email(to="li.na@example.com", subject="王秀英 漏服药物", body="请联系老人。"))
        [mail] = mailbox.wait(1)
    assert mail["To"] == "li.na@example.com"
    assert mail["Subject"] == "王秀英 漏服药物"
    assert "请联系老人" in mail.get_content()


def test_without_smtp_mail_is_logged_not_lost_silently(caplog: pytest.LogCaptureFixture) -> None:
    notifier = make_notifier(Settings())
    assert isinstance(notifier, LogNotifier)
    notifier.send(Email(to="a@b.c", subject="hello", body="x"))
    assert "no SMTP server configured" in caplog.text


def test_unreachable_smtp_raises() -> None:
    from tests.support.live_server import free_port

    with pytest.raises(OSError):
        SmtpNotifier("127.0.0.1", free_port(), "x@y.z", timeout=2).send(Email("a@b.c", "s", "b"))


def test_periodic_jobs_run_while_the_server_runs(rt: Runtime) -> None:
    ran = threading.Event()
    ticking = Feature(name="tick", sweeps=(PeriodicJob("test.tick", 0.05, lambda rt: ran.set()),))
    with TestClient(create_app(runtime=rt, features=(*FEATURES, ticking))):
        assert ran.wait(10), "the periodic job never ran"
