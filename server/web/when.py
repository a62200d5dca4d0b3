"""Times on pages: always in a named zone, never raw UTC.

Family pages show an elder's times in the elder's zone; staff pages in their clinic's or
service area's zone. When the viewer's own zone (the ``anxin_tz`` cookie, set by
``/static/zone.js`` from the browser) differs from the zone a time is shown in, the zone is
named ("Beijing time"), so a daughter in London knows 08:00 is her mother's morning.

Templates get `when`, `zone_words` and `zone_note` from `page_globals`:

    {{ when(dose.scheduled_at, elder.timezone) }}          -> "2026-12-06 08:00"
    {{ when(dose.scheduled_at, elder.timezone, "time") }}  -> "08:00"
    {{ zone_note(elder.timezone) }}                        -> "" or "Beijing time"
    {{ span(seconds) }}                                    -> "3 min 20 s"
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Request
from sqlalchemy.orm import Session

from protocol import Lang
from server.models import Clinic, ServiceArea, User
from server.web.i18n import translate

ZONE_COOKIE = "anxin_tz"
DEFAULT_ZONE = "Asia/Shanghai"
# The zones the administrator's area and clinic forms offer by name (any other IANA zone may be
# typed); each has its words in the core catalog (``zone.<name>``).
COMMON_ZONES = (
    "Asia/Shanghai",
    "Asia/Urumqi",
    "Asia/Hong_Kong",
    "Asia/Macau",
    "Asia/Taipei",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "Australia/Sydney",
)
FORMATS = {
    "datetime": "%Y-%m-%d %H:%M",
    "seconds": "%Y-%m-%d %H:%M:%S",
    "time": "%H:%M",
    "time_seconds": "%H:%M:%S",
    "date": "%Y-%m-%d",
    "day": "%m-%d",
}


def valid_zone(name: str | None) -> str | None:
    """``name`` if it is an IANA zone this machine knows, else None."""
    if not name or len(name) > 64:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def local(moment: datetime, zone_name: str | None) -> datetime:
    """``moment`` (aware, or naive meaning UTC as the database stores it) in ``zone_name``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(valid_zone(zone_name) or DEFAULT_ZONE))


def viewer_zone(request: Request) -> str | None:
    """The viewer's own zone, as their browser reported it (None before the first report).

    zone.js writes the cookie with encodeURIComponent ("Europe%2FLondon"), which Starlette
    does not undo."""
    return valid_zone(unquote(request.cookies.get(ZONE_COOKIE) or ""))


def staff_zone(db: Session, user: User, request: Request | None = None) -> str:
    """The zone a staff member's pages show times in: their clinic's (doctors, clinic staff),
    their service area's (operators); anyone else's own (the browser's report), else Beijing."""
    place: Clinic | ServiceArea | None = None
    if user.clinic_id is not None:
        place = db.get(Clinic, user.clinic_id)
    elif user.service_area_id is not None:
        place = db.get(ServiceArea, user.service_area_id)
    if place is not None:
        return valid_zone(place.timezone) or DEFAULT_ZONE
    return (viewer_zone(request) if request is not None else None) or DEFAULT_ZONE


def zone_name_words(lang: Lang, zone_name: str) -> str:
    """A zone as people say it ("Beijing time", "北京时间"); its IANA name if not in the catalog."""
    key = f"zone.{zone_name}"
    text = translate(lang, key)
    return zone_name if text == key else text


def duration_words(lang: Lang, seconds: float | None) -> str:
    """A span of time as people say it: "45 s", "3 min 20 s", "2 h 5 min" (zh: 3分20秒)."""
    if seconds is None:
        return "—"
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return translate(lang, "span.hours", h=hours, m=minutes)
    if minutes:
        return translate(lang, "span.minutes", m=minutes, s=secs)
    return translate(lang, "span.seconds", s=secs)


def page_globals(request: Request, lang: Lang) -> dict[str, Any]:
    """The time helpers every template gets (see the module's docstring)."""
    viewer = viewer_zone(request)

    def when(
        value: datetime | date | time | None, zone_name: str | None = None, style: str = "datetime"
    ) -> str:
        if value is None:
            return "—"
        if isinstance(value, datetime):
            value = local(value, zone_name)
            if style == "auto":  # the time alone today, with the date on any other day
                today = datetime.now(value.tzinfo).date() == value.date()
                style = "time" if today else "datetime"
        return value.strftime(FORMATS["datetime" if style == "auto" else style])

    def zone_words(zone_name: str | None) -> str:
        return zone_name_words(lang, valid_zone(zone_name) or DEFAULT_ZONE)

    def zone_note(zone_name: str | None) -> str:
        """The zone's name when the viewer is elsewhere (or has not said where they are)."""
        shown = valid_zone(zone_name) or DEFAULT_ZONE
        if viewer is not None and _same_offset_now(viewer, shown):
            return ""
        return zone_name_words(lang, shown)

    def span(seconds: float | None) -> str:
        return duration_words(lang, seconds)

    return {
        "common_zones": COMMON_ZONES,
        "when": when,
        "zone_words": zone_words,
        "zone_note": zone_note,
        "span": span,
    }


def _same_offset_now(a: str, b: str) -> bool:
    """Whether two zones show the same clock right now (Asia/Chongqing reads as Shanghai)."""
    now = datetime.now(UTC)
    return (
        a == b or now.astimezone(ZoneInfo(a)).utcoffset() == now.astimezone(ZoneInfo(b)).utcoffset()
    )
