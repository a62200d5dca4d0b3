"""The daily check-in rule on the box: when it is due, and whether the elder was active.

If the elder has not used the remote or spoken by the time the family set (in the elder's
timezone), the TV asks "Are you all right?"; no answer within `ANSWER_SECONDS` raises an SOS.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ANSWER_SECONDS = 300.0


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def next_due(now: datetime, time_local: str, timezone: str) -> datetime:
    """The next moment (UTC, after ``now``) the clock reads ``time_local`` in ``timezone``."""
    zone = _zone(timezone)
    hour, minute = (int(part) for part in time_local.split(":"))
    local_now = now.astimezone(zone)
    due = datetime.combine(local_now.date(), time(hour, minute), tzinfo=zone)
    if due <= local_now:
        due = datetime.combine(local_now.date() + timedelta(days=1), time(hour, minute), zone)
    return due.astimezone(UTC)


def active_today(last_activity: datetime | None, now: datetime, timezone: str) -> bool:
    """Whether the elder used the remote or spoke since local midnight."""
    if last_activity is None:
        return False
    zone = _zone(timezone)
    midnight = datetime.combine(now.astimezone(zone).date(), time(0, 0), tzinfo=zone)
    return last_activity >= midnight
