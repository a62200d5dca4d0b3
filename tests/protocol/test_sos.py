"""Round trips and refusals of the SOS messages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from protocol import (
    CheckInRuleSet,
    ErrorCode,
    ProtocolError,
    Role,
    SosAcknowledged,
    SosAlertPush,
    SosRaise,
    SosResolved,
    SosSource,
    SosStatus,
    dump_message,
    parse_message,
)

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
SOS_SAMPLES = [
    SosRaise(key="abcdefgh12345678", source=SosSource.RED_KEY, occurred_at=T0),
    SosAlertPush(
        alert_id=1,
        key="abcdefgh12345678",
        elder_id=7,
        elder_name="王秀英",
        status=SosStatus.OPEN,
        source=SosSource.SENSOR,
        raised_at=T0,
        level=2,
    ),
    SosAcknowledged(
        alert_id=1, key="abcdefgh12345678", by_name="李娜", relation="女儿", by_role=Role.FAMILY
    ),
    SosResolved(alert_id=1, key="abcdefgh12345678"),
    CheckInRuleSet(time_local="09:30"),
]


@pytest.mark.parametrize("message", SOS_SAMPLES, ids=lambda m: m.type)
def test_round_trip(message) -> None:  # type: ignore[no-untyped-def]
    assert parse_message(dump_message(message)) == message


def test_an_sos_needs_a_real_key_and_a_known_source() -> None:
    with pytest.raises(ProtocolError) as short:
        parse_message({"type": "sos_raise", "key": "k", "source": "red_key"})
    assert short.value.code is ErrorCode.INVALID and "key" in short.value.message
    with pytest.raises(ProtocolError) as source:
        parse_message({"type": "sos_raise", "key": "k" * 16, "source": "telepathy"})
    assert "source" in source.value.message


def test_a_check_in_time_is_hh_mm() -> None:
    assert parse_message({"type": "check_in_rule"}) == CheckInRuleSet(time_local=None)
    with pytest.raises(ProtocolError):
        parse_message({"type": "check_in_rule", "time_local": "25:00"})
