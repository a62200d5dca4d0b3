"""Pure medication schedule logic shared by the box and the server (no I/O).

A schedule follows the ``Timing`` of FHIR R4 ``MedicationRequest.dosageInstruction``:
times of day (``timeOfDay``), days of the week (``dayOfWeek``) or every N days
(``period``/``periodUnit = d``), a bounded period (``boundsPeriod``) and ``asNeeded``.

A dose is identified by (plan id, scheduled *local* date-time). Its UTC instant is computed
from the elder's IANA timezone with zoneinfo. Around DST changes the rule is fixed so the box
and the server always agree: a local time that does not exist (spring forward) is taken with
the offset before the change (``fold=0``), which lands it just after the gap; a local time that
happens twice (fall back) is the first occurrence (``fold=0``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, WithJsonSchema, field_validator, model_validator

from protocol.messages import WireModel

MAX_TIMES_PER_DAY = 12

# A time of the elder's day has no UTC offset, and JSON Schema's "time" format requires one
# (RFC 3339 full-time): the schema states the shape these values really have on the wire.
LocalTime = Annotated[
    time,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$",
            "description": "local wall-clock time HH:MM[:SS], without offset",
        }
    ),
]


class Schedule(WireModel):
    """When doses are due, in the elder's local wall-clock time."""

    times: tuple[LocalTime, ...] = Field(default=(), max_length=MAX_TIMES_PER_DAY)
    days_of_week: tuple[int, ...] | None = Field(
        default=None, description="ISO weekdays 1 (Monday) to 7 (Sunday); None = every day"
    )
    every_n_days: int = Field(default=1, ge=1, le=365)
    start_date: date
    end_date: date | None = None
    as_needed: bool = False

    @field_validator("times")
    @classmethod
    def _sorted_unique_times(cls, value: tuple[time, ...]) -> tuple[time, ...]:
        if any(t.tzinfo is not None for t in value):
            raise ValueError("times are local wall-clock times, without a zone")
        if len(set(value)) != len(value):
            raise ValueError("the same time is given twice")
        return tuple(sorted(value))

    @field_validator("days_of_week")
    @classmethod
    def _valid_days(cls, value: tuple[int, ...] | None) -> tuple[int, ...] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("choose at least one day of the week")
        if any(d < 1 or d > 7 for d in value):
            raise ValueError("days of the week are numbered 1 (Monday) to 7 (Sunday)")
        return tuple(sorted(set(value)))

    @model_validator(mode="after")
    def _coherent(self) -> Schedule:
        if self.end_date is not None and self.end_date < self.start_date:
            raise ValueError("the end date is before the start date")
        if not self.as_needed and not self.times:
            raise ValueError("give at least one time of day (or mark the medicine as needed)")
        if self.days_of_week is not None and self.every_n_days != 1:
            raise ValueError("use either days of the week or every N days, not both")
        return self


@dataclass(frozen=True, order=True)
class DoseSlot:
    """One scheduled dose: the instant it is due (UTC) and its local wall-clock time."""

    at: datetime
    plan_id: int
    local: datetime

    @property
    def key(self) -> str:
        """The dose's identity as text: ``<plan id>@<local ISO date-time>``."""
        return dose_key(self.plan_id, self.local)


def zone(name: str) -> ZoneInfo:
    """The IANA timezone ``name``; ValueError if unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ValueError(f"unknown timezone {name!r}") from err


def dose_key(plan_id: int, local: datetime) -> str:
    """Identity of a dose: plan id and naive local date-time to the second."""
    return f"{plan_id}@{local.replace(tzinfo=None, microsecond=0).isoformat()}"


def parse_dose_key(key: str) -> tuple[int, datetime]:
    """Inverse of `dose_key`; ValueError on anything else."""
    plan, sep, local = key.partition("@")
    if not sep or not plan.isdigit():
        raise ValueError(f"not a dose key: {key!r}")
    return int(plan), datetime.fromisoformat(local)


def local_to_utc(local: datetime, tz: ZoneInfo) -> datetime:
    """The UTC instant of a naive local wall-clock time (fold=0 rule, see module doc)."""
    return local.replace(tzinfo=tz, fold=0).astimezone(UTC)


def is_scheduled_day(schedule: Schedule, day: date) -> bool:
    """Whether doses are due on local date ``day``."""
    if schedule.as_needed or day < schedule.start_date:
        return False
    if schedule.end_date is not None and day > schedule.end_date:
        return False
    if schedule.days_of_week is not None:
        return day.isoweekday() in schedule.days_of_week
    return (day - schedule.start_date).days % schedule.every_n_days == 0


def iter_doses(
    plan_id: int, schedule: Schedule, tz: ZoneInfo, start: datetime, end: datetime
) -> Iterator[DoseSlot]:
    """Doses due at instants in ``[start, end)`` (both tz-aware), in time order."""
    if schedule.as_needed or not schedule.times:
        return
    # Local dates of the two ends bound every local time in between (a time in a DST gap
    # maps forward by the gap, never across midnight in the zones we serve).
    first = start.astimezone(tz).date()
    last = end.astimezone(tz).date()
    if first < schedule.start_date:
        first = schedule.start_date
    if schedule.end_date is not None and last > schedule.end_date:
        last = schedule.end_date
    day = first
    while day <= last:
        if is_scheduled_day(schedule, day):
            for t in schedule.times:
                local = datetime.combine(day, t)
                at = local_to_utc(local, tz)
                if start <= at < end:
                    yield DoseSlot(at=at, plan_id=plan_id, local=local)
        day += timedelta(days=1)


def doses_between(
    plans: list[tuple[int, Schedule]], tz_name: str, start: datetime, end: datetime
) -> list[DoseSlot]:
    """Doses of several plans of one elder due in ``[start, end)``, in time order."""
    tz = zone(tz_name)
    slots = [slot for pid, sched in plans for slot in iter_doses(pid, sched, tz, start, end)]
    slots.sort()
    return slots


def local_day_bounds(day: date, tz_name: str) -> tuple[datetime, datetime]:
    """UTC instants of the start of local ``day`` and of the next day."""
    tz = zone(tz_name)
    begin = datetime.combine(day, time()).replace(tzinfo=tz).astimezone(UTC)
    after = datetime.combine(day + timedelta(days=1), time()).replace(tzinfo=tz).astimezone(UTC)
    return begin, after
