"""Reminder wire messages round-trip, and the shared schedule gives local wall-clock doses."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from pydantic import ValidationError

from protocol import (
    DoseAlert,
    DoseAnswer,
    DoseOutcome,
    MedPlans,
    MedPlansRequest,
    PlanInfo,
    Schedule,
    answer_key,
    dump_message,
    parse_message,
)
from protocol.schedule import doses_between, local_day_bounds, parse_dose_key

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
SCHED = Schedule(times=(time(8, 0), time(20, 0)), start_date=date(2026, 1, 1))
PLAN = PlanInfo(
    id=3,
    medicine="Amlodipine",
    strength="5 mg",
    dose="1 tablet",
    instructions="after meals",
    appearance="small white round",
    colour="#ffffff",
    schedule=SCHED,
    updated_at=T0,
)

SAMPLES = [
    MedPlans(elder_id=1, plans=[PLAN]),
    MedPlansRequest(id="r1"),
    DoseAnswer(
        key=answer_key(3, datetime(2026, 11, 22, 8, 0), DoseOutcome.TAKEN),
        plan_id=3,
        scheduled_local=datetime(2026, 11, 22, 8, 0),
        scheduled_at=T0,
        outcome=DoseOutcome.TAKEN,
        occurred_at=T0,
    ),
    DoseAlert(elder_id=1, elder_name="王秀英", plan_id=3, medicine="Amlodipine", scheduled_at=T0),
]


@pytest.mark.parametrize("message", SAMPLES, ids=lambda m: m.type)
def test_round_trip(message: object) -> None:
    assert parse_message(dump_message(message)) == message  # type: ignore[arg-type]


def test_answer_key_is_stable_and_distinguishes_answers() -> None:
    local = datetime(2026, 3, 29, 8, 0)
    assert answer_key(3, local, DoseOutcome.TAKEN) == answer_key(3, local, DoseOutcome.TAKEN)
    assert answer_key(3, local, DoseOutcome.TAKEN) != answer_key(3, local, DoseOutcome.SKIPPED)
    assert len(answer_key(2**31, local, DoseOutcome.SNOOZED) + "#99") <= 64


@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        ({"times": ()}, "at least one time"),
        ({"end_date": date(2025, 12, 31)}, "end date is before"),
        ({"days_of_week": (0,)}, "numbered 1"),
        ({"days_of_week": (1,), "every_n_days": 2}, "not both"),
        ({"times": (time(8), time(8))}, "twice"),
    ],
)
def test_bad_schedules_are_refused_with_a_clear_reason(fields: dict, needle: str) -> None:
    values = {"times": (time(8),), "start_date": date(2026, 1, 1)} | fields
    with pytest.raises(ValidationError, match=needle):
        Schedule(**values)


def _local_times(tz: str, start: datetime, end: datetime, sched: Schedule) -> list[str]:
    from zoneinfo import ZoneInfo

    return [
        s.at.astimezone(ZoneInfo(tz)).strftime("%m-%d %H:%M")
        for s in doses_between([(1, sched)], tz, start, end)
    ]


def test_london_doses_keep_wall_clock_time_across_both_dst_changes() -> None:
    sched = Schedule(times=(time(8, 0), time(1, 30)), start_date=date(2026, 1, 1))
    spring = _local_times(
        "Europe/London", datetime(2026, 3, 28, tzinfo=UTC), datetime(2026, 3, 30, tzinfo=UTC), sched
    )
    # 01:30 does not exist on 29 March (clocks jump 01:00 → 02:00): it is given at 02:30.
    assert spring == ["03-28 01:30", "03-28 08:00", "03-29 02:30", "03-29 08:00"]
    slots = doses_between(
        [(1, sched)],
        "Europe/London",
        datetime(2026, 3, 29, tzinfo=UTC),
        datetime(2026, 3, 30, tzinfo=UTC),
    )
    assert [s.at.hour for s in slots] == [1, 7]  # 08:00 BST is 07:00 UTC
    autumn = _local_times(
        "Europe/London",
        datetime(2026, 10, 24, 12, tzinfo=UTC),
        datetime(2026, 10, 26, tzinfo=UTC),
        sched,
    )
    # 01:30 happens twice on 25 October: only the first one is a dose.
    assert autumn == ["10-25 01:30", "10-25 08:00"]


def test_shanghai_doses_do_not_move_when_europe_changes_clocks() -> None:
    slots = doses_between(
        [(1, SCHED)],
        "Asia/Shanghai",
        datetime(2026, 3, 28, tzinfo=UTC),
        datetime(2026, 3, 31, tzinfo=UTC),
    )
    assert {s.at.hour for s in slots} == {0, 12}  # 08:00 and 20:00 at UTC+8, always
    assert all(s.local.hour in (8, 20) for s in slots)


def test_weekdays_every_n_days_and_bounds() -> None:
    mondays = Schedule(times=(time(9),), days_of_week=(1,), start_date=date(2026, 11, 1))
    slots = doses_between(
        [(1, mondays)],
        "Asia/Shanghai",
        datetime(2026, 11, 1, tzinfo=UTC),
        datetime(2026, 11, 30, tzinfo=UTC),
    )
    assert [s.local.day for s in slots] == [2, 9, 16, 23]
    every3 = Schedule(
        times=(time(9),), every_n_days=3, start_date=date(2026, 11, 1), end_date=date(2026, 11, 10)
    )
    slots = doses_between(
        [(1, every3)],
        "Asia/Shanghai",
        datetime(2026, 10, 1, tzinfo=UTC),
        datetime(2026, 12, 1, tzinfo=UTC),
    )
    assert [s.local.day for s in slots] == [1, 4, 7, 10]
    as_needed = Schedule(as_needed=True, start_date=date(2026, 1, 1))
    assert doses_between([(1, as_needed)], "UTC", T0, T0.replace(year=2027)) == []


def test_dose_keys_and_day_bounds() -> None:
    slot = doses_between([(7, SCHED)], "Asia/Shanghai", T0, T0.replace(day=23))[0]
    assert parse_dose_key(slot.key) == (7, slot.local)
    begin, after = local_day_bounds(date(2026, 3, 29), "Europe/London")
    assert (after - begin).total_seconds() == 23 * 3600
