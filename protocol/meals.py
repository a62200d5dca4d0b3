"""Wire messages of community meals between the TV box and the server.

- server → box ``meals``: what is ordered for today and tomorrow, and tomorrow's lunch offer
  at the elder's meal point (at most 4 safe set meals, fitting ones first, each with the
  price to pay), sent on connect and at once on every change, whoever made it (family page,
  meal point staff, a published menu, the box itself);
- box → server through the outbox (idempotent ``key``, scoped by the server to the sending
  device): ``meal_order``, ``meal_change``, ``meal_cancel``, ``meal_skip`` (a standing
  order's day); each is answered by ``ack`` — stored or refused, never resent forever;
- server → box ``meal_refused``: an outbox item was refused (``too_late`` with the meal
  point's phone, ``sold_out``…), with words in the elder's language: the TV shows and says it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from protocol.enums import ErrorCode
from protocol.ids import RowId
from protocol.messages import Message, WireModel, utcnow

MAX_SET_MEALS = 4
"""At most four set meals on the TV, plus "No meal"."""

MEAL_KEY = r"^[A-Za-z0-9_.:-]+$"
MealName = Literal["lunch", "dinner"]
MealModeName = Literal["dine_in", "delivery"]


class MealOrderInfo(WireModel):
    """One live order as the TV shows and says it."""

    id: RowId
    day: date
    meal: MealName
    dish_name: str = Field(max_length=120)
    mode: MealModeName
    payable_cents: int = Field(ge=0, le=1_000_000)
    window_start: str = Field(default="", max_length=5)  # "11:30", the point's local time
    window_end: str = Field(default="", max_length=5)
    cutoff_at: datetime
    standing: bool = False  # made from a standing order (skipping cancels it)


class MealDishInfo(WireModel):
    """One set meal offered: its name in the elder's language and the price to pay."""

    dish_id: RowId
    name: str = Field(max_length=120)
    payable_cents: int = Field(ge=0, le=1_000_000)
    fits_diet: bool = True


class MealOfferInfo(WireModel):
    """Tomorrow's lunch at the elder's meal point."""

    day: date
    meal: MealName = "lunch"
    point_name: str = Field(default="", max_length=120)
    point_phone: str = Field(default="", max_length=40)
    mode: MealModeName = "dine_in"  # how the elder gets it: delivery where the point delivers
    cutoff_at: datetime | None = None
    open: bool = False
    sold_out: bool = False
    window_start: str = Field(default="", max_length=5)
    window_end: str = Field(default="", max_length=5)
    dishes: list[MealDishInfo] = Field(default_factory=list, max_length=MAX_SET_MEALS)
    standing: bool = False  # a standing order covers this day (not skipped)


class Meals(Message):
    """Server → box: the elder's meals, whole (small)."""

    type: Literal["meals"] = "meals"
    elder_id: RowId
    timezone: str = Field(default="Asia/Shanghai", max_length=64)  # the meal point's
    orders: list[MealOrderInfo] = Field(default_factory=list, max_length=8)
    offer: MealOfferInfo | None = None


class MealOrder(Message):
    """Box → server through the outbox: order a set meal, exactly once."""

    type: Literal["meal_order"] = "meal_order"
    key: str = Field(min_length=8, max_length=64, pattern=MEAL_KEY)
    dish_id: RowId
    mode: MealModeName = "dine_in"
    occurred_at: datetime = Field(default_factory=utcnow)


class MealChange(Message):
    """Box → server through the outbox: another set meal of the same menu for an order."""

    type: Literal["meal_change"] = "meal_change"
    key: str = Field(min_length=8, max_length=64, pattern=MEAL_KEY)
    order_id: RowId
    dish_id: RowId
    occurred_at: datetime = Field(default_factory=utcnow)


class MealCancel(Message):
    """Box → server through the outbox: cancel one of the elder's orders."""

    type: Literal["meal_cancel"] = "meal_cancel"
    key: str = Field(min_length=8, max_length=64, pattern=MEAL_KEY)
    order_id: RowId
    occurred_at: datetime = Field(default_factory=utcnow)


class MealSkip(Message):
    """Box → server through the outbox: skip one day of the elder's standing order."""

    type: Literal["meal_skip"] = "meal_skip"
    key: str = Field(min_length=8, max_length=64, pattern=MEAL_KEY)
    day: date
    meal: MealName = "lunch"
    occurred_at: datetime = Field(default_factory=utcnow)


class MealRefused(Message):
    """Server → box: the outbox item ``key`` was refused; ``message`` in the elder's
    language (``too_late`` names the meal point and its ``phone``)."""

    type: Literal["meal_refused"] = "meal_refused"
    key: str = Field(max_length=64)
    code: ErrorCode
    message: str = Field(max_length=300)
    phone: str = Field(default="", max_length=40)


MEAL_MESSAGES: tuple[type[Message], ...] = (
    Meals,
    MealOrder,
    MealChange,
    MealCancel,
    MealSkip,
    MealRefused,
)
