"""Visits in words, on screen and aloud: "Tuesday 8 December at 9:00 in the morning, General
practice at the Community Clinic, with Dr. Wang", in the TV's language and the clinic's zone.
No Kivy."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from protocol import HeldSlot, Lang, VisitInfo, VisitPlace
from tvbox.ui.i18n import text

NOON = 12
EVENING = 18


def zone(name: str) -> ZoneInfo:
    """The named zone (Shanghai if this box does not know it)."""
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("Asia/Shanghai")


def _part(hour: int) -> str:
    if hour < NOON:
        return "morning"
    return "afternoon" if hour < EVENING else "evening"


def day_words(lang: Lang, day: date, short: bool = False) -> str:
    """ "Tuesday 8 December" / "12月8日星期二" (``short``: "Tue 8 Dec" / "12月8日周二")."""
    weekday = text(lang, f"appt.{'wday' if short else 'weekday'}.{day.weekday()}")
    month = text(lang, f"appt.{'mon' if short else 'month'}.{day.month}")
    key = "appt.date_short" if short else "appt.date"
    return text(lang, key, weekday=weekday, day=day.day, month=month)


def time_words(lang: Lang, at: datetime, short: bool = False) -> str:
    """ "9:00 in the morning" / "上午9点00分" (``short``: "9:00 am" / "上午9:00")."""
    hour12 = at.hour % 12 or 12
    part = text(lang, f"appt.{'daypart_short' if short else 'daypart'}.{_part(at.hour)}")
    key = "appt.time_short" if short else "appt.time"
    return text(lang, key, hour=hour12, minute=f"{at.minute:02d}", part=part)


def when_words(lang: Lang, starts_at: datetime, zone_name: str, now: datetime) -> str:
    """When a visit is, in full, with "today" or "tomorrow" when it is."""
    local = starts_at.astimezone(zone(zone_name))
    today = now.astimezone(zone(zone_name)).date()
    date_text = day_words(lang, local.date())
    time_text = time_words(lang, local)
    days = (local.date() - today).days
    if days in (0, 1):
        rel = text(lang, "appt.today" if days == 0 else "appt.tomorrow")
        return text(lang, "appt.when_rel", rel=rel, date=date_text, time=time_text)
    return text(lang, "appt.when", date=date_text, time=time_text)


def what_words(lang: Lang, visit: VisitInfo | HeldSlot, place: VisitPlace) -> str:
    """What and where a visit is: department, clinic or "video visit", doctor."""
    return text(
        lang,
        f"appt.what.{place.value}",
        department=visit.department_name,
        clinic=visit.clinic_name,
        doctor=visit.doctor_name,
    )


def row_words(lang: Lang, visit: VisitInfo, cancelling: bool = False) -> str:
    """One line of the visit list: short date, time, and the clinic or the kind of visit."""
    local = visit.starts_at.astimezone(zone(visit.timezone))
    date_text = day_words(lang, local.date(), short=True)
    time_text = time_words(lang, local, short=True)
    if cancelling:
        return text(lang, "appt.row_cancelling", date=date_text, time=time_text)
    place = (
        visit.clinic_name
        if visit.place is VisitPlace.CLINIC
        else text(lang, f"appt.place.{visit.place.value}")
    )
    return text(lang, "appt.row", date=date_text, time=time_text, place=place)
