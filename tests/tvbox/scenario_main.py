"""The process half of a feature's screen scenario (``tests.tvbox.<feature>_scenario``): a
paired box in the language asked, the real Kivy app with a recording speaker, the feature's
``scenario`` run against it, and one ``REPORT`` JSON line (checks, screenshots, spoken).

Import this before anything of Kivy: it sets the offscreen window up.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")

from protocol import ElderInfo, Lang  # noqa: E402
from tvbox.config import BoxConfig  # noqa: E402
from tvbox.speech import SpokenLog  # noqa: E402
from tvbox.store import BoxStore  # noqa: E402
from voice.speech import Speaker, WavFileOutput  # noqa: E402

STEP_TIMEOUT = 20.0
Scenario = Callable[[Any, Path, str, Lang, dict[str, Any]], Awaitable[None]]


async def scenario_main(scenario: Scenario) -> None:
    """``argv``: box data dir, screenshots dir, size, screenshot prefix, language."""
    data_dir, shots, size, prefix = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
    lang = Lang(sys.argv[5])
    config = BoxConfig(
        server_url="http://127.0.0.1:9",
        data_dir=data_dir,
        size=size,
        speech_output="off",
        lang=lang,
    )
    elder = ElderInfo(id=1, name="王秀英", lang=lang, timezone="Asia/Shanghai")
    store = BoxStore(config.store_path)
    store.save_pairing(1, "token-1", elder)
    store.close()

    from tvbox.app import build_app

    wavs = WavFileOutput(data_dir / "speech")
    app, _link = build_app(config, speaker=SpokenLog(Speaker(output=wavs)))
    report: dict[str, Any] = {"checks": [], "screenshots": [], "spoken": []}
    running = asyncio.create_task(app.async_run(async_lib="asyncio"))
    try:
        from tests.support.waiting import async_wait_until

        await async_wait_until(lambda: app.root is not None, STEP_TIMEOUT, "the window")
        await asyncio.wait_for(scenario(app, shots, prefix, lang, report), 180)
        report["spoken"] = [text for _lang, text in app.vm.speaker.said]
    finally:
        app.stop()
        await asyncio.wait_for(running, STEP_TIMEOUT)
        app.vm.speaker.close()
        app.vm.store.close()
    print("REPORT " + json.dumps(report, ensure_ascii=False))
