"""Every meals screen of the real Kivy app, offscreen at 1080p and 720p, in Chinese and
English: driven by remote keys, screenshotted into artifacts/screenshots, and spoken."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tvbox.screen_scenarios import SIZES, run_scenario

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


@pytest.mark.parametrize(("size", "prefix", "lang"), SIZES)
def test_every_meals_screen(tmp_path: Path, size: str, prefix: str, lang: str) -> None:
    report = run_scenario(tmp_path, "meals", SCREENS, size, prefix, lang)
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
