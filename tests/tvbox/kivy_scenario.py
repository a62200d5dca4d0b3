"""Runs the real Kivy app in this process (offscreen) and drives it with key events.

Started by `test_kivy_app.py` in a fresh interpreter (Kivy apps do not restart cleanly
in one process). Prints one JSON object: the checks made and the screenshots saved.

    python -m tests.tvbox.kivy_scenario DATA_DIR SHOTS_DIR WIDTHxHEIGHT PREFIX
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")

from protocol import ElderInfo, Lang  # noqa: E402
from tvbox.config import BoxConfig  # noqa: E402
from tvbox.speech import SpokenLog  # noqa: E402
from tvbox.store import BoxStore  # noqa: E402
from tvbox.ui.keys import KEYCODE_FOR, RemoteAction  # noqa: E402
from voice.speech import Speaker, WavFileOutput  # noqa: E402

ELDER = ElderInfo(id=1, name="王秀英", lang=Lang.ZH, timezone="Asia/Shanghai")
STEP_TIMEOUT = 20.0


async def scenario(app: Any, shots: Path, prefix: str, report: dict[str, Any]) -> None:
    """Drive the app; record checks and screenshots into `report`."""
    from kivy.clock import Clock
    from kivy.core.window import Window

    checks: list[dict[str, Any]] = report["checks"]
    vm = app.vm

    async def frames(count: int = 2) -> None:
        for _ in range(count):
            done = asyncio.get_running_loop().create_future()
            Clock.schedule_once(lambda _dt, f=done: f.done() or f.set_result(None), 0)
            await asyncio.wait_for(done, STEP_TIMEOUT)

    def check(name: str, ok: bool, detail: Any = None) -> None:
        checks.append({"name": name, "ok": bool(ok), "detail": detail})

    def key(keycode: int, codepoint: str | None = None) -> None:
        # The same two events SDL2 sends for a real key press.
        Window.dispatch("on_key_down", keycode, 0, codepoint, [])
        Window.dispatch("on_keyboard", keycode, 0, codepoint, [])

    def press(action: RemoteAction) -> None:
        key(KEYCODE_FOR[action])

    async def shot(name: str) -> None:
        path = shots / f"tvbox-{prefix}{name}.png"
        report["screenshots"].append(await asyncio.wait_for(app.screenshot(str(path)), 30))

    def focused_tiles() -> list[str]:
        grid = app.screens["home"].children[0].children[1]  # BoxLayout → GridLayout
        return [t.label for t in reversed(grid.children) if t.focused]

    await frames(3)
    check("window size", tuple(Window.size) == report["size"], list(Window.size))
    check(
        "scale follows the window height",
        abs(app.scale - report["size"][1] / 1080) < 0.01,
        app.scale,
    )
    check("starts at home when paired", app.manager.current == "home", app.manager.current)
    check("badge shows offline", app.badge.label == "断线 — 正在重连", app.badge.label)
    check("first tile focused", focused_tiles() == ["看医生"], focused_tiles())
    await shot("home-zh")

    press(RemoteAction.RIGHT)
    await frames()
    check("right arrow moves focus", focused_tiles() == ["用药"], focused_tiles())
    press(RemoteAction.DOWN)
    await frames()
    check("down arrow moves focus", focused_tiles() == ["家人"], focused_tiles())
    press(RemoteAction.LEFT)  # Meals
    await frames()

    key(27)  # Escape = the remote's Back
    key(8)  # Backspace = Back too
    await frames()
    check("Back on home keeps the app on home", app.manager.current == "home")

    press(RemoteAction.OK)
    await frames()
    meals = app.screens["meals"]
    check("OK opens the tile's screen", app.manager.current == "meals", app.manager.current)
    check("no meal point yet is said plainly", "助餐点" in meals.body, meals.body)
    await shot("meals-none-zh")
    key(27)
    await frames()
    check(
        "Back returns home with focus kept",
        app.manager.current == "home" and focused_tiles() == ["用餐"],
        focused_tiles(),
    )

    # A cry for help heard once (voice/): the box asks first; Back means "I am fine".
    vm.hear_maybe_sos("said: 도와주 세요")
    await frames()
    sos = app.screens["sos"]
    check("a cry heard once asks", app.manager.current == "sos" and sos.phase == "ask", sos.body)
    check("the question is plain", sos.title == "您需要帮助吗？", sos.title)
    await shot("sos-ask-zh")
    key(27)
    await frames()
    check("Back answers the question: home, nothing sent", app.manager.current == "home"
          and vm.sos.phase.value == "idle" and not vm.outbox.pending())  # fmt: skip

    key(ord("r"), "r")  # red key
    await frames()
    check("red key shows the SOS screen", app.manager.current == "sos")
    sos = app.screens["sos"]
    check("SOS is on its way at once", "呼叫求助" in sos.title and sos.phase == "sending", sos.body)
    await shot("sos-zh")

    key(285)  # F4 = blue key
    await frames()
    check("blue key opens settings", app.manager.current == "settings")
    press(RemoteAction.DOWN)
    press(RemoteAction.OK)
    await frames()
    check("choosing English switches the UI", vm.lang is Lang.EN, vm.lang.value)
    queued = [type(i.message).__name__ for i in vm.outbox.pending()]
    check("the choice is queued for the server", queued == ["SosRaise", "BoxSettings"], queued)
    check(
        "badge follows the language", app.badge.label == "Offline — reconnecting", app.badge.label
    )
    await shot("settings-en")
    key(27)
    await frames()
    check("Back from settings goes home", app.manager.current == "home")
    check("home is in English", app.screens["home"].tiles[0]["label"] == "See a doctor")
    await shot("home-en")

    # The Family tile with the link down: said and shown plainly, nothing kept for later.
    press(RemoteAction.DIGIT_5)
    await frames()
    call = app.screens["call"]
    check("Family tile offline shows the call screen", app.manager.current == "call")
    check("offline is said plainly", call.title == "The TV is not connected", call.title)
    check("no family call queued", vm.call.phase.value == "family_info", vm.call.phase.value)
    await shot("family-offline-en")
    key(27)
    await frames()
    check("Back from the offline notice goes home", app.manager.current == "home")

    spoken = [text for _lang, text in vm.speaker.said]
    check(
        "every screen was spoken",
        any("主页" in s for s in spoken) and any("设置" in s for s in spoken),
        spoken,
    )
    check("app still running after all the Back presses", app.root is not None)


async def main() -> None:
    data_dir, shots, size, prefix = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
    config = BoxConfig(
        server_url="http://127.0.0.1:9",  # nothing listens: the box is offline
        data_dir=data_dir,
        size=size,
        speech_output="off",
        reconnect_initial_seconds=5,
    )
    store = BoxStore(config.store_path)
    store.save_pairing(1, "token-1", ELDER)
    store.close()

    from tvbox.app import build_app

    wavs = WavFileOutput(data_dir / "speech")
    app, link = build_app(config, speaker=SpokenLog(Speaker(output=wavs)))
    report: dict[str, Any] = {"checks": [], "screenshots": [], "size": list(config.window_size)}
    report["size"] = tuple(report["size"])
    link.start()
    running = asyncio.create_task(app.async_run(async_lib="asyncio"))
    try:
        from tests.support.waiting import async_wait_until

        await async_wait_until(lambda: app.root is not None, STEP_TIMEOUT, "the window")
        await asyncio.wait_for(scenario(app, shots, prefix, report), 120)
        # The real speaker (espeak-ng) turned the prompts into audio.
        await async_wait_until(lambda: wavs.written, STEP_TIMEOUT, "spoken audio")
        report["checks"].append(
            {"name": "prompts became audio", "ok": bool(wavs.written), "detail": len(wavs.written)}
        )
        report["quit_by_keys"] = running.done()
    finally:
        app.stop()
        await asyncio.wait_for(running, STEP_TIMEOUT)
        link.stop()
        await asyncio.wait_for(link.wait_stopped(), STEP_TIMEOUT)
        app.vm.speaker.close()
        app.vm.store.close()
    report["size"] = list(report["size"])
    print("REPORT " + json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    asyncio.run(main())
