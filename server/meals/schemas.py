"""API schemas of meals: meal points' service, menus, diets, subsidies, orders, standing
orders, the kitchen's sheets and the statements. Money is always integer cents (fen)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from server.ids import RowId
from server.models import Allergen, DishTag, Meal, MealMode, MealOrderStatus, OrderedBy
from server.text import Name

_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")


def _clock(value: str) -> str:
    if not _CLOCK.fullmatch(value):
        raise ValueError("a local time as HH:MM (00:00 to 24:00)")
    return value


Clock = Annotated[str, AfterValidator(_clock), Field(examples=["17:00"])]
Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$", examples=["aged_80"])]
IdempotencyKey = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
Cents = Annotated[int, Field(ge=0, le=1_000_000)]
Weekdays = Annotated[list[Annotated[int, Field(ge=0, le=6)]], Field(min_length=1, max_length=7)]
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


def _day(value: date) -> date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError("a day from 2000-01-01 to 2099-12-31")
    return value


Day = Annotated[date, AfterValidator(_day), Field(examples=["2026-12-07"])]
"""A meal's day: bounded, so the days around it (cut-off, week after) always exist."""
Month = Annotated[str, Field(pattern=r"^20[0-9]{2}-(0[1-9]|1[0-2])$", examples=["2026-12"])]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ServiceIn(_In):
    """How a point serves one meal: cut-off (``cutoff_days_before`` days before, at
    ``cutoff_time``, the point's local time), portions and serving window."""

    meal: Meal
    cutoff_days_before: Annotated[int, Field(ge=0, le=7)] = 1
    cutoff_time: Clock = "17:00"
    portions: Annotated[int, Field(ge=0, le=5000)] = 50
    window_start: Clock = "11:00"
    window_end: Clock = "12:30"


class PointSettingsIn(_In):
    """A meal point's settings, whole: the meals it serves and how."""

    phone: Annotated[str, Field(max_length=40)] = ""
    open_days: Weekdays = [0, 1, 2, 3, 4]
    dine_in: bool = True
    delivery: bool = False
    delivery_radius_m: Annotated[int, Field(ge=0, le=10_000)] = 0
    services: Annotated[list[ServiceIn], Field(min_length=1, max_length=2)]

    @model_validator(mode="after")
    def _sound(self) -> PointSettingsIn:
        if not (self.dine_in or self.delivery):
            raise ValueError("offer eating there, delivery or both")
        if len({s.meal for s in self.services}) != len(self.services):
            raise ValueError("each meal once")
        for s in self.services:
            if s.window_start >= s.window_end:
                raise ValueError("a serving window ends after it starts")
        return self


class ServicePublic(BaseModel):
    """One meal a point serves."""

    meal: Meal
    cutoff_days_before: int
    cutoff_time: str
    portions: int
    window_start: str
    window_end: str


class PointPublic(BaseModel):
    """A meal point and how it serves (times in its zone)."""

    id: int
    name: str
    address: str
    phone: str
    latitude: float | None
    longitude: float | None
    timezone: str
    open_days: list[int]
    dine_in: bool
    delivery: bool
    delivery_radius_m: int
    services: list[ServicePublic]


class DishIn(_In):
    """One set meal of a menu."""

    name_zh: Name
    name_en: Name
    price_cents: Cents
    tags: Annotated[list[DishTag], Field(max_length=4)] = []
    allergens: Annotated[list[Allergen], Field(max_length=9)] = []


class MenuIn(_In):
    """A point's menu of one day and meal: 2–4 set meals; portions default to the service's."""

    day: Day
    meal: Meal
    portions: Annotated[int, Field(ge=0, le=5000)] | None = None
    dishes: Annotated[list[DishIn], Field(min_length=2, max_length=4)]


class CopyWeekIn(_In):
    """Copy the menus of the week starting ``from_monday`` to the week after."""

    from_monday: Day


class CopyWeekPublic(BaseModel):
    """How many menus were copied, and how many days already had one."""

    copied: int
    kept: int


class DishPublic(BaseModel):
    """A set meal; ``name`` in the caller's language."""

    id: int
    position: int
    name: str
    name_zh: str
    name_en: str
    price_cents: int
    tags: list[str]
    allergens: list[str]


class MenuPublic(BaseModel):
    """A menu, its portions and how many are ordered, and when orders close."""

    id: int
    service_point_id: int
    day: date
    meal: Meal
    portions: int
    ordered: int
    cutoff_at: datetime
    dishes: list[DishPublic]


class DietIn(_In):
    """An elder's diet and allergies."""

    diabetic: bool = False
    low_salt: bool = False
    soft: bool = False
    vegetarian: bool = False
    allergens: Annotated[list[Allergen], Field(max_length=9)] = []


class DietPublic(BaseModel):
    """An elder's diet, allergies and preferred meal point."""

    elder_id: int
    diabetic: bool
    low_salt: bool
    soft: bool
    vegetarian: bool
    allergens: list[str]
    preferred_point_id: int | None


class PreferredPointIn(_In):
    """The meal point the family fixes for the elder (null: the nearest)."""

    point_id: RowId | None


class NearPointPublic(BaseModel):
    """A meal point near the elder."""

    id: int
    name: str
    address: str
    distance_m: int
    modes: list[MealMode]
    preferred: bool


class OfferDish(DishPublic):
    """A set meal offered to an elder: whether it fits the diet, and what the elder pays."""

    fits_diet: bool
    subsidy_cents: int
    payable_cents: int


class OfferPublic(BaseModel):
    """What an elder may order for a day and meal: the safe set meals, fitting ones first."""

    elder_id: int
    day: date
    meal: Meal
    point: NearPointPublic | None
    menu_id: int | None
    cutoff_at: datetime | None
    open: bool
    sold_out: bool
    window_start: str | None
    window_end: str | None
    dishes: list[OfferDish]


class CategoryIn(_In):
    """A subsidy category of an area: ``amount_cents`` or ``percent`` per meal, not both."""

    code: Code
    name_zh: Name
    name_en: Name
    amount_cents: Cents | None = None
    percent: Annotated[int, Field(ge=0, le=100)] | None = None

    @model_validator(mode="after")
    def _one(self) -> CategoryIn:
        if (self.amount_cents is None) == (self.percent is None):
            raise ValueError("give amount_cents or percent, not both")
        return self


class CategoryUpdate(_In):
    """Changes to a subsidy category (orders already made keep their subsidy)."""

    name_zh: Name | None = None
    name_en: Name | None = None
    amount_cents: Cents | None = None
    percent: Annotated[int, Field(ge=0, le=100)] | None = None
    is_active: bool | None = None

    @model_validator(mode="after")
    def _not_both(self) -> CategoryUpdate:
        if self.amount_cents is not None and self.percent is not None:
            raise ValueError("give amount_cents or percent, not both")
        return self


class CategoryPublic(BaseModel):
    """A subsidy category."""

    id: int
    service_area_id: int
    code: str
    name: str
    name_zh: str
    name_en: str
    amount_cents: int | None
    percent: int | None
    is_active: bool


class ElderCategoriesIn(_In):
    """The elder's subsidy categories, whole (ids of categories of the elder's area)."""

    category_ids: Annotated[list[RowId], Field(max_length=20)]


class OrderIn(_In):
    """Order a set meal for an elder; a retry with the same key returns the first order."""

    elder_id: RowId
    dish_id: RowId
    mode: MealMode = MealMode.DINE_IN
    idempotency_key: IdempotencyKey


class BoxOrderIn(_In):
    """The box orders a set meal for its elder."""

    dish_id: RowId
    mode: MealMode = MealMode.DINE_IN
    idempotency_key: IdempotencyKey


class OrderUpdate(_In):
    """Another set meal of the same menu, or another mode (until the cut-off)."""

    dish_id: RowId | None = None
    mode: MealMode | None = None


class HandoverIn(_In):
    """What happened to a meal: delivered, picked up, or nobody at home."""

    outcome: Literal["delivered", "picked_up", "not_home"]


class OrderPublic(BaseModel):
    """An order as the elder's family, operators and box see it."""

    id: int
    elder_id: int
    service_point_id: int
    menu_id: int
    dish_id: int
    dish_name: str
    day: date
    meal: Meal
    mode: MealMode
    status: MealOrderStatus
    price_cents: int
    subsidy_cents: int
    payable_cents: int
    subsidy_category_id: int | None
    ordered_by: OrderedBy
    standing_order_id: int | None
    cutoff_at: datetime
    window_start: str
    window_end: str
    created_at: datetime
    cancelled_at: datetime | None


class StandingIn(_In):
    """A standing order: this meal at this point on these weekdays, the set meal with
    ``tag`` preferred (otherwise the one fitting the diet best)."""

    point_id: RowId
    meal: Meal = Meal.LUNCH
    weekdays: Weekdays
    tag: DishTag | None = None
    mode: MealMode = MealMode.DINE_IN


class StandingPublic(BaseModel):
    """A standing order and the days skipped from today on."""

    id: int
    elder_id: int
    service_point_id: int
    meal: Meal
    weekdays: list[int]
    tag: str
    mode: MealMode
    is_active: bool
    skipped: list[date]


class SkipIn(_In):
    """Skip one day's meal of a standing order (and cancel it if already made)."""

    day: Day
    meal: Meal = Meal.LUNCH


class SkipPublic(BaseModel):
    """The skip, and whether an order already made for that day was cancelled."""

    day: date
    meal: Meal
    standing_orders: int
    cancelled_order_id: int | None


class SheetLine(BaseModel):
    """One set meal of the production sheet."""

    dish_id: int
    name_zh: str
    name_en: str
    portions: int
    dine_in: int
    delivery: int
    diets: dict[str, int]
    allergens: dict[str, int]


class ProductionSheet(BaseModel):
    """A meal point's production sheet for a day and meal."""

    service_point_id: int
    day: date
    meal: Meal
    total: int
    lines: list[SheetLine]


class DeliveryStop(BaseModel):
    """One order to hand over: only what the kitchen needs of the elder."""

    order_id: int
    elder_name: str
    address: str
    phone: str
    dish_name: str
    diet: list[str]
    allergens: list[str]
    mode: MealMode
    status: MealOrderStatus


class DeliveryRoute(BaseModel):
    """The stops of one route (deliveries grouped by road, pick-ups on their own)."""

    route: str
    stops: list[DeliveryStop]


class DeliveryList(BaseModel):
    """A meal point's delivery and pick-up list for a day and meal."""

    service_point_id: int
    day: date
    meal: Meal
    routes: list[DeliveryRoute]


class PointDayPublic(BaseModel):
    """Orders of one meal point on one day (the operator's view)."""

    service_point_id: int
    name: str
    lunch: int
    dinner: int
    delivered: int
    not_home: int
    subsidy_cents: int


class StatementLine(BaseModel):
    """One meal of the month's statement."""

    order_id: int
    day: date
    meal: Meal
    dish_name: str
    status: MealOrderStatus
    price_cents: int
    subsidy_cents: int
    payable_cents: int


class StatementPublic(BaseModel):
    """An elder's monthly statement: meals, subsidies and what is to pay (they add up)."""

    elder_id: int
    month: str
    meals: int
    price_cents: int
    subsidy_cents: int
    payable_cents: int
    lines: list[StatementLine]
