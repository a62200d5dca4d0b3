"""The TV part of the meals benchmark: Meals tile key press → list on screen.

The real Kivy app (offscreen at 1080p, as on a TV box without a GPU) with today's order and
tomorrow's menu of four set meals in its store (six choices, the most a screen holds): the
remote's 4 key is dispatched exactly as SDL2 delivers it, and the time until the window has
drawn and flipped a frame showing the meals list is taken; Back goes home between presses.
The first press also builds the screen (screens are built when first shown). Run in its own
process by ``bench/meals.py`` (Kivy owns the process's window); prints one JSON line:
``{"tv_tile_to_list_p50_ms": …, "tv_tile_to_list_p99_ms": …, "tv_presses": …}``.

Usage: ``python bench/meals_tv.py [--presses 100]``
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.tv_tile import run  # noqa: E402
from protocol import (  # noqa: E402
    ElderInfo,
    Lang,
    MealDishInfo,
    MealOfferInfo,
    MealOrderInfo,
    Meals,
)
from tvbox.config import BoxConfig  # noqa: E402
from tvbox.meals.store import MealStore  # noqa: E402
from tvbox.store import BoxStore  # noqa: E402
from tvbox.ui.keys import RemoteAction  # noqa: E402


def seed(config: BoxConfig) -> None:
    store = BoxStore(config.store_path)
    store.save_pairing(
        1, "token-1", ElderInfo(id=1, name="王秀英", lang=Lang.ZH, timezone="Asia/Shanghai")
    )
    today = (datetime.now(UTC) + timedelta(hours=8)).date()
    closes = datetime.now(UTC) + timedelta(hours=3)
    names = ("清蒸鱼低盐套餐", "番茄炒蛋软食套餐", "什锦素菜套餐", "红烧肉套餐")
    MealStore(store).save_meals(
        Meals(
            elder_id=1,
            orders=[
                MealOrderInfo(
                    id=1,
                    day=today,
                    meal="lunch",
                    dish_name=names[2],
                    mode="delivery",
                    payable_cents=600,
                    window_start="11:30",
                    window_end="12:30",
                    cutoff_at=closes - timedelta(days=1),
                )
            ],
            offer=MealOfferInfo(
                day=today + timedelta(days=1),
                point_name="和平里社区助餐点",
                point_phone="010-6501-8899",
                mode="delivery",
                cutoff_at=closes,
                open=True,
                window_start="11:30",
                window_end="12:30",
                dishes=[
                    MealDishInfo(dish_id=10 + i, name=name, payable_cents=800 + 100 * i)
                    for i, name in enumerate(names)
                ],
            ),
        )
    )
    store.close()


if __name__ == "__main__":
    asyncio.run(run(__doc__.splitlines()[0], seed, RemoteAction.DIGIT_4, "meals"))
