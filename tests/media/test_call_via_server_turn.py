"""A call signaled through a live server and relayed by a real coturn: the server issues
TURN REST credentials from the secret it shares with coturn, both peers use only relay
candidates (relay-only policy from the server), and media flows both ways."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from media.config import IceServerSetting, MediaSettings
from protocol import Role
from server.core.db import Database
from server.core.security import token_hash
from server.models import Device
from tests.media.calls import STEP_TIMEOUT_S, make_peer, wait_connected
from tests.media.coturn import Coturn
from tests.media.test_turn import candidate_types
from tests.support.live_server import LiveServer
from tests.support.waiting import async_wait_until
from tests.support.world import PASSWORD, make_elder, make_user

SECRET = "anxin-server-and-coturn-share-this"
pytestmark = pytest.mark.netns


@pytest.fixture
def coturn(tmp_path: Path) -> Iterator[Coturn]:
    server = Coturn.start(tmp_path, SECRET)
    yield server
    server.stop()


@pytest.fixture
def seeded(db_url: str) -> dict[str, Any]:
    database = Database(db_url)
    with database.session() as db:
        from server.models import Clinic

        clinic = Clinic(name="Relay Clinic")
        db.add(clinic)
        db.flush()
        elder = make_elder(db, clinic_id=clinic.id)
        doctor = make_user(db, Role.DOCTOR, clinic_id=clinic.id)
        db.add(Device(elder_id=elder.id, token_hash=token_hash("box-token-relay")))
        seeded = {"doctor": doctor.email}
    database.dispose()
    return seeded


@pytest.fixture
def server(db_url: str, tmp_path: Path, coturn: Coturn) -> Iterator[LiveServer]:
    live = LiveServer(
        db_url=db_url,
        data_dir=tmp_path / "server",
        extra_env={
            "ANXIN_CALL_TURN_URLS": json.dumps([coturn.url]),
            "ANXIN_CALL_TURN_SECRET": SECRET,
            "ANXIN_CALL_ICE_TRANSPORT_POLICY": "relay",
        },
    )
    live.start()
    yield live
    live.stop()


async def next_of(ws: ClientConnection, kind: str) -> dict[str, Any]:
    async def wait() -> dict[str, Any]:
        while True:
            message = json.loads(await ws.recv())
            assert message["type"] != "error", message
            if message["type"] == kind:
                return message

    return await asyncio.wait_for(wait(), STEP_TIMEOUT_S)


def settings_from(start: dict[str, Any]) -> MediaSettings:
    return MediaSettings(
        use_devices=False,
        ice_transport_policy=start["ice_transport_policy"],
        ice_servers=[IceServerSetting(**s) for s in start["ice_servers"]],
    )


async def test_consult_relayed_through_coturn_with_server_credentials(
    server: LiveServer, seeded: dict[str, Any], coturn: Coturn
) -> None:
    login = httpx.post(
        server.url + "/api/auth/login", json={"email": seeded["doctor"], "password": PASSWORD}
    )
    token = login.json()["access_token"]
    async with (
        connect(server.ws_url + "/ws/box") as box,
        connect(server.ws_url + "/ws/web") as doctor,
    ):
        await box.send(
            json.dumps({"type": "hello", "client": "box", "device_token": "box-token-relay"})
        )
        await doctor.send(json.dumps({"type": "hello", "client": "web", "token": token}))
        await next_of(box, "welcome")
        await next_of(doctor, "welcome")
        await box.send(json.dumps({"type": "consult_request"}))
        call_id = (await next_of(box, "call_queued"))["call_id"]
        await doctor.send(json.dumps({"type": "call_join", "call_id": call_id}))
        doctor_start = await next_of(doctor, "call_start")
        box_start = await next_of(box, "call_start")
        assert box_start["ice_transport_policy"] == "relay"
        assert box_start["ice_servers"][0]["username"].endswith(":box-1")

        caller = make_peer(settings_from(doctor_start))
        callee = make_peer(settings_from(box_start))
        try:
            offer = await asyncio.wait_for(caller.session.create_offer(), STEP_TIMEOUT_S)
            assert candidate_types(offer) == {"relay"}, offer
            await doctor.send(json.dumps({"type": "call_offer", "call_id": call_id, "sdp": offer}))
            relayed = (await next_of(box, "call_offer"))["sdp"]
            answer = await asyncio.wait_for(callee.session.accept_offer(relayed), STEP_TIMEOUT_S)
            assert candidate_types(answer) == {"relay"}, answer
            await box.send(json.dumps({"type": "call_answer", "call_id": call_id, "sdp": answer}))
            got = (await next_of(doctor, "call_answer"))["sdp"]
            await asyncio.wait_for(caller.session.accept_answer(got), STEP_TIMEOUT_S)
            await wait_connected(caller.session, callee.session)
            await async_wait_until(
                lambda: callee.video is not None and len(callee.video.stamps) >= 10, STEP_TIMEOUT_S
            )
            await async_wait_until(
                lambda: caller.video is not None and len(caller.video.stamps) >= 10, STEP_TIMEOUT_S
            )
        finally:
            await caller.close()
            await callee.close()
        await box.send(json.dumps({"type": "call_hang_up", "call_id": call_id}))
        assert (await next_of(doctor, "call_ended"))["reason"] == "hung_up"
    # The credentials are the server's own (TURN REST scheme): relay candidates were only
    # gathered because coturn accepted them (bad ones gather none: tests/media/test_turn.py).
    expiry = int(box_start["ice_servers"][0]["username"].split(":")[0])
    assert expiry > time.time() + 3600
