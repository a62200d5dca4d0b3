"""Round trips and refusals of the call messages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from protocol import (
    CallAccept,
    CallAnswer,
    CallDecline,
    CallEnded,
    CallEndReason,
    CallHangUp,
    CallIce,
    CallIncoming,
    CallInvite,
    CallJoin,
    CallKind,
    CallOffer,
    CallPickedUp,
    CallQueued,
    CallRinging,
    CallRole,
    CallStart,
    ConsultNotes,
    ConsultQueue,
    ConsultRequest,
    FamilyCallRequest,
    FamilyCallRinging,
    IceServer,
    Lang,
    ProtocolError,
    QueueEntry,
    QueueSubscribe,
    dump_message,
    parse_message,
)
from protocol.call import CALL_MESSAGES
from protocol.turn import turn_rest_credentials

SAMPLES = [
    ConsultRequest(id="r1"),
    FamilyCallRequest(id="family"),
    FamilyCallRinging(call_id=9, rung=2, timeout_s=45.0),
    CallIncoming(call_id=9, elder_id=2, elder_name="王秀英", timeout_s=45.0),
    CallPickedUp(call_id=9, by="李娜"),
    CallQueued(call_id=4, position=2, expected_wait_s=600),
    QueueSubscribe(),
    CallJoin(call_id=4),
    CallInvite(elder_id=2, auto_answer=True),
    CallAccept(call_id=4),
    CallDecline(call_id=4),
    CallAnswer(call_id=4, sdp="v=0\r\n"),
    CallIce(call_id=4, candidate="candidate:1 1 udp 1 127.0.0.1 5000 typ host", sdp_mid="0"),
    CallHangUp(call_id=4, reason=CallEndReason.CANCELLED),
    ConsultNotes(call_id=4, notes="BP 150/90; continue amlodipine", outcome="advice"),
    CallRinging(call_id=4, kind=CallKind.FAMILY, caller_name="李娜", auto_answer=True),
    CallStart(
        call_id=4,
        kind=CallKind.CONSULT,
        role=CallRole.OFFERER,
        peer_name="王秀英",
        elder_id=2,
        ice_servers=[IceServer(urls=["turn:127.0.0.1:3478"], username="1:u", credential="c")],
        ice_transport_policy="relay",
    ),
    CallOffer(call_id=4, sdp="v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n"),
    CallEnded(call_id=4, reason=CallEndReason.DECLINED, by="box"),
    ConsultQueue(
        entries=[
            QueueEntry(
                call_id=1,
                elder_id=2,
                elder_name="王秀英",
                age=84,
                lang=Lang.ZH,
                summary="高血压",
                requested_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
        ]
    ),
]


@pytest.mark.parametrize("message", SAMPLES, ids=lambda m: m.type)
def test_call_messages_round_trip(message: object) -> None:
    assert parse_message(dump_message(message)) == message  # type: ignore[arg-type]


def test_every_call_message_type_is_known_to_the_codec() -> None:
    assert {type(m) for m in SAMPLES} == set(CALL_MESSAGES)
    for cls in CALL_MESSAGES:
        kind = cls.model_fields["type"].default
        with pytest.raises(ProtocolError) as err:
            parse_message({"type": kind, "unexpected": 1})
        assert err.value.code.value == "invalid"


def test_sdp_and_reason_are_checked() -> None:
    with pytest.raises(ProtocolError):
        parse_message({"type": "call_offer", "call_id": 1, "sdp": ""})
    with pytest.raises(ProtocolError):
        parse_message({"type": "call_hang_up", "call_id": 1, "reason": "bored"})


def test_turn_credentials_live_in_protocol_and_media_reexports_them() -> None:
    from media.turn import turn_rest_credentials as media_fn

    assert media_fn is turn_rest_credentials
    creds = turn_rest_credentials("s3cret", "doctor-3", now=datetime(2026, 1, 1, tzinfo=UTC))
    assert creds.username.endswith(":doctor-3")
