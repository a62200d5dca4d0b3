"""Call signaling through the real app's sockets: queue, one doctor wins, relay only between
parties, cancel, hang-up, family ringing, auto-answer, TURN credentials, records and FHIR."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession

from protocol import (
    CallAccept,
    CallAnswer,
    CallDecline,
    CallEnded,
    CallEndReason,
    CallHangUp,
    CallInvite,
    CallJoin,
    CallOffer,
    CallQueued,
    CallRinging,
    CallRole,
    CallStart,
    ClientKind,
    ConsultNotes,
    ConsultQueue,
    ConsultRequest,
    Error,
    ErrorCode,
    Heartbeat,
    Hello,
    Role,
    Welcome,
)
from server.calls.config import call_settings
from server.runtime import Runtime
from tests.conftest import bearer
from tests.server.test_box_socket import pair_box, recv, send
from tests.support.world import World, make_user

OFFER = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n"


@pytest.fixture(autouse=True)
def fresh_call_settings() -> Iterator[None]:
    call_settings.cache_clear()
    yield
    call_settings.cache_clear()


@contextmanager
def page(client: TestClient, email: str) -> Iterator[WebSocketTestSession]:
    """A logged-in page's socket."""
    token = bearer(client, email)["Authorization"].removeprefix("Bearer ")
    with client.websocket_connect("/ws/web") as ws:
        send(ws, Hello(client=ClientKind.WEB, token=token))
        assert isinstance(recv(ws), Welcome)
        yield ws


@contextmanager
def box(client: TestClient, token: str) -> Iterator[WebSocketTestSession]:
    """A paired box's socket."""
    with client.websocket_connect("/ws/box") as ws:
        send(ws, Hello(client=ClientKind.BOX, device_token=token))
        assert isinstance(recv(ws), Welcome)
        yield ws


def next_of(ws: WebSocketTestSession, kind: type[Any]) -> Any:
    """The next message of type ``kind``, skipping unrelated pushes (`changed` etc.)."""
    for _ in range(20):
        message = recv(ws)
        if isinstance(message, kind):
            return message
        if isinstance(message, Error) and kind is not Error:
            raise AssertionError(f"expected {kind.__name__}, got error {message}")
    raise AssertionError(f"no {kind.__name__} in 20 messages")


def nothing_pending(ws: WebSocketTestSession) -> None:
    """Nothing call-related is queued for this socket: a heartbeat's echo comes next."""
    send(ws, Heartbeat(id="probe"))
    while True:
        message = recv(ws)
        if isinstance(message, Heartbeat):
            assert message.id == "probe"
            return
        assert message.type == "changed", f"unexpected {message}"


def second_doctor(rt: Runtime, world: World) -> str:
    with rt.db.session() as db:
        return make_user(db, Role.DOCTOR, clinic_id=world.clinic_a.id).email


def test_consult_one_doctor_wins_relay_and_record(
    client: TestClient, world: World, rt: Runtime
) -> None:
    token, device_id = pair_box(client, world)
    other_doctor = second_doctor(rt, world)
    with (
        box(client, token) as tv,
        page(client, world.doctor_a.email) as doctor,
        page(client, other_doctor) as rival,
        page(client, world.doctor_b.email) as stranger,
    ):
        send(tv, ConsultRequest())
        queued = next_of(tv, CallQueued)
        assert queued.position == 1 and queued.expected_wait_s > 0
        entry = next_of(doctor, ConsultQueue).entries[0]
        assert entry.call_id == queued.call_id and entry.elder_name == world.elder_a.name
        assert entry.age is not None and entry.age > 70 and entry.lang.value == "zh"
        assert next_of(rival, ConsultQueue).entries[0].call_id == queued.call_id
        nothing_pending(stranger)  # another clinic's doctor does not see the request

        send(doctor, CallJoin(call_id=queued.call_id, id="j1"))
        start = next_of(doctor, CallStart)
        assert start.role is CallRole.OFFERER and start.peer_name == world.elder_a.name
        assert start.ice_servers == []  # none configured: no public STUN sneaks in
        box_start = next_of(tv, CallStart)
        assert box_start.role is CallRole.ANSWERER and box_start.peer_name == world.doctor_a.name
        assert next_of(rival, ConsultQueue).entries == []  # it left the other doctor's queue

        send(rival, CallJoin(call_id=queued.call_id, id="j2"))
        refused = next_of(rival, Error)
        assert refused.code is ErrorCode.CONFLICT and refused.ref == "j2"

        send(doctor, CallOffer(call_id=queued.call_id, sdp=OFFER))
        assert next_of(tv, CallOffer).sdp == OFFER
        send(tv, CallAnswer(call_id=queued.call_id, sdp=OFFER.replace("1 1", "2 2")))
        assert "2 2" in next_of(doctor, CallAnswer).sdp

        # Outsiders can neither inject into the call nor hear it.
        send(stranger, CallOffer(call_id=queued.call_id, sdp=OFFER, id="x"))
        assert next_of(stranger, Error).code is ErrorCode.NOT_FOUND
        send(rival, CallHangUp(call_id=queued.call_id, id="y"))
        assert next_of(rival, Error).code is ErrorCode.NOT_FOUND
        nothing_pending(tv)
        nothing_pending(doctor)

        send(doctor, ConsultNotes(call_id=queued.call_id, notes="BP 150/90", outcome="advice"))
        send(tv, CallHangUp(call_id=queued.call_id))
        ended = next_of(doctor, CallEnded)
        assert ended.reason is CallEndReason.HUNG_UP and ended.by == "box"
        assert next_of(tv, CallEnded).call_id == queued.call_id

    headers = bearer(client, world.doctor_a.email)
    record = client.get(f"/api/calls/{queued.call_id}", headers=headers).json()
    assert record["notes"] == "BP 150/90" and record["outcome"] == "advice"
    assert record["user_id"] == world.doctor_a.id
    assert record["requested_at"] <= record["answered_at"] <= record["ended_at"]
    fhir = client.get(f"/api/calls/{queued.call_id}/fhir", headers=headers).json()
    assert fhir["resourceType"] == "Encounter" and fhir["status"] == "finished"
    assert fhir["class"]["code"] == "VR"
    assert fhir["participant"][0]["individual"]["display"] == world.doctor_a.name
    assert "BP 150/90" in fhir["text"]["div"]
    # Another family's member cannot read it; the elder's family can.
    assert (
        client.get(
            f"/api/calls/{queued.call_id}", headers=bearer(client, world.family_b.email)
        ).status_code
        == 404
    )
    past = client.get(f"/api/elders/{world.elder_a.id}/calls", headers=headers).json()
    assert [c["id"] for c in past] == [queued.call_id]
    assert device_id


def test_cancel_while_queued_leaves_the_queue(client: TestClient, world: World) -> None:
    token, _ = pair_box(client, world)
    with box(client, token) as tv, page(client, world.doctor_a.email) as doctor:
        send(tv, ConsultRequest())
        call_id = next_of(tv, CallQueued).call_id
        assert next_of(doctor, ConsultQueue).entries[0].call_id == call_id
        send(tv, CallHangUp(call_id=call_id))
        assert next_of(tv, CallEnded).reason is CallEndReason.CANCELLED
        assert next_of(doctor, ConsultQueue).entries == []
        send(doctor, CallJoin(call_id=call_id, id="late"))
        assert next_of(doctor, Error).code is ErrorCode.CONFLICT
    fhir = client.get(f"/api/calls/{call_id}/fhir", headers=bearer(client, world.doctor_a.email))
    assert fhir.json()["status"] == "cancelled"


def test_family_call_ring_decline_accept_and_auto_answer(client: TestClient, world: World) -> None:
    token, _ = pair_box(client, world)
    family_headers = bearer(client, world.family_a.email)
    with page(client, world.family_a.email) as family, page(client, world.family_b.email) as other:
        send(family, CallInvite(elder_id=world.elder_a.id, id="offline"))
        assert next_of(family, Error).code is ErrorCode.CONFLICT  # the TV is not connected
        with box(client, token) as tv:
            send(other, CallInvite(elder_id=world.elder_a.id, id="nope"))
            assert next_of(other, Error).code is ErrorCode.NOT_FOUND

            send(family, CallInvite(elder_id=world.elder_a.id))
            ringing = next_of(tv, CallRinging)
            assert ringing.caller_name == world.family_a.name and ringing.auto_answer is False
            assert next_of(family, CallRinging).call_id == ringing.call_id
            send(tv, CallDecline(call_id=ringing.call_id))
            assert next_of(family, CallEnded).reason is CallEndReason.DECLINED

            send(family, CallInvite(elder_id=world.elder_a.id))
            ringing = next_of(tv, CallRinging)
            send(tv, CallAccept(call_id=ringing.call_id))
            assert next_of(family, CallStart).role is CallRole.OFFERER
            assert next_of(tv, CallStart).peer_name == world.family_a.name
            send(family, CallHangUp(call_id=ringing.call_id))
            assert next_of(tv, CallEnded).by == "caller"

            resp = client.put(
                f"/api/elders/{world.elder_a.id}/call-preference",
                json={"auto_answer": True},
                headers=family_headers,
            )
            assert resp.status_code == 200
            send(family, CallInvite(elder_id=world.elder_a.id))
            assert next_of(tv, CallRinging).auto_answer is True


def test_only_family_sets_auto_answer(client: TestClient, world: World) -> None:
    path = f"/api/elders/{world.elder_a.id}/call-preference"
    for who, status in (("doctor_a", 403), ("operator_a", 403), ("family_b", 404)):
        resp = client.put(
            path, json={"auto_answer": True}, headers=bearer(client, world.user(who).email)
        )
        assert resp.status_code == status, who
    resp = client.put(
        path, json={"auto_answer": "maybe"}, headers=bearer(client, world.family_a.email)
    )
    assert resp.status_code == 422


def test_turn_credentials_from_the_shared_secret(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANXIN_CALL_TURN_URLS", '["turn:127.0.0.1:3478?transport=udp"]')
    monkeypatch.setenv("ANXIN_CALL_TURN_SECRET", "shared-with-coturn")
    monkeypatch.setenv("ANXIN_CALL_ICE_TRANSPORT_POLICY", "relay")
    call_settings.cache_clear()
    token, device_id = pair_box(client, world)
    with box(client, token) as tv, page(client, world.doctor_a.email) as doctor:
        send(tv, ConsultRequest())
        call_id = next_of(tv, CallQueued).call_id
        send(doctor, CallJoin(call_id=call_id))
        start = next_of(tv, CallStart)
    assert start.ice_transport_policy == "relay"
    (turn,) = start.ice_servers
    assert turn.urls == ["turn:127.0.0.1:3478?transport=udp"]
    expiry, user = turn.username.split(":")
    assert user == f"box-{device_id}" and int(expiry) > 0
    digest = hmac.new(b"shared-with-coturn", turn.username.encode(), hashlib.sha1).digest()
    assert turn.credential == base64.b64encode(digest).decode()


def page_login(client: TestClient, email: str) -> None:
    form = {"email": email, "password": "correct horse battery"}
    assert client.post("/login", data=form, follow_redirects=False).status_code == 303


@pytest.mark.parametrize(
    ("who", "path", "status"),
    [
        ("doctor_a", "/doctor/consults", 200),
        ("family_a", "/doctor/consults", 403),
        ("family_a", "/family/call/{a}", 200),
        ("family_b", "/family/call/{a}", 404),
        ("doctor_a", "/family/call/{a}", 403),
        ("operator_a", "/family/call/{a}", 200),
    ],
)
def test_call_pages_by_role(
    client: TestClient, world: World, who: str, path: str, status: int
) -> None:
    page_login(client, world.user(who).email)
    url = path.format(a=world.elder_a.id)
    resp = client.get(url, headers={"accept": "text/html"}, follow_redirects=False)
    assert resp.status_code == status
    if status == 200:
        assert "/static/calls.js" in resp.text


def test_family_page_switches_auto_answer_with_its_form(client: TestClient, world: World) -> None:
    import re

    page_login(client, world.family_a.email)
    family = client.get("/family", headers={"accept": "text/html"})
    assert f'id="call-{world.elder_a.id}"' in family.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', family.text)
    assert csrf is not None
    path = f"/family/call-preference/{world.elder_a.id}"
    refused = client.post(path, data={"auto_answer": "on", "csrf": "forged"})
    assert refused.status_code == 403
    done = client.post(
        path, data={"auto_answer": "on", "csrf": csrf.group(1)}, follow_redirects=False
    )
    assert done.status_code == 303
    headers = bearer(client, world.family_a.email)
    pref = client.get(f"/api/elders/{world.elder_a.id}/call-preference", headers=headers)
    assert pref.json() == {"auto_answer": True}


def test_sos_responder_call_is_answered_by_the_tv_itself(client: TestClient, world: World) -> None:
    """From an SOS alert, an operator's invite rings the box with auto-answer; a family
    member without the auto-answer setting cannot force it."""
    token, _ = pair_box(client, world)
    with (
        page(client, world.operator_a.email) as operator,
        page(client, world.family_a.email) as family,
        box(client, token) as tv,
    ):
        send(family, CallInvite(elder_id=world.elder_a.id, auto_answer=True))
        ringing = next_of(tv, CallRinging)
        assert ringing.auto_answer is False, "families use the elder's setting"
        send(family, CallHangUp(call_id=ringing.call_id))
        next_of(tv, CallEnded)
        send(operator, CallInvite(elder_id=world.elder_a.id, auto_answer=True))
        ringing = next_of(tv, CallRinging)
        assert ringing.auto_answer is True
        assert ringing.caller_name == world.operator_a.name
