"""E-mails and texts are never lost: a mail server or SMS gateway that is down, or a server
process that dies between deciding to send and sending, only delays them."""

from __future__ import annotations

import functools
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import select

from server.app import create_app
from server.core.config import Settings
from server.models import OutgoingMessage, SosAlert
from server.notify import Email, SmtpNotifier
from server.outgoing import RETRY_AFTER, deliver, outgoing_sweep, queue_email
from server.reminders.sweep import alert_audience, run_sweep
from server.runtime import Runtime
from server.sos.delivery import deliver_pending
from tests.server.test_reminders_sweep import add_plan
from tests.server.test_sos import raise_sos
from tests.support.live_server import free_port
from tests.support.smtp import Mailbox, smtp_server
from tests.support.waiting import wait_until
from tests.support.world import World, add_escalation_chain, make_device


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """No scheduler: the tests run the sweeps with their own clock."""
    return Settings(database_url=db_url, data_dir=tmp_path / "data", scheduler_enabled=False)


def rows(rt: Runtime) -> list[OutgoingMessage]:
    with rt.db.session() as db:
        found = list(db.scalars(select(OutgoingMessage).order_by(OutgoingMessage.id)))
        db.expunge_all()
    return found


def a_dose_missed_40_minutes_ago(rt: Runtime, world: World) -> None:
    since = datetime.now(UTC) - timedelta(hours=2)
    local = datetime.now(UTC) + timedelta(hours=8) - timedelta(minutes=40)  # elder in Shanghai
    add_plan(rt, world.elder_a.id, (local.time().replace(microsecond=0),), since, local.date())


def test_missed_dose_mail_waits_out_a_mail_server_outage_and_arrives_once(
    rt: Runtime, world: World
) -> None:
    port = free_port()  # nothing listens here yet: the mail server is down
    rt.notifier = SmtpNotifier("127.0.0.1", port, "anxin@test.anxin", timeout=5)
    a_dose_missed_40_minutes_ago(rt, world)
    with rt.db.session() as db:
        family = sorted(u.email for u in alert_audience(db, world.elder_a.id)[0])
    assert family, "the elder has family to e-mail"
    now = datetime.now(UTC)
    assert len(run_sweep(rt, now)) == 1, "the alert is claimed although no mail could go"
    queued = rows(rt)
    assert sorted(m.recipient for m in queued) == family
    assert all(m.sent_at is None and m.attempts == 1 and m.last_error for m in queued)
    assert deliver(rt, now_fn=lambda: now + RETRY_AFTER[0] / 2) == 0, "back-off before retrying"

    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()  # the mail server is back
    try:
        later = now + RETRY_AFTER[0] + timedelta(seconds=1)
        assert deliver(rt, now_fn=lambda: later) == len(family)
        mails = mailbox.wait(len(family))
        assert sorted(str(m["To"]) for m in mails) == family
        assert all("Metformin" in str(m["Subject"]) for m in mails)
        assert deliver(rt, now_fn=lambda: later + timedelta(hours=1)) == 0
        assert run_sweep(rt, later) == [], "the dose is not alerted again"
    finally:
        controller.stop()
    assert len(mailbox.messages) == len(family), "each e-mail arrived exactly once"
    assert all(m.sent_at is not None for m in rows(rt))


def test_a_message_queued_by_a_process_that_died_is_sent_by_the_sweep(
    rt: Runtime,
) -> None:
    with smtp_server() as (mailbox, port):
        rt.notifier = SmtpNotifier("127.0.0.1", port, "anxin@test.anxin")
        with rt.db.session() as db:  # committed with its event, then the process died
            queue_email(db, Email("li.na@example.com", "王秀英 漏服药物", "请联系老人。"), "k-1")
            queue_email(db, Email("li.na@example.com", "duplicate", "same key"), "k-1")
        outgoing_sweep(rt)
        mails = mailbox.wait(1)
        assert str(mails[0]["Subject"]) == "王秀英 漏服药物"
        outgoing_sweep(rt)
    assert len(mailbox.messages) == 1, "queueing the same key twice sends once"


def test_a_message_another_process_is_sending_is_left_alone_until_its_lease_ends(
    rt: Runtime, settings: Settings
) -> None:
    with smtp_server() as (mailbox, port):
        rt.notifier = SmtpNotifier("127.0.0.1", port, "anxin@test.anxin")
        other = Runtime.from_settings(settings)
        other.notifier = rt.notifier
        with rt.db.session() as db:
            ids = [
                queue_email(db, Email(f"p{i}@example.com", "s", "b"), f"k-{i}") for i in range(8)
            ]
        sent: list[int] = []
        threads = [
            threading.Thread(target=lambda r=r: sent.append(deliver(r, ids))) for r in (rt, other)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert sum(sent) == 8, "two processes sending at once share the work"
        mailbox.wait(8)
        other.db.dispose()
    assert sorted(str(m["To"]) for m in mailbox.messages) == sorted(
        f"p{i}@example.com" for i in range(8)
    )


@pytest.mark.expect_error_log(r"^giving up on outgoing message \d+ after \d+ attempts")
def test_a_hopeless_message_is_given_up_after_its_last_retry(rt: Runtime) -> None:
    rt.notifier = SmtpNotifier("127.0.0.1", free_port(), "anxin@test.anxin", timeout=5)
    with rt.db.session() as db:
        queue_email(db, Email("nobody@example.com", "s", "b"), "hopeless")
    now = datetime.now(UTC)
    for wait in (timedelta(0), *RETRY_AFTER):
        now += wait + timedelta(seconds=1)
        assert deliver(rt, now_fn=functools.partial(lambda at: at, now)) == 0
    (message,) = rows(rt)
    assert message.failed_at is not None and message.attempts == len(RETRY_AFTER) + 1
    assert deliver(rt, now_fn=lambda: now + timedelta(days=2)) == 0
    assert rows(rt)[0].attempts == len(RETRY_AFTER) + 1, "no more tries after giving up"


class FlakyGateway:
    """A text-message gateway (outside the product) that refuses its first message."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.refused: list[str] = []
        self.lock = threading.Lock()

    def send_text(self, phone: str, body: str) -> None:
        with self.lock:
            if not self.refused:
                self.refused.append(phone)
                raise ConnectionError("gateway busy")
            self.sent.append((phone, body))


def test_an_sos_text_refused_by_the_gateway_is_retried(rt: Runtime, world: World) -> None:
    gateway = FlakyGateway()
    rt.texts = gateway
    with rt.db.session() as db:
        add_escalation_chain(db, world)
        token = make_device(db, world.elder_a)[0]
    with TestClient(create_app(runtime=rt)) as client:
        raise_sos(client, token)
    with rt.db.session() as db:
        stored = db.scalar(select(SosAlert.stored_at))
    assert stored is not None
    interval = rt.settings.sos_escalation_seconds
    deliver_pending(rt, lambda: stored + timedelta(seconds=interval + 1))
    assert len(gateway.refused) == 1, "one text was refused"
    refused = gateway.refused[0]
    retry_at = datetime.now(UTC) + RETRY_AFTER[0] + timedelta(seconds=1)
    wait_until(lambda: deliver(rt, now_fn=lambda: retry_at) == 0 and all_sent(rt), what="retries")
    phones = [phone for phone, _ in gateway.sent]
    assert refused in phones and "138" in phones, "the refused text went on the retry"
    assert len(phones) == len(set(phones)), "each text went once"


def all_sent(rt: Runtime) -> bool:
    return all(m.sent_at is not None for m in rows(rt))
