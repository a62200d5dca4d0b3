"""`/ws/box`: pairing by code, device hello, heartbeats, outbox acks, revocation, bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from protocol import (
    Ack,
    BoxSettings,
    ClientKind,
    Error,
    ErrorCode,
    Heartbeat,
    Hello,
    MedPlans,
    Paired,
    Revoked,
    Welcome,
    dump_message,
    parse_message,
)
from server.core.config import Settings
from server.runtime import Runtime
from tests.conftest import bearer
from tests.support.world import World


def send(ws: WebSocketTestSession, message: Any) -> None:
    ws.send_text(dump_message(message))


def recv(ws: WebSocketTestSession) -> Any:
    return parse_message(ws.receive_text())


def pair_box(client: TestClient, world: World) -> tuple[str, int]:
    """Pair a box the way a real one does; returns (device token, device id)."""
    req = client.post("/api/pairing/requests", json={"app_version": "0.1.0"}).json()
    with client.websocket_connect("/ws/box") as ws:
        send(ws, Hello(client=ClientKind.BOX, pairing_secret=req["pairing_secret"]))
        assert isinstance(recv(ws), Welcome)
        headers = bearer(client, world.family_a.email)
        claim = client.post(
            "/api/pairing/claim",
            json={"code": req["code"], "elder_id": world.elder_a.id},
            headers=headers,
        )
        assert claim.status_code == 201, claim.text
        paired = recv(ws)
    assert isinstance(paired, Paired)
    assert paired.elder.name == world.elder_a.name
    assert paired.device_id == claim.json()["device_id"]
    return paired.device_token, paired.device_id


def test_code_is_six_digits_valid_ten_minutes(client: TestClient) -> None:
    resp = client.post("/api/pairing/requests")
    assert resp.status_code == 201
    body = resp.json()
    assert len(body["code"]) == 6 and body["code"].isdigit()
    from datetime import UTC, datetime, timedelta

    left = datetime.fromisoformat(body["expires_at"]) - datetime.now(UTC)
    assert timedelta(minutes=9) < left <= timedelta(minutes=10)


def test_pairing_end_to_end_over_the_socket(client: TestClient, world: World) -> None:
    token, device_id = pair_box(client, world)
    with client.websocket_connect("/ws/box") as ws:
        send(ws, Hello(client=ClientKind.BOX, device_token=token, app_version="0.2.0"))
        welcome = recv(ws)
        assert isinstance(welcome, Welcome)
        assert welcome.device_id == device_id
        assert welcome.elder is not None and welcome.elder.timezone == "Asia/Shanghai"
        assert isinstance(recv(ws), MedPlans)  # the state sent on connect
        send(ws, Heartbeat(id="hb1"))
        beat = recv(ws)
        assert isinstance(beat, Heartbeat) and beat.id == "hb1"
    me = client.get("/api/box/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["elder"]["name"] == world.elder_a.name


def test_status_fallback_hands_over_the_token(client: TestClient, world: World) -> None:
    req = client.post("/api/pairing/requests").json()
    status = client.post("/api/pairing/status", json={"pairing_secret": req["pairing_secret"]})
    assert status.json() == {"state": "waiting"}
    headers = bearer(client, world.family_a.email)
    claim = client.post(
        "/api/pairing/claim",
        json={"code": req["code"], "elder_id": world.elder_a.id},
        headers=headers,
    )
    assert claim.status_code == 201
    status = client.post("/api/pairing/status", json={"pairing_secret": req["pairing_secret"]})
    body = status.json()
    assert body["state"] == "paired"
    assert body["elder"]["id"] == world.elder_a.id
    me = client.get("/api/box/me", headers={"Authorization": f"Bearer {body['device_token']}"})
    assert me.status_code == 200


def test_a_code_is_claimed_once(client: TestClient, world: World) -> None:
    req = client.post("/api/pairing/requests").json()
    headers = bearer(client, world.family_a.email)
    body = {"code": req["code"], "elder_id": world.elder_a.id}
    assert client.post("/api/pairing/claim", json=body, headers=headers).status_code == 201
    again = client.post("/api/pairing/claim", json=body, headers=headers)
    assert again.status_code == 404
    assert "code" in again.json()["detail"]


def test_expired_code_cannot_be_claimed(rt: Runtime, world: World) -> None:
    from server.app import create_app

    rt.settings.pairing_code_minutes = 0.0001  # a few milliseconds
    with TestClient(create_app(runtime=rt)) as client:
        req = client.post("/api/pairing/requests").json()
        headers = bearer(client, world.family_a.email)
        resp = client.post(
            "/api/pairing/claim",
            json={"code": req["code"], "elder_id": world.elder_a.id},
            headers=headers,
        )
        assert resp.status_code == 404
        status = client.post("/api/pairing/status", json={"pairing_secret": req["pairing_secret"]})
        assert status.json()["state"] == "expired"
        with client.websocket_connect("/ws/box") as ws:
            send(ws, Hello(client=ClientKind.BOX, pairing_secret=req["pairing_secret"]))
            err = recv(ws)
            assert isinstance(err, Error) and err.code is ErrorCode.UNAUTHORIZED


def test_code_guessing_is_rate_limited(client: TestClient, world: World, rt: Runtime) -> None:
    headers = bearer(client, world.family_a.email)
    body = {"code": "000000", "elder_id": world.elder_a.id}
    codes = [
        client.post("/api/pairing/claim", json=body, headers=headers).status_code for _ in range(11)
    ]
    limit = rt.settings.pairing_attempts_per_minute
    assert codes[:limit] == [404] * limit
    assert codes[limit] == 429


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"code": "12345", "elder_id": 1}, 422),
        ({"code": "abcdef", "elder_id": 1}, 422),
        ({"code": "123456"}, 422),
        ({"code": "123456", "elder_id": -1}, 422),
        ({"code": "123456", "elder_id": "x"}, 422),
    ],
)
def test_bad_claims(client: TestClient, world: World, body: dict[str, Any], status: int) -> None:
    resp = client.post(
        "/api/pairing/claim", json=body, headers=bearer(client, world.family_a.email)
    )
    assert resp.status_code == status
    assert resp.json()["detail"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/pairing/status", {}),
        ("/api/pairing/status", {"pairing_secret": "short"}),
        ("/api/pairing/requests", {"app_version": "x" * 100}),
        ("/api/pairing/requests", {"nope": 1}),
    ],
)
def test_bad_pairing_bodies(client: TestClient, path: str, body: dict[str, Any]) -> None:
    resp = client.post(path, json=body)
    assert resp.status_code == 422
    assert resp.json()["detail"]


def test_unknown_secret_is_404(client: TestClient) -> None:
    resp = client.post("/api/pairing/status", json={"pairing_secret": "x" * 40})
    assert resp.status_code == 404


def test_revocation_cuts_the_box_off_at_once(client: TestClient, world: World) -> None:
    token, device_id = pair_box(client, world)
    headers = bearer(client, world.family_a.email)
    with client.websocket_connect("/ws/box") as ws:
        send(ws, Hello(client=ClientKind.BOX, device_token=token))
        assert isinstance(recv(ws), Welcome)
        assert isinstance(recv(ws), MedPlans)  # the state sent on connect
        assert client.delete(f"/api/devices/{device_id}", headers=headers).status_code == 204
        revoked = recv(ws)
        assert isinstance(revoked, Revoked)
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
        assert closed.value.code == 4401
    with client.websocket_connect("/ws/box") as ws:
        send(ws, Hello(client=ClientKind.BOX, device_token=token))
        err = recv(ws)
        assert isinstance(err, Error) and err.code is ErrorCode.UNAUTHORIZED
    me = client.get("/api/box/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401
    again = client.delete(f"/api/devices/{device_id}", headers=headers)
    assert again.status_code == 400


def test_outbox_item_is_applied_exactly_once(client: TestClient, world: World) -> None:
    token, _ = pair_box(client, world)
    item = BoxSettings(key="settings-0001-abcdef", lang="en", id="o1")
    with client.websocket_connect("/ws/box") as ws:
        send(ws, Hello(client=ClientKind.BOX, device_token=token))
        recv(ws)
        assert isinstance(recv(ws), MedPlans)  # the state sent on connect
        send(ws, item)
        first = recv(ws)
        send(ws, item)
        second = recv(ws)
    assert isinstance(first, Ack) and not first.duplicate and first.key == item.key
    assert isinstance(second, Ack) and second.duplicate
    elder = client.get(f"/api/elders/{world.elder_a.id}", headers=bearer(client, world.admin.email))
    assert elder.json()["lang"] == "en"
    audit = client.get(
        f"/api/elders/{world.elder_a.id}/audit", headers=bearer(client, world.admin.email)
    ).json()
    assert [a["action"] for a in audit].count("elder.lang.changed_on_box") == 1


BAD_FRAMES = [
    ("{nope", ErrorCode.MALFORMED),
    ('{"type": "launch", "id": "x1"}', ErrorCode.UNKNOWN_TYPE),
    ('{"type": "hello", "client": "fridge"}', ErrorCode.INVALID),
    ('{"type": "heartbeat"}', ErrorCode.UNAUTHORIZED),
    ('{"type": "hello", "client": "box"}', ErrorCode.INVALID),
    ('{"type": "hello", "client": "web"}', ErrorCode.INVALID),
    ('{"type": "hello", "client": "box", "device_token": "forged"}', ErrorCode.UNAUTHORIZED),
    (
        '{"type": "hello", "client": "box", "pairing_secret": "forged-secret"}',
        ErrorCode.UNAUTHORIZED,
    ),
]


@pytest.mark.parametrize(("frame", "code"), BAD_FRAMES)
def test_bad_frames_get_an_error_and_the_socket_stays_open(
    client: TestClient, world: World, frame: str, code: ErrorCode
) -> None:
    token, _ = pair_box(client, world)
    with client.websocket_connect("/ws/box") as ws:
        ws.send_text(frame)
        err = recv(ws)
        assert isinstance(err, Error)
        assert err.code is code
        assert err.message
        if '"id": "x1"' in frame:
            assert err.ref == "x1"
        send(ws, Hello(client=ClientKind.BOX, device_token=token))
        assert isinstance(recv(ws), Welcome), "the same socket still works"


def test_binary_garbage_and_wrong_messages_after_hello(client: TestClient, world: World) -> None:
    token, _ = pair_box(client, world)
    with client.websocket_connect("/ws/box") as ws:
        send(ws, Hello(client=ClientKind.BOX, device_token=token))
        recv(ws)
        assert isinstance(recv(ws), MedPlans)  # the state sent on connect
        ws.send_bytes(b"\x00\xff\x10")
        assert recv(ws).code is ErrorCode.MALFORMED
        send(ws, Welcome(client=ClientKind.BOX, heartbeat_seconds=1, id="w"))
        err = recv(ws)
        assert err.code is ErrorCode.INVALID and err.ref == "w"
        send(ws, Hello(client=ClientKind.BOX, device_token=token))
        assert recv(ws).code is ErrorCode.CONFLICT
        ws.send_text(json.dumps({"type": "box_settings", "key": "k", "lang": "en"}))
        assert recv(ws).code is ErrorCode.INVALID
        send(ws, Heartbeat())
        assert isinstance(recv(ws), Heartbeat)


def test_a_silent_box_is_dropped(db_url: str, tmp_path, world: World) -> None:
    from server.app import create_app

    settings = Settings(database_url=db_url, data_dir=tmp_path, ws_dead_after_seconds=0.5)
    runtime = Runtime.from_settings(settings)
    with TestClient(create_app(runtime=runtime)) as client:
        with client.websocket_connect("/ws/box") as ws:
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_text()
            assert closed.value.code == 4408
    runtime.db.dispose()
