"""Every meals screen of the real Kivy app, offscreen at 1080p and 720p, in Chinese and
English: driven by remote keys, screenshotted into artifacts/screenshots, and spoken."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.tvbox.test_kivy_app import REPO, SHOTS, png_size

SCREENS = (
    "menu",
    "ordered",
    "list",
    "order",
    "change",
    "too-late",
    "standing",
    "refused",
    "offline",
)


@pytest.mark.parametrize(
    ("size", "prefix", "lang"),
    [
        ("1920x1080", "", "zh"),
        ("1280x720", "720p-", "zh"),
        ("1920x1080", "", "en"),
        ("1280x720", "720p-", "en"),
    ],
)
def test_every_meals_screen(tmp_path: Path, size: str, prefix: str, lang: str) -> None:
    env = {
        **os.environ,
        "SDL_VIDEODRIVER": "offscreen",
        "KIVY_NO_ARGS": "1",
        "KIVY_HOME": str(tmp_path / "kivy"),
        "PYTHONPATH": str(REPO),
    }
    env.pop("DISPLAY", None)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.tvbox.meals_scenario",
            str(tmp_path / "box"),
            str(SHOTS),
            size,
            prefix,
            lang,
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = [line for line in run.stdout.splitlines() if line.startswith("REPORT ")]
    assert run.returncode == 0 and lines, run.stderr[-4000:]
    report = json.loads(lines[-1].removeprefix("REPORT "))
    assert [c for c in report["checks"] if not c["ok"]] == []
    names = {Path(p).name for p in report["screenshots"]}
    assert names == {f"tvbox-{prefix}meals-{s}-{lang}.png" for s in SCREENS}
    expected = tuple(int(n) for n in size.split("x"))
    for shot in report["screenshots"]:
        assert png_size(Path(shot)) == expected
    spoken = " ".join(report["spoken"])
    if lang == "en":
        assert "2: Steamed fish, low salt, you pay 8 yuan." in spoken
        assert "delivered to your home between 11:30 and 12:30. You pay 8 yuan." in spoken
        assert "Please call Hepingli Community Canteen on 010-6501-8899." in spoken
        assert "Your meal order was not taken: Sorry, tomorrow's lunch is sold out." in spoken
    else:
        assert "2：清蒸鱼低盐套餐，您付8元。" in spoken
        assert "已订好：明天午餐清蒸鱼低盐套餐，11:30到12:30之间送到家。您付8元。" in spoken
        assert "请打电话给和平里社区助餐点：010-6501-8899。" in spoken
