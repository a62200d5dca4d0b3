"""`ServerLink` against a real server process: pairing, outbox exactly-once, pushes, revocation,
dead links and server restarts."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, serve

from protocol import BoxSettings, ClientKind, Hello, Lang, Welcome, dump_message
from tests.support.databases import fresh_database
from tests.support.live_server import DemoServer, free_port
from tests.support.viewmodels import ELDER
from tests.support.waiting import async_wait_until
from tvbox.config import BoxConfig
from tvbox.events import (
    ElderChanged,
    LinkEvent,
    LinkState,
    OutboxAcked,
    PairedWithElder,
    PairingCodeIssued,
    Unpaired,
    Welcomed,
)
from tvbox.link.server_link import ServerLink
from tvbox.outbox import Outbox, new_key
from tvbox.store import BoxStore

T = 20.0  # seconds any single step may take on a busy 2-core machine


class Harness:
    """A link with its own store, recording every event."""

    def __init__(self, url: str, data_dir: Path, **config: Any) -> None:
        self.config = BoxConfig(
            server_url=url,
            data_dir=data_dir,
            reconnect_initial_seconds=0.1,
            reconnect_max_seconds=0.5,
            http_timeout_seconds=5,
            **config,
        )
        self.store = BoxStore(self.config.store_path)
        self.outbox = Outbox(self.store)
        self.events: list[LinkEvent] = []
        self.states: list[LinkState] = []
        self.link = self._new_link()

    def _new_link(self) -> ServerLink:
        def record(event: LinkEvent) -> None:
            self.events.append(event)
            state = getattr(event, "state", None)
            if isinstance(state, LinkState):
                self.states.append(state)

        return ServerLink(self.config, self.store, self.outbox, record)

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    async def wait(self, kind: type, count: int = 1) -> Any:
        await async_wait_until(lambda: len(self.of(kind)) >= count, T, f"{count} × {kind.__name__}")
        return self.of(kind)[count - 1]

    async def wait_state(self, state: LinkState) -> None:
        await async_wait_until(lambda: self.link.state is state, T, f"link {state}")

    async def restart(self) -> None:
        await self.stop()
        self.link = self._new_link()
        self.link.start()

    async def stop(self) -> None:
        self.link.stop()
        await asyncio.wait_for(self.link.wait_stopped(), T)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    directory = tmp_path_factory.mktemp("server")
    with fresh_database(directory) as db_url:
        live = DemoServer(db_url, directory)
        live.start()
        yield live
        live.stop()


@pytest.fixture
async def box(server: DemoServer, tmp_path: Path) -> AsyncIterator[Harness]:
    harness = Harness(server.url, tmp_path)
    harness.link.start()
    yield harness
    await harness.stop()
    harness.store.close()


async def pair(box: Harness, server: DemoServer) -> tuple[str, int]:
    """Pair `box` with the demo elder; the family token and device id."""
    await box.wait(PairingCodeIssued)
    await box.wait_state(LinkState.PAIRING)
    issued: PairingCodeIssued = box.of(PairingCodeIssued)[-1]  # the code on screen now
    token = await asyncio.to_thread(server.login)
    elder_id = (await asyncio.to_thread(server.elders, token))[0]["id"]
    device_id = await asyncio.to_thread(server.claim, token, issued.code, elder_id)
    await box.wait(PairedWithElder)
    await box.wait_state(LinkState.ONLINE)
    return token, device_id


async def test_pairing_goes_online_and_revocation_asks_for_a_new_code(
    box: Harness, server: DemoServer
) -> None:
    issued: PairingCodeIssued = await box.wait(PairingCodeIssued)
    assert len(issued.code) == 6 and issued.code.isdigit()
    token, device_id = await pair(box, server)

    paired: PairedWithElder = box.of(PairedWithElder)[0]
    assert paired.device_id == device_id and paired.elder.name == "王秀英"
    assert box.store.device_token is not None and box.store.device_id == device_id
    welcomed: Welcomed = await box.wait(Welcomed)
    assert welcomed.device_id == device_id

    await asyncio.to_thread(server.revoke, token, device_id)
    unpaired: Unpaired = await box.wait(Unpaired)
    assert unpaired.reason == "revoked"
    assert box.store.device_token is None and box.store.elder is None
    fresh: PairingCodeIssued = await box.wait(PairingCodeIssued, 2)
    assert fresh.code != issued.code
    await box.wait_state(LinkState.PAIRING)


async def test_box_revoked_while_off_forgets_its_token_and_queued_messages(
    box: Harness, server: DemoServer
) -> None:
    token, device_id = await pair(box, server)
    await box.stop()  # the TV is switched off ...
    box.outbox.add(BoxSettings(key=new_key(), lang=Lang.EN))  # ... with a change still queued
    await asyncio.to_thread(server.revoke, token, device_id)
    await box.restart()
    unpaired: Unpaired = await box.wait(Unpaired)
    assert unpaired.reason == "unauthorized"
    assert box.store.device_token is None
    assert box.outbox.pending() == []  # meant for the old pairing: never sent after a new one
    await box.wait(PairingCodeIssued, 2)


async def test_outbox_reaches_the_server_exactly_once(box: Harness, server: DemoServer) -> None:
    token, _ = await pair(box, server)
    elder_id = box.store.elder.id  # type: ignore[union-attr]
    before = (await asyncio.to_thread(server.audit_actions, token, elder_id)).count(
        "elder.lang.changed_on_box"
    )
    first = box.outbox.add(BoxSettings(key=new_key(), lang=Lang.EN))
    second = box.outbox.add(BoxSettings(key=new_key(), lang=Lang.ZH))
    box.link.outbox_changed()
    await box.wait(OutboxAcked, 2)
    assert [e.key for e in box.of(OutboxAcked)] == [first.key, second.key]  # sent in order
    assert not any(e.duplicate for e in box.of(OutboxAcked))
    assert box.outbox.pending() == []
    assert (await asyncio.to_thread(server.elder, token, elder_id))["lang"] == "zh"

    # The box crashed after sending but before storing the Ack: the item is pending again.
    box.store.db.execute("UPDATE outbox SET acked_at = NULL WHERE key = ?", (first.key,))
    await box.restart()
    resent: OutboxAcked = await box.wait(OutboxAcked, 3)
    assert resent.key == first.key and resent.duplicate is True
    assert box.outbox.pending() == []
    after = (await asyncio.to_thread(server.audit_actions, token, elder_id)).count(
        "elder.lang.changed_on_box"
    )
    assert after - before == 2  # two settings stored once each, the resend ignored
    assert (await asyncio.to_thread(server.elder, token, elder_id))["lang"] == "zh"


async def test_elder_changes_are_pushed_and_stored(box: Harness, server: DemoServer) -> None:
    token, _ = await pair(box, server)
    elder_id = box.store.elder.id  # type: ignore[union-attr]
    await asyncio.to_thread(server.update_elder, token, elder_id, name="王秀英奶奶")
    changed: ElderChanged = await box.wait(ElderChanged)
    assert changed.elder.name == "王秀英奶奶"
    assert box.store.elder.name == "王秀英奶奶"  # type: ignore[union-attr]
    await asyncio.to_thread(server.update_elder, token, elder_id, name="王秀英")


class GatedLink(ServerLink):
    """A link whose WebSocket can be cut off (HTTP still works), as behind a bad proxy."""

    ws_open = True
    sockets: list[ClientConnection]

    def _make_websocket(self) -> Any:
        if self.ws_open:
            return super()._make_websocket()
        return connect(f"ws://127.0.0.1:{free_port()}/ws/box", open_timeout=2)  # refused

    async def _hello(self, ws: ClientConnection, hello: Hello) -> Welcome | None:
        self.sockets.append(ws)
        return await super()._hello(ws, hello)


async def test_box_paired_while_its_socket_was_down_learns_it_over_http(
    server: DemoServer, tmp_path: Path
) -> None:
    token = await asyncio.to_thread(server.login)
    elder_id = (await asyncio.to_thread(server.elders, token))[0]["id"]
    await asyncio.to_thread(server.update_elder, token, elder_id, speech_rate_wpm=100)
    box = Harness(server.url, tmp_path)
    link = GatedLink(box.config, box.store, box.outbox, box.link.on_event)
    link.sockets = []
    box.link = link
    link.start()
    try:
        issued: PairingCodeIssued = await box.wait(PairingCodeIssued)
        await box.wait_state(LinkState.PAIRING)
        link.ws_open = False
        await link.sockets[-1].close()
        await box.wait_state(LinkState.OFFLINE)
        device_id = await asyncio.to_thread(server.claim, token, issued.code, elder_id)
        paired: PairedWithElder = await box.wait(PairedWithElder)  # from /api/pairing/status
        assert len(link.sockets) == 1, "paired without a second socket"
        assert paired.device_id == device_id and box.store.device_token is not None
        # The whole elder came over HTTP too: the TV speaks at the family's rate at once.
        assert paired.elder.speech_rate_wpm == 100
        assert box.store.elder is not None and box.store.elder.speech_rate_wpm == 100
        link.ws_open = True
        await box.wait_state(LinkState.ONLINE)
    finally:
        await box.stop()
        box.store.close()
        await asyncio.to_thread(server.update_elder, token, elder_id, speech_rate_wpm=140)


async def test_restarted_box_goes_straight_online_with_its_token(
    box: Harness, server: DemoServer
) -> None:
    await pair(box, server)
    await box.restart()
    await box.wait(Welcomed, 2)
    await box.wait_state(LinkState.ONLINE)
    assert len(box.of(PairingCodeIssued)) == 1


async def test_box_reconnects_when_the_server_comes_back(tmp_path: Path, db_url: str) -> None:
    live = DemoServer(db_url, tmp_path / "server")
    live.start()
    harness = Harness(live.url, tmp_path / "box")
    harness.link.start()
    try:
        await pair(harness, live)
        await asyncio.to_thread(live.stop)
        await harness.wait_state(LinkState.OFFLINE)
        assert harness.store.device_token is not None  # offline is not unpaired
        await asyncio.to_thread(live.start)
        await harness.wait_state(LinkState.ONLINE)
        assert harness.of(Unpaired) == []
    finally:
        await harness.stop()
        harness.store.close()
        await asyncio.to_thread(live.stop)


async def test_an_expired_code_is_replaced_by_a_new_one(tmp_path: Path, db_url: str) -> None:
    live = DemoServer(db_url, tmp_path / "server", ANXIN_PAIRING_CODE_MINUTES="0.03")
    live.start()
    harness = Harness(live.url, tmp_path / "box")
    harness.link.start()
    try:
        first: PairingCodeIssued = await harness.wait(PairingCodeIssued)
        second: PairingCodeIssued = await harness.wait(PairingCodeIssued, 2)
        assert second.code != first.code
        assert second.expires_at > first.expires_at
        assert harness.of(Unpaired) == [] and harness.store.device_token is None
    finally:
        await harness.stop()
        harness.store.close()
        await asyncio.to_thread(live.stop)


async def test_a_silent_server_is_detected_as_dead_and_redialled(tmp_path: Path) -> None:
    connections: list[ServerConnection] = []

    async def silent(ws: ServerConnection) -> None:
        connections.append(ws)
        hello = json.loads(await ws.recv())
        assert hello["device_token"] == "token-1"
        await ws.send(dump_message(Welcome(client=ClientKind.BOX, heartbeat_seconds=0.2)))
        await ws.wait_closed()  # then never answer a heartbeat

    port = free_port()
    async with serve(silent, "127.0.0.1", port, ping_interval=None):
        harness = Harness(f"http://127.0.0.1:{port}", tmp_path)
        harness.store.save_pairing(1, "token-1", ELDER)
        harness.link.start()
        try:
            await async_wait_until(lambda: len(connections) >= 2, T, "a second connection")
            online = harness.states.index(LinkState.ONLINE)
            assert LinkState.OFFLINE in harness.states[online:]
            assert harness.store.device_token == "token-1"
        finally:
            await harness.stop()
            harness.store.close()
