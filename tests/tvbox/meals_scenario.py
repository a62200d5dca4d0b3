"""Runs the real Kivy app offscreen through every meals screen and screenshots each.

Started by `test_meals_screens.py` in a fresh interpreter (Kivy apps do not restart
cleanly in one process). The server's answers are handed to the box as the link would hand
them; the box's live sends are recorded. Prints one JSON report line.

    python -m tests.tvbox.meals_scenario DATA_DIR SHOTS_DIR WIDTHxHEIGHT PREFIX LANG
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from protocol import (  # noqa: E402
    ErrorCode,
    Lang,
    MealDishInfo,
    MealOfferInfo,
    MealOrderInfo,
    MealRefused,
    Meals,
)
from tests.tvbox.scenario_main import STEP_TIMEOUT, scenario_main  # sets Kivy up offscreen
from tvbox.events import LinkState, LinkStateChanged, ServerMessage  # noqa: E402
from tvbox.ui.keys import KEYCODE_FOR, RemoteAction  # noqa: E402

SHANGHAI_HOURS = 8
NAMES = {
    Lang.ZH: (
        ["清蒸鱼低盐套餐", "番茄炒蛋软食套餐", "什锦素菜套餐", "红烧肉套餐"],
        "和平里社区助餐点",
    ),
    Lang.EN: (
        ["Steamed fish, low salt", "Tomato and egg, soft", "Mixed vegetables", "Braised pork"],
        "Hepingli Community Canteen",
    ),
}


def meals(lang: Lang, now: datetime, *, ordered: bool = False, standing: bool = False) -> Meals:
    dishes, point = NAMES[lang]
    local = now + timedelta(hours=SHANGHAI_HOURS)
    tomorrow = local.date() + timedelta(days=1)
    closes = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 2, 0, tzinfo=UTC)
    offer = MealOfferInfo(
        day=tomorrow,
        point_name=point,
        point_phone="010-6501-8899",
        mode="delivery",
        cutoff_at=closes,
        open=True,
        window_start="11:30",
        window_end="12:30",
        standing=standing,
        dishes=[
            MealDishInfo(dish_id=20 + i, name=name, payable_cents=price, fits_diet=i < 3)
            for i, (name, price) in enumerate(zip(dishes, (800, 750, 600, 1200), strict=True))
        ],
    )
    orders = [
        MealOrderInfo(
            id=5,
            day=local.date(),
            meal="lunch",
            dish_name=dishes[2],
            mode="delivery",
            payable_cents=600,
            window_start="11:30",
            window_end="12:30",
            # Past whatever the hour: today's 10:00 cut-off is still ahead before 10:00 Shanghai.
            cutoff_at=now - timedelta(hours=1),
        )
    ]
    if ordered:
        orders.append(
            orders[0].model_copy(
                update={
                    "id": 6,
                    "day": tomorrow,
                    "cutoff_at": closes,
                    "dish_name": dishes[0],
                    "payable_cents": 800,
                }
            )
        )
    return Meals(elder_id=1, orders=orders, offer=offer)


async def scenario(app: Any, shots: Path, prefix: str, lang: Lang, report: dict[str, Any]) -> None:
    """Walk every meals screen; record checks and screenshots into ``report``."""
    from kivy.clock import Clock
    from kivy.core.window import Window

    vm = app.vm
    vm.handle_link_event(LinkStateChanged(LinkState.ONLINE))
    now = datetime.now(UTC)

    async def frames(count: int = 3) -> None:
        for _ in range(count):
            done = asyncio.get_running_loop().create_future()
            Clock.schedule_once(lambda _dt, f=done: f.done() or f.set_result(None), 0)
            await asyncio.wait_for(done, STEP_TIMEOUT)

    def check(name: str, ok: bool, detail: Any = None) -> None:
        report["checks"].append({"name": name, "ok": bool(ok), "detail": detail})

    async def press(action: RemoteAction) -> None:
        Window.dispatch("on_key_down", KEYCODE_FOR[action], 0, None, [])
        await frames()

    def answer(message: Any) -> None:
        vm.handle_link_event(ServerMessage(message))

    async def shot(name: str, screen: str) -> None:
        await frames()
        check(f"{name} on screen", app.manager.current == screen, app.manager.current)
        path = shots / f"tvbox-{prefix}{name}-{lang.value}.png"
        report["screenshots"].append(await asyncio.wait_for(app.screenshot(str(path)), 30))

    answer(meals(lang, now))
    await press(RemoteAction.DIGIT_4)
    await shot("meals-menu", "meals")
    await press(RemoteAction.DOWN)
    await press(RemoteAction.OK)
    await shot("meals-ordered", "meals")
    answer(meals(lang, now, ordered=True))
    await press(RemoteAction.BACK)
    await press(RemoteAction.DIGIT_4)
    await shot("meals-list", "meals")
    await press(RemoteAction.DIGIT_2)
    await shot("meals-order", "meal_order")
    await press(RemoteAction.DIGIT_2)
    await shot("meals-change", "meal_menu")
    await press(RemoteAction.BACK)
    await press(RemoteAction.BACK)
    answer(meals(lang, now))  # the menu again: six choices and the words above them
    await press(RemoteAction.DIGIT_1)  # today's lunch: past its cut-off
    await shot("meals-too-late", "meals")
    await press(RemoteAction.BACK)
    answer(meals(lang, now, standing=True))
    await press(RemoteAction.DIGIT_4)
    await press(RemoteAction.DIGIT_2)
    await shot("meals-standing", "meal_order")
    await press(RemoteAction.BACK)
    await press(RemoteAction.BACK)
    answer(meals(lang, now))
    words = "明天的午餐已经订完了。" if lang is Lang.ZH else "Sorry, tomorrow's lunch is sold out."
    answer(MealRefused(key="meal:gone", code=ErrorCode.SOLD_OUT, message=words))
    await shot("meals-refused", "meals")
    await press(RemoteAction.BACK)
    vm.handle_link_event(LinkStateChanged(LinkState.OFFLINE))
    answer(meals(lang, now))
    await press(RemoteAction.DIGIT_4)
    await shot("meals-offline", "meals")
    await press(RemoteAction.BACK)
    check("Back leads home", app.manager.current == "home", app.manager.current)


if __name__ == "__main__":
    asyncio.run(scenario_main(scenario))
