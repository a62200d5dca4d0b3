"""`/ws/web`: pages hear about changes to elders they may see, and nothing else."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from protocol import (
    Changed,
    ClientKind,
    ElderInfo,
    ElderUpdated,
    Error,
    ErrorCode,
    Heartbeat,
    Hello,
    MedPlans,
    Topic,
    Welcome,
)
from tests.conftest import bearer
from tests.server.test_box_socket import pair_box, recv, send
from tests.support.world import PASSWORD, World


def token_of(client: TestClient, email: str) -> str:
    return bearer(client, email)["Authorization"].split()[1]


def test_cookie_session_is_accepted(client: TestClient, world: World) -> None:
    client.post("/login", data={"email": world.family_a.email, "password": PASSWORD})
    with client.websocket_connect("/ws/web") as ws:
        send(ws, Hello(client=ClientKind.WEB))
        welcome = recv(ws)
        assert isinstance(welcome, Welcome)
        assert welcome.user_id == world.family_a.id and welcome.role == "family"


def test_cookie_from_another_site_is_ignored(client: TestClient, world: World) -> None:
    client.post("/login", data={"email": world.family_a.email, "password": PASSWORD})
    with client.websocket_connect("/ws/web", headers={"origin": "http://evil.example"}) as ws:
        send(ws, Hello(client=ClientKind.WEB))
        err = recv(ws)
        assert isinstance(err, Error) and err.code is ErrorCode.UNAUTHORIZED


def test_changes_reach_only_those_who_may_see_them(client: TestClient, world: World) -> None:
    admin = bearer(client, world.admin.email)
    with (
        client.websocket_connect("/ws/web") as family_a,
        client.websocket_connect("/ws/web") as family_b,
        client.websocket_connect("/ws/web") as doctor_a,
    ):
        for ws, user in (
            (family_a, world.family_a),
            (family_b, world.family_b),
            (doctor_a, world.doctor_a),
        ):
            send(ws, Hello(client=ClientKind.WEB, token=token_of(client, user.email)))
            assert isinstance(recv(ws), Welcome)
        resp = client.patch(f"/api/elders/{world.elder_a.id}", json={"lang": "en"}, headers=admin)
        assert resp.status_code == 200
        for ws in (family_a, doctor_a):
            change = recv(ws)
            assert isinstance(change, Changed)
            assert change.topic is Topic.ELDER and change.elder_id == world.elder_a.id
            assert change.data["lang"] == "en"
        # family_b must have heard nothing: its next frame is the answer to its own heartbeat.
        send(family_b, Heartbeat(id="probe"))
        answer = recv(family_b)
        assert isinstance(answer, Heartbeat) and answer.id == "probe"


def test_box_hears_its_elder_changing(client: TestClient, world: World) -> None:
    token, _ = pair_box(client, world)
    family = bearer(client, world.family_a.email)
    with client.websocket_connect("/ws/box") as box:
        send(box, Hello(client=ClientKind.BOX, device_token=token))
        recv(box)
        assert isinstance(recv(box), MedPlans)  # the state sent on connect
        client.patch(
            f"/api/elders/{world.elder_a.id}", json={"timezone": "Europe/London"}, headers=family
        )
        change = recv(box)
        assert isinstance(change, ElderUpdated)
        assert change.elder == ElderInfo(
            id=world.elder_a.id,
            name=world.elder_a.name,
            lang="zh",
            timezone="Europe/London",
            speech_rate_wpm=140,
            speech_volume_pct=100,
        )
        # Slower and softer speech for an elder's hearing reaches the TV the same way.
        client.patch(
            f"/api/elders/{world.elder_a.id}",
            json={"speech_rate_wpm": 110, "speech_volume_pct": 80},
            headers=family,
        )
        change = recv(box)
        assert isinstance(change, ElderUpdated)
        assert (change.elder.speech_rate_wpm, change.elder.speech_volume_pct) == (110, 80)
    # and a box that connects later is told in its welcome.
    with client.websocket_connect("/ws/box") as box:
        send(box, Hello(client=ClientKind.BOX, device_token=token))
        welcome = recv(box)
        assert isinstance(welcome, Welcome) and welcome.elder is not None
        assert (welcome.elder.speech_rate_wpm, welcome.elder.speech_volume_pct) == (110, 80)


def test_family_page_hears_the_box_come_online(client: TestClient, world: World) -> None:
    token, device_id = pair_box(client, world)
    with client.websocket_connect("/ws/web") as page:
        send(page, Hello(client=ClientKind.WEB, token=token_of(client, world.family_a.email)))
        recv(page)
        with client.websocket_connect("/ws/box") as box:
            send(box, Hello(client=ClientKind.BOX, device_token=token))
            recv(box)
            online = recv(page)
            assert isinstance(online, Changed) and online.topic is Topic.DEVICE
            assert online.elder_id == world.elder_a.id
            assert online.data == {
                "devices": [{"device_id": device_id, "elder_id": world.elder_a.id, "online": True}]
            }
        offline = recv(page)
        assert offline.data == {
            "devices": [{"device_id": device_id, "elder_id": world.elder_a.id, "online": False}]
        }


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", ErrorCode.MALFORMED),
        ('{"type": "heartbeat"}', ErrorCode.UNAUTHORIZED),
        ('{"type": "hello", "client": "box"}', ErrorCode.INVALID),
        ('{"type": "hello", "client": "web", "token": "forged"}', ErrorCode.UNAUTHORIZED),
        ('{"type": "hello", "client": "web"}', ErrorCode.UNAUTHORIZED),
    ],
)
def test_bad_frames_on_the_page_socket(
    client: TestClient, world: World, frame: str, code: ErrorCode
) -> None:
    with client.websocket_connect("/ws/web") as ws:
        ws.send_text(frame)
        err = recv(ws)
        assert isinstance(err, Error) and err.code is code
        send(ws, Hello(client=ClientKind.WEB, token=token_of(client, world.family_a.email)))
        assert isinstance(recv(ws), Welcome), "the socket stays open and usable"
        send(ws, Hello(client=ClientKind.WEB, token=token_of(client, world.family_a.email)))
        assert recv(ws).code is ErrorCode.CONFLICT
        ws.send_text('{"type": "box_settings", "key": "abcdefgh1", "lang": "en"}')
        assert recv(ws).code is ErrorCode.INVALID
