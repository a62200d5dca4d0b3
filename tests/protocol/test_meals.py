"""Meal wire messages round-trip, and bad ones are refused with a reason."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from protocol import (
    ErrorCode,
    MealCancel,
    MealChange,
    MealDishInfo,
    MealOfferInfo,
    MealOrder,
    MealOrderInfo,
    MealRefused,
    Meals,
    MealSkip,
    ProtocolError,
    dump_message,
    parse_message,
)

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
DAY = date(2026, 12, 8)
ORDER = MealOrderInfo(
    id=5,
    day=DAY,
    meal="lunch",
    dish_name="清蒸鱼套餐",
    mode="delivery",
    payable_cents=700,
    window_start="11:30",
    window_end="12:30",
    cutoff_at=T0,
    standing=True,
)
OFFER = MealOfferInfo(
    day=DAY,
    point_name="幸福助餐点",
    point_phone="010-6501-8899",
    mode="delivery",
    cutoff_at=T0,
    open=True,
    window_start="11:30",
    window_end="12:30",
    dishes=[MealDishInfo(dish_id=11, name="素什锦套餐", payable_cents=200)],
)

SAMPLES = [
    Meals(elder_id=1, orders=[ORDER], offer=OFFER),
    Meals(elder_id=1),
    MealOrder(key="meal:abcdef12", dish_id=11, mode="delivery", occurred_at=T0),
    MealChange(key="meal:abcdef13", order_id=5, dish_id=12, occurred_at=T0),
    MealCancel(key="meal:abcdef14", order_id=5, occurred_at=T0),
    MealSkip(key="meal:abcdef15", day=DAY, meal="lunch", occurred_at=T0),
    MealRefused(
        key="meal:abcdef12",
        code=ErrorCode.TOO_LATE,
        message="已过截止时间，请致电 010-6501-8899",
        phone="010-6501-8899",
    ),
]


@pytest.mark.parametrize("message", SAMPLES, ids=lambda m: m.type)
def test_round_trip(message: object) -> None:
    text = dump_message(message)  # type: ignore[arg-type]
    assert parse_message(text) == message


@pytest.mark.parametrize(
    "raw",
    [
        {"type": "meal_order", "key": "short", "dish_id": 1},
        {"type": "meal_order", "key": "key with spaces!", "dish_id": 1},
        {"type": "meal_order", "key": "meal:abcdef12", "dish_id": 0},
        {"type": "meal_order", "key": "meal:abcdef12", "dish_id": 1, "mode": "drone"},
        {"type": "meal_change", "key": "meal:abcdef12", "order_id": "x", "dish_id": 1},
        {"type": "meal_cancel", "key": "meal:abcdef12"},
        {"type": "meal_skip", "key": "meal:abcdef12", "day": "tomorrow"},
        {"type": "meal_skip", "key": "meal:abcdef12", "day": "2026-12-08", "meal": "brunch"},
        {"type": "meals", "elder_id": 1, "offer": {"day": "2026-12-08", "dishes": [{}] * 5}},
    ],
)
def test_bad_messages_are_refused_with_a_reason(raw: dict[str, object]) -> None:
    with pytest.raises(ProtocolError) as err:
        parse_message(raw)
    assert err.value.code is ErrorCode.INVALID


def test_at_most_four_set_meals() -> None:
    dishes = [{"dish_id": i + 1, "name": "x", "payable_cents": 1} for i in range(5)]
    with pytest.raises(ProtocolError):
        parse_message(
            {"type": "meals", "elder_id": 1, "offer": {"day": "2026-12-08", "dishes": dishes}}
        )
