"""Appointment wire messages round-trip, and bad ones are refused with a reason."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from protocol import (
    Appointments,
    ApptBook,
    ApptBooked,
    ApptCancel,
    ApptHeld,
    ApptHold,
    ApptOption,
    ApptOptions,
    ApptOptionsRequest,
    ApptRefused,
    BookingStep,
    DayPart,
    ErrorCode,
    HeldSlot,
    ProtocolError,
    VisitInfo,
    VisitPlace,
    dump_message,
    parse_message,
)

T0 = datetime(2026, 12, 8, 1, 0, tzinfo=UTC)
T1 = datetime(2026, 12, 8, 1, 15, tzinfo=UTC)
VISIT = VisitInfo(
    id=4,
    starts_at=T0,
    ends_at=T1,
    place=VisitPlace.CLINIC,
    clinic_name="社区卫生服务中心",
    doctor_name="王医生",
    department_name="全科",
    timezone="Asia/Shanghai",
)
SLOT = HeldSlot(
    slot_id=9,
    starts_at=T0,
    ends_at=T1,
    timezone="Asia/Shanghai",
    clinic_name="Clinic",
    doctor_name="Dr. Wang",
    department_name="General practice",
    places=[VisitPlace.CLINIC, VisitPlace.VIDEO],
)

SAMPLES = [
    Appointments(elder_id=1, visits=[VISIT], travel_minutes=40),
    Appointments(elder_id=1),
    ApptOptionsRequest(step=BookingStep.DEPARTMENTS, id="q1"),
    ApptOptionsRequest(
        step=BookingStep.TIMES,
        department="gp",
        clinic_id=2,
        day=date(2026, 12, 8),
        part=DayPart.MORNING,
        id="q2",
    ),
    ApptOptions(
        ref="q1",
        step=BookingStep.CLINICS,
        options=[ApptOption(key="2", label="Clinic", distance_km=1.2)],
    ),
    ApptOptions(
        step=BookingStep.DAYS, options=[ApptOption(key="2026-12-08", day=date(2026, 12, 8))]
    ),
    ApptHold(slot_id=9, id="h1"),
    ApptHeld(ref="h1", hold_id=3, expires_at=T0, slot=SLOT),
    ApptBook(key="book:abcdef12", slot_id=9, hold_id=3, place=VisitPlace.VIDEO),
    ApptBooked(key="book:abcdef12", visit=VISIT),
    ApptCancel(key="cancel:4:abcdef", appointment_id=4, occurred_at=T0),
    ApptRefused(ref="b1", code=ErrorCode.SLOT_TAKEN, message="just taken"),
]


@pytest.mark.parametrize("message", SAMPLES, ids=lambda m: m.type)
def test_round_trip(message: object) -> None:
    text = dump_message(message)  # type: ignore[arg-type]
    assert parse_message(text) == message


@pytest.mark.parametrize(
    "raw",
    [
        {"type": "appt_options_request", "step": "everything"},
        {"type": "appt_options_request", "step": "days", "department": "GP; drop"},
        {"type": "appt_book", "key": "short", "slot_id": 1},
        {"type": "appt_book", "key": "key with spaces!", "slot_id": 1},
        {"type": "appt_hold", "slot_id": 0},
        {"type": "appt_cancel", "key": "cancel:123456", "appointment_id": "x"},
        {"type": "appointments", "elder_id": 1, "travel_minutes": 9999},
    ],
)
def test_bad_messages_are_refused_with_a_reason(raw: dict[str, object]) -> None:
    with pytest.raises(ProtocolError) as err:
        parse_message(raw)
    assert err.value.code is ErrorCode.INVALID


def test_at_most_six_options() -> None:
    with pytest.raises(ProtocolError):
        parse_message(
            {"type": "appt_options", "step": "days", "options": [{"key": str(i)} for i in range(7)]}
        )
