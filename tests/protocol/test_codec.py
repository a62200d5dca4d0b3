"""Round trips and refusals of the wire codec."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from protocol import (
    MESSAGE_TYPES,
    Ack,
    BoxSettings,
    Changed,
    ClientKind,
    ElderInfo,
    ElderUpdated,
    Error,
    ErrorCode,
    Heartbeat,
    Hello,
    Lang,
    Paired,
    ProtocolError,
    Revoked,
    Role,
    Topic,
    Welcome,
    dump_message,
    message_ref,
    parse_message,
)
from tests.protocol.test_sos import SOS_SAMPLES

ELDER = ElderInfo(id=7, name="王秀英", lang=Lang.ZH, timezone="Asia/Shanghai")
T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)

SAMPLES = [
    Hello(client=ClientKind.BOX, device_token="tok", app_version="0.1.0", lang=Lang.ZH, id="m1"),
    Hello(client=ClientKind.BOX, pairing_secret="s3cret"),
    Hello(client=ClientKind.WEB, token="bearer"),
    Welcome(client=ClientKind.BOX, device_id=3, elder=ELDER, heartbeat_seconds=10, server_time=T0),
    Welcome(client=ClientKind.WEB, role=Role.FAMILY, user_id=2, heartbeat_seconds=10),
    Heartbeat(ts=T0),
    Error(code=ErrorCode.INVALID, message="bad", ref="m1"),
    Paired(device_id=3, device_token="tok", elder=ELDER),
    Revoked(message="revoked by family"),
    Changed(topic=Topic.ELDER, elder_id=7, data={"lang": "en"}),
    ElderUpdated(elder=ELDER.model_copy(update={"speech_rate_wpm": 110}), id="u1"),
    Ack(key="k" * 16, duplicate=True),
    BoxSettings(key="abcdefgh12345678", lang=Lang.EN, occurred_at=T0),
    *SOS_SAMPLES,
]


def test_every_message_type_has_a_sample() -> None:
    from tests.protocol.test_appointments import SAMPLES as APPOINTMENT_SAMPLES
    from tests.protocol.test_call import SAMPLES as CALL_SAMPLES
    from tests.protocol.test_meals import SAMPLES as MEAL_SAMPLES
    from tests.protocol.test_reminders import SAMPLES as REMINDER_SAMPLES

    samples = [*SAMPLES, *REMINDER_SAMPLES, *CALL_SAMPLES, *APPOINTMENT_SAMPLES, *MEAL_SAMPLES]
    assert {type(m) for m in samples} == set(MESSAGE_TYPES)


@pytest.mark.parametrize("message", SAMPLES, ids=lambda m: m.type)
def test_round_trip(message) -> None:
    text = dump_message(message)
    assert json.loads(text)["type"] == message.type
    assert parse_message(text) == message
    assert parse_message(text.encode()) == message


def test_chinese_names_survive() -> None:
    back = parse_message(dump_message(Paired(device_id=1, device_token="t", elder=ELDER)))
    assert isinstance(back, Paired)
    assert back.elder.name == "王秀英"


@pytest.mark.parametrize(
    ("raw", "code", "fragment"),
    [
        ("{not json", ErrorCode.MALFORMED, "not JSON"),
        ("[1, 2]", ErrorCode.MALFORMED, "JSON object"),
        ('{"no": "type"}', ErrorCode.MALFORMED, "'type'"),
        ('{"type": 5}', ErrorCode.MALFORMED, "'type'"),
        ('{"type": "teleport"}', ErrorCode.UNKNOWN_TYPE, "teleport"),
        ('{"type": "hello", "client": "toaster"}', ErrorCode.INVALID, "client"),
        ('{"type": "hello"}', ErrorCode.INVALID, "client"),
        ('{"type": "heartbeat", "extra": 1}', ErrorCode.INVALID, "extra"),
        ('{"type": "box_settings", "key": "short", "lang": "en"}', ErrorCode.INVALID, "key"),
        ("x" * 70000, ErrorCode.TOO_LARGE, "larger"),
        ("中" * 30000, ErrorCode.TOO_LARGE, "90000 bytes"),  # the limit counts bytes, not chars
        ("[" * 30000 + "]" * 30000, ErrorCode.MALFORMED, "deeper"),
        ('{"a":' * 20000 + "1" + "}" * 20000, ErrorCode.TOO_LARGE, "larger"),
        ('{"type": "heartbeat", "x": ' + "[" * 33 + "]" * 33 + "}", ErrorCode.MALFORMED, "deeper"),
    ],
)
def test_bad_input_is_refused_with_a_reason(raw: str, code: ErrorCode, fragment: str) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_message(raw)
    assert info.value.code == code
    assert fragment in info.value.message


def test_message_ref_recovers_the_id_of_a_bad_message() -> None:
    assert message_ref('{"type": "nope", "id": "abc"}') == "abc"
    assert message_ref("garbage") is None
    assert message_ref('{"id": 5}') is None


def test_depth_counts_nesting_not_brackets() -> None:
    # Brackets inside strings, and many shallow brackets side by side, are not nesting.
    assert parse_message('{"type": "heartbeat", "id": "' + "[{" * 30 + '"}').id == "[{" * 30
    shallow = {"type": "changed", "topic": "elder", "data": {"l": [[1]] * 2000}}
    assert parse_message(json.dumps(shallow)).data == shallow["data"]
    deep = {"type": "changed", "topic": "elder", "data": {"x": '\\"[' * 40}}
    assert parse_message(json.dumps(deep)).data == deep["data"], "escaped quotes end no string"


def test_message_ref_of_a_hostile_frame_is_none_not_a_crash() -> None:
    assert message_ref("[" * 30000 + "]" * 30000) is None  # RecursionError before the fix
    assert message_ref(b'{"id": "a", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}") is None
    assert message_ref('{"id": "big", "x": "' + "x" * 70000 + '"}') is None


def test_messages_are_immutable() -> None:
    msg = Heartbeat()
    with pytest.raises(ValueError):
        msg.ts = T0  # type: ignore[misc]


def test_elder_speech_settings_default_for_older_servers_and_are_bounded() -> None:
    # A server from before speech settings sends no such fields: the box speaks as before.
    old = parse_message(
        '{"type": "paired", "device_id": 3, "device_token": "tok", "elder": '
        '{"id": 7, "name": "王秀英", "lang": "zh", "timezone": "Asia/Shanghai"}}'
    )
    assert isinstance(old, Paired)
    assert (old.elder.speech_rate_wpm, old.elder.speech_volume_pct) == (140, 100)
    slow = ELDER.model_copy(update={"speech_rate_wpm": 100, "speech_volume_pct": 60})
    assert parse_message(dump_message(Paired(device_id=3, device_token="t", elder=slow))) == (
        Paired(device_id=3, device_token="t", elder=slow)
    )
    for field, value in (("speech_rate_wpm", 30), ("speech_volume_pct", 150)):
        with pytest.raises(ValueError, match=field):
            ElderInfo.model_validate(ELDER.model_dump() | {field: value})


def test_an_elder_update_carries_the_whole_elder() -> None:
    # The box replaces its elder with what it is told: a partial record is refused, not merged.
    with pytest.raises(ProtocolError) as err:
        parse_message('{"type": "elder_updated", "elder": {"id": 7, "lang": "en"}}')
    assert err.value.code is ErrorCode.INVALID and "elder.name" in str(err.value)
