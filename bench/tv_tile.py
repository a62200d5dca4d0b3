"""A home tile's key press → its screen drawn, in the real Kivy app offscreen at 1080p (as on
a TV box without a GPU): the shared half of ``bench/appointments_tv.py`` and
``bench/meals_tv.py``. The key is dispatched exactly as SDL2 delivers it, and the time until the
window has drawn and flipped a frame showing the screen is taken; Back goes home between
presses. The first press also builds the screen (screens are built when first shown). Prints
one JSON line: ``{"tv_tile_to_list_p50_ms": …, "tv_tile_to_list_p99_ms": …, "tv_presses": …}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")

from tvbox.config import BoxConfig  # noqa: E402
from tvbox.ui.keys import KEYCODE_FOR, RemoteAction  # noqa: E402


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


async def measure(app: Any, key: RemoteAction, screen: str, presses: int) -> list[float]:
    from kivy.core.window import Window

    flipped: asyncio.Queue[float] = asyncio.Queue()
    Window.bind(on_flip=lambda *_a: flipped.put_nowait(time.perf_counter()))

    async def press_and_wait(action: RemoteAction, target: str) -> float:
        while not flipped.empty():
            flipped.get_nowait()
        start = time.perf_counter()
        Window.dispatch("on_key_down", KEYCODE_FOR[action], 0, None, [])
        while True:
            at = await asyncio.wait_for(flipped.get(), 10)
            if app.manager.current == target:
                return (at - start) * 1000

    samples = []
    for _ in range(presses):
        samples.append(await press_and_wait(key, screen))
        await press_and_wait(RemoteAction.BACK, "home")
    return samples


async def run(
    description: str, seed: Callable[[BoxConfig], None], key: RemoteAction, screen: str
) -> None:
    """Seed a box's store with ``seed``, then press ``key`` ``--presses`` times; print figures."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--presses", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = BoxConfig(
            server_url="http://127.0.0.1:9",
            data_dir=Path(tmp),
            size="1920x1080",
            speech_output="off",
        )
        seed(config)
        from tvbox.app import build_app

        app, _link = build_app(config)
        running = asyncio.create_task(app.async_run(async_lib="asyncio"))
        try:
            while app.root is None:
                await asyncio.sleep(0.05)  # a benchmark waiting for its window, not a test
            samples = await measure(app, key, screen, args.presses)
        finally:
            app.stop()
            await asyncio.wait_for(running, 20)
            app.vm.store.close()
    print(
        json.dumps(
            {
                "tv_tile_to_list_p50_ms": pct(samples, 0.5),
                "tv_tile_to_list_p99_ms": pct(samples, 0.99),
                "tv_tile_to_list_first_ms": round(samples[0], 1),
                "tv_presses": len(samples),
            }
        )
    )
