"""SOS under faults: a server killed between storing and fanning out still alerts everyone."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from websockets.sync.client import connect

from protocol import (
    Ack,
    ClientKind,
    Hello,
    MedPlans,
    SosRaise,
    SosSource,
    Welcome,
    dump_message,
    parse_message,
)
from server.core.db import Database
from server.models import SosAlert, SosStep
from tests.support.live_server import LiveServer
from tests.support.smtp import smtp_server
from tests.support.waiting import wait_until
from tests.support.world import make_device, make_world

pytestmark = pytest.mark.e2e


def send_sos(server: LiveServer, token: str, raised: SosRaise) -> Ack | None:
    """Say hello as the box and send the SOS; the Ack, or None if the server died first."""
    with connect(server.ws_url + "/ws/box", open_timeout=10, close_timeout=2) as ws:
        ws.send(dump_message(Hello(client=ClientKind.BOX, device_token=token)))
        assert isinstance(parse_message(ws.recv(timeout=10)), Welcome)
        assert isinstance(parse_message(ws.recv(timeout=10)), MedPlans)  # the state on connect
        ws.send(dump_message(raised))
        try:
            reply = parse_message(ws.recv(timeout=10))
        except Exception:  # noqa: BLE001 - the connection dies with the server
            return None
        assert isinstance(reply, Ack)
        return reply


@pytest.mark.expect_error_log(
    r"ERROR server\.sos\.intake: fault injection: exiting right after storing SOS"
)
def test_killed_after_store_still_alerts_everyone_after_restart(
    db_url: str, tmp_path: Path
) -> None:
    database = Database(db_url)
    with database.session() as db:
        world = make_world(db)
        token, _ = make_device(db, world.elder_a)
        family_email = world.family_a.email
    raised = SosRaise(key="fault-sos-0001", source=SosSource.RED_KEY)
    with smtp_server() as (mailbox, smtp_port):
        mail = {"ANXIN_SMTP_HOST": "127.0.0.1", "ANXIN_SMTP_PORT": str(smtp_port)}
        doomed = LiveServer(
            db_url=db_url,
            data_dir=tmp_path / "doomed",
            extra_env={**mail, "ANXIN_FAULT_CRASH_AFTER_SOS_STORE": "1"},
        ).start()
        try:
            assert send_sos(doomed, token, raised) is None, "the server died before acking"
            assert doomed.proc is not None
            wait_until(lambda: doomed.proc.poll() is not None, 15, "the injected crash")  # type: ignore[union-attr]
        finally:
            doomed.stop()
        with database.session() as db:
            alert = db.scalar(select(SosAlert))
            assert alert is not None and alert.fanout_done_at is None, "stored, not fanned out"
        assert mailbox.messages == []

        revived = LiveServer(
            db_url=db_url,
            data_dir=tmp_path / "revived",
            extra_env={**mail, "ANXIN_SWEEP_INTERVAL_SCALE": "0.2"},
        ).start()
        try:
            [email] = mailbox.wait(1, timeout=20)
            assert email["To"] == family_email and world.elder_a.name in email["Subject"]
            # The box never got its Ack, so its outbox sends the SOS again: one alert still.
            again = send_sos(revived, token, raised)
            assert again is not None and again.duplicate
        finally:
            revived.stop()
    with database.session() as db:
        assert len(db.scalars(select(SosAlert)).all()) == 1
        kinds = [s.kind.value for s in db.scalars(select(SosStep).order_by(SosStep.id))]
    assert kinds.count("fanned_out") == 1
    assert len(mailbox.messages) == 1, "the family is e-mailed once"
    database.dispose()
