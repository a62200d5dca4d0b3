"""Pushes made by requests never hold up the server: a box's SOS is acknowledged at once while
family medicine forms (each of which pushes the new plans to the box) are being submitted."""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from datetime import date
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from protocol import (
    Ack,
    ClientKind,
    Hello,
    MedPlans,
    Message,
    Paired,
    SosRaise,
    SosSource,
    Welcome,
    dump_message,
    parse_message,
)
from tests.support.live_server import LiveServer
from tests.support.waiting import scaled, wait_until
from tests.support.world import PASSWORD, World

pytestmark = pytest.mark.e2e

FORMS = 4  # concurrent medicine-form submits


class Inbox:
    """Everything a box socket receives, each with the moment it arrived (a reader thread)."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.got: list[tuple[float, Message]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for frame in self.ws:
            self.got.append((time.monotonic(), parse_message(frame)))

    def send(self, message: Message) -> float:
        """Send; the moment it left."""
        sent = time.monotonic()
        self.ws.send(dump_message(message))
        return sent

    def first(self, what: str, match: Any, after: int = 0, timeout: float = 15) -> Any:
        """The first (arrival time, message) from index ``after`` on that ``match`` accepts."""
        return wait_until(
            lambda: next(((t, m) for t, m in self.got[after:] if match(m)), None),
            timeout=timeout,
            what=what,
        )


def _paired_box(server: LiveServer, world: World) -> tuple[str, int]:
    req = httpx.post(f"{server.url}/api/pairing/requests", json={}).json()
    with connect(f"{server.ws_url}/ws/box", open_timeout=5) as ws:
        ws.send(dump_message(Hello(client=ClientKind.BOX, pairing_secret=req["pairing_secret"])))
        assert isinstance(parse_message(ws.recv(timeout=10)), Welcome)
        with closing(server.login(world.family_a.email, PASSWORD)) as api:
            claim = api.post(
                "/api/pairing/claim", json={"code": req["code"], "elder_id": world.elder_a.id}
            )
            assert claim.status_code == 201, claim.text
        paired = parse_message(ws.recv(timeout=10))
    assert isinstance(paired, Paired)
    return paired.device_token, paired.device_id


@pytest.fixture
def box(live_server: LiveServer, seeded: World) -> Iterator[Inbox]:
    token, _ = _paired_box(live_server, seeded)
    with connect(f"{live_server.ws_url}/ws/box", open_timeout=5) as ws:
        inbox = Inbox(ws)
        inbox.send(Hello(client=ClientKind.BOX, device_token=token))
        inbox.first("welcome", lambda m: isinstance(m, Welcome))
        yield inbox


def _family_page(server: LiveServer, world: World) -> tuple[httpx.Client, str]:
    page = httpx.Client(base_url=server.url, timeout=scaled(60))
    resp = page.post("/login", data={"email": world.family_a.email, "password": PASSWORD})
    assert resp.status_code in (200, 303), resp.text
    html = page.get("/family", headers={"Accept": "text/html"}).text
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match is not None, "no form on the family page"
    return page, match[1]


def test_sos_is_acknowledged_at_once_while_medicine_forms_push(
    live_server: LiveServer, seeded: World, box: Inbox
) -> None:
    page, csrf = _family_page(live_server, seeded)
    medicines = [f"Medicine {n}" for n in range(FORMS)]
    answers: list[int] = []

    def submit(medicine: str) -> None:
        form = {
            "csrf": csrf,
            "elder_id": str(seeded.elder_a.id),
            "medicine": medicine,
            "times": "08:00",
            "start_date": date.today().isoformat(),
            "window_minutes": "30",
        }
        answers.append(page.post("/family/medicines", data=form).status_code)

    forms = [threading.Thread(target=submit, args=(m,)) for m in medicines]
    for thread in forms:
        thread.start()
    # SOS after SOS for as long as forms are in flight (at least one), each must be acked fast.
    waits: list[float] = []
    while not waits or any(t.is_alive() for t in forms):
        raised = SosRaise(key=uuid.uuid4().hex, source=SosSource.RED_KEY)
        seen = len(box.got)
        sent = box.send(raised)
        acked, _ = box.first(
            "SOS ack", lambda m, k=raised.key: isinstance(m, Ack) and m.key == k, after=seen
        )
        waits.append(acked - sent)
    for thread in forms:
        thread.join(scaled(60))
    page.close()

    assert max(waits) < scaled(1.0), f"SOS acks took {[round(w, 2) for w in waits]} s"
    assert answers == [303] * FORMS, "every form was saved"
    # Every submit still reaches the box: a plan list with all of the medicines arrives.
    box.first(
        "plans pushed to the box",
        lambda m: isinstance(m, MedPlans) and sorted(p.medicine for p in m.plans) == medicines,
    )
