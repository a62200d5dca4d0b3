"""The rules of meals, with no database writes: a point's zone and cut-offs, which set meals
fit a diet, and the subsidy of a meal in integer cents.

Subsidy rule (the issue leaves it open; chosen here): when an elder is in several categories
of their area, the ONE category giving the largest subsidy on that meal's price wins (ties:
the lowest category id); subsidies never add up, and never exceed the price. A percentage is
rounded down to the cent (``price * percent // 100``), so payable + subsidy == price always.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from server.models import (
    Allergen,
    Dish,
    DishTag,
    ElderDiet,
    MealService,
    ServiceArea,
    SubsidyCategory,
)
from server.web.when import DEFAULT_ZONE


def split(text: str) -> list[str]:
    """The values of a comma-separated column."""
    return [part for part in text.split(",") if part]


def join(values: Iterable[str]) -> str:
    """A comma-separated column of distinct values, sorted."""
    return ",".join(sorted({str(v) for v in values}))


def weekdays(text: str) -> list[int]:
    """Weekday numbers (Monday 0) of a column like ``"0,1,2,3,4"``."""
    return [int(v) for v in split(text)]


def point_zone(area: ServiceArea | None) -> ZoneInfo:
    """A meal point's zone: its service area's (service points have none of their own)."""
    try:
        return ZoneInfo(area.timezone if area is not None else DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def cutoff_at(service: MealService, day: date, zone: ZoneInfo) -> datetime:
    """When orders for ``day``'s meal close, as an aware time (the point's wall clock)."""
    local_day = day - timedelta(days=service.cutoff_days_before)
    wall = datetime.combine(
        local_day, time(service.cutoff_minute // 60, service.cutoff_minute % 60)
    )
    return wall.replace(tzinfo=zone)


def local_window(service: MealService) -> tuple[str, str]:
    """The serving window as local ``HH:MM`` times."""
    return clock(service.window_start), clock(service.window_end)


def clock(minute: int) -> str:
    """``HH:MM`` of minutes after midnight."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


def minutes(text: str) -> int:
    """Minutes after midnight of ``HH:MM``."""
    hours, mins = text.split(":")
    return int(hours) * 60 + int(mins)


# The tag of a set meal that fits each diet flag.
DIET_TAGS = {
    "diabetic": DishTag.LOW_SUGAR,
    "low_salt": DishTag.LOW_SALT,
    "soft": DishTag.SOFT,
    "vegetarian": DishTag.VEGETARIAN,
}


def needed_tags(diet: ElderDiet | None) -> set[str]:
    """The tags a set meal needs to fit the elder's diet wholly."""
    if diet is None:
        return set()
    return {tag.value for flag, tag in DIET_TAGS.items() if getattr(diet, flag)}


def allergens_of(diet: ElderDiet | None) -> set[str]:
    """The elder's allergens."""
    return set(split(diet.allergens)) if diet is not None else set()


def is_safe(dish: Dish, diet: ElderDiet | None) -> bool:
    """Whether ``dish`` has none of the elder's allergens (never offer one that has)."""
    return not (set(split(dish.allergens)) & allergens_of(diet))


def fit(dish: Dish, diet: ElderDiet | None) -> int:
    """How many of the diet's needs the dish misses: 0 fits wholly."""
    return len(needed_tags(diet) - set(split(dish.tags)))


def offer(dishes: Iterable[Dish], diet: ElderDiet | None) -> list[tuple[Dish, bool]]:
    """The safe set meals, those fitting the diet first, each with whether it fits wholly."""
    safe = [d for d in dishes if is_safe(d, diet)]
    safe.sort(key=lambda d: (fit(d, diet), d.position))
    return [(d, fit(d, diet) == 0) for d in safe]


@dataclass(frozen=True)
class Money:
    """A meal's price, its subsidy and what is left to pay, in cents; and which category."""

    price_cents: int
    subsidy_cents: int
    payable_cents: int
    category_id: int | None


def subsidy_of(category: SubsidyCategory, price_cents: int) -> int:
    """One category's subsidy on a meal of ``price_cents``, never more than the price."""
    if category.amount_cents is not None:
        return min(category.amount_cents, price_cents)
    return min(price_cents * (category.percent or 0) // 100, price_cents)


def money(price_cents: int, categories: Iterable[SubsidyCategory]) -> Money:
    """The price split by the largest single subsidy of ``categories`` (see the module)."""
    best: tuple[int, int] | None = None  # (subsidy, -id)
    for category in categories:
        if not category.is_active:
            continue
        candidate = (subsidy_of(category, price_cents), -category.id)
        if best is None or candidate > best:
            best = candidate
    if best is None or best[0] == 0:
        return Money(price_cents, 0, price_cents, None)
    return Money(price_cents, best[0], price_cents - best[0], -best[1])


ALLERGENS = tuple(a.value for a in Allergen)
