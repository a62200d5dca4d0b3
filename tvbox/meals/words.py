"""Meals in words, on screen and aloud: "Tomorrow's lunch: Low-salt set, delivered to your
home between 11:30 and 12:30. You pay 8 yuan.", in the TV's language. No Kivy."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from protocol import Lang
from tvbox.ui.i18n import text


def zone(name: str) -> ZoneInfo:
    """The named zone (Shanghai if this box does not know it)."""
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("Asia/Shanghai")


def price(lang: Lang, cents: int) -> str:
    """ "8 yuan" / "8元"; "7.50 yuan" with cents."""
    yuan = f"{cents // 100}" if cents % 100 == 0 else f"{cents / 100:.2f}"
    return text(lang, "meals.price", yuan=yuan)


def day_word(lang: Lang, day: date, today: date) -> str:
    """ "Today's" / "Tomorrow's" (the list holds only those two days)."""
    return text(lang, f"meals.day.{1 if day > today else 0}")


def meal_word(lang: Lang, meal: str) -> str:
    """ "lunch" / "午餐"."""
    return text(lang, f"meals.meal.{meal}")


def how(lang: Lang, mode: str, point: str, start: str, end: str) -> str:
    """How the elder gets the meal: delivered, or eaten at the meal point, and when."""
    return text(lang, f"meals.how.{mode}", point=point, start=start, end=end)


def local_time(at: datetime, zone_name: str) -> str:
    """ "17:00" in the meal point's zone."""
    return at.astimezone(zone(zone_name)).strftime("%H:%M")
