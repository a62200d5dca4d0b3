"""When the TV reminds of a visit, worked out on the box from the stored list (so it works
offline and after a restart): the evening before at 19:00 in the elder's zone, and a set
time before: "leave by" the travel time the family set for a visit at the clinic, else one
hour before. No Kivy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import Enum

from protocol import VisitInfo, VisitPlace
from tvbox.appointments.words import zone

EVENING_AT = time(19, 0)
BEFORE = timedelta(hours=1)
EVENING_LATE = timedelta(hours=3)  # an evening reminder later than this is not given


class ReminderKind(Enum):
    """Which reminder of a visit."""

    EVENING = "evening"
    BEFORE = "before"  # one hour before
    LEAVE = "leave"  # "leave by", from the travel time


@dataclass(frozen=True)
class VisitReminder:
    """One reminder of one visit, due at ``at`` (aware UTC), until ``until``."""

    key: str
    visit: VisitInfo
    kind: ReminderKind
    at: datetime
    until: datetime


def reminders_of(
    visit: VisitInfo, elder_zone: str, travel_minutes: int | None
) -> list[VisitReminder]:
    """The evening-before and the before reminders of ``visit``."""
    tz = zone(elder_zone)
    day_before = visit.starts_at.astimezone(tz).date() - timedelta(days=1)
    # A wall-clock time of the elder's zone: on a daylight-saving day 19:00 is still 19:00.
    evening = datetime.combine(day_before, EVENING_AT, tzinfo=tz)
    out = [
        VisitReminder(
            f"evening:{visit.id}",
            visit,
            ReminderKind.EVENING,
            evening,
            min(evening + EVENING_LATE, visit.starts_at),
        )
    ]
    if visit.place is VisitPlace.CLINIC and travel_minutes:
        leave = visit.starts_at - timedelta(minutes=travel_minutes)
        out.append(
            VisitReminder(f"before:{visit.id}", visit, ReminderKind.LEAVE, leave, visit.starts_at)
        )
    else:
        before = visit.starts_at - BEFORE
        out.append(
            VisitReminder(f"before:{visit.id}", visit, ReminderKind.BEFORE, before, visit.starts_at)
        )
    return out


def all_reminders(
    visits: list[VisitInfo], elder_zone: str, travel_minutes: int | None
) -> list[VisitReminder]:
    """Every reminder of every visit, earliest first."""
    found = [r for v in visits for r in reminders_of(v, elder_zone, travel_minutes)]
    return sorted(found, key=lambda r: (r.at, r.key))


def due(reminders: list[VisitReminder], given: set[str], now: datetime) -> list[VisitReminder]:
    """Reminders due now and not given yet."""
    return [r for r in reminders if r.key not in given and r.at <= now < r.until]


def next_time(reminders: list[VisitReminder], given: set[str], now: datetime) -> datetime | None:
    """When the next reminder not given yet falls due (None: none left)."""
    later = [r.at for r in reminders if r.key not in given and r.at > now]
    return min(later, default=None)
