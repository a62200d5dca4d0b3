"""Times on pages: always in a named zone, never raw UTC.

Family pages show an elder's times in the elder's zone; staff pages in their clinic's or
service area's zone. When the viewer's own zone (the ``anxin_tz`` cookie, set by
``/static/zone.js`` from the browser) differs from the zone a time is shown in, the zone is
named ("Beijing time"), so a daughter in London knows 08:00 is her mother's morning.

Templates get `when`, `zone_words` and `zone_note` from `page_globals`:

    {{ when(dose.scheduled_at, elder.timezone) }}          -> "2026-12-06 08:00"
    {{ when(dose.scheduled_at, elder.timezone, "time") }}  -> "08:00"
    {{ zone_note(elder.timezone) }}                        -> "" or "Beijing time"
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Request

from protocol import Lang
from server.web.i18n import translate

ZONE_COOKIE = "anxin_tz"
DEFAULT_ZONE = "Asia/Shanghai"
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


def zone_name_words(lang: Lang, zone_name: str) -> str:
    """A zone as people say it ("Beijing time", "北京时间"); its IANA name if not in the catalog."""
    key = f"zone.{zone_name}"
    text = translate(lang, key)
    return zone_name if text == key else text


def page_globals(request: Request, lang: Lang) -> dict[str, Callable[..., Any]]:
    """The time helpers every template gets (see the module's docstring)."""
    viewer = viewer_zone(request)

    def when(
        value: datetime | date | time | None, zone_name: str | None = None, style: str = "datetime"
    ) -> str:
        if value is None:
            return "—"
        if isinstance(value, datetime):
            value = local(value, zone_name)
        return value.strftime(FORMATS[style])

    def zone_words(zone_name: str | None) -> str:
        return zone_name_words(lang, valid_zone(zone_name) or DEFAULT_ZONE)

    def zone_note(zone_name: str | None) -> str:
        """The zone's name when the viewer is elsewhere (or has not said where they are)."""
        shown = valid_zone(zone_name) or DEFAULT_ZONE
        if viewer is not None and _same_offset_now(viewer, shown):
            return ""
        return zone_name_words(lang, shown)

    return {"when": when, "zone_words": zone_words, "zone_note": zone_note}


def _same_offset_now(a: str, b: str) -> bool:
    """Whether two zones show the same clock right now (Asia/Chongqing reads as Shanghai)."""
    now = datetime.now(UTC)
    return (
        a == b or now.astimezone(ZoneInfo(a)).utcoffset() == now.astimezone(ZoneInfo(b)).utcoffset()
    )
