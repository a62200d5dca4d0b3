"""Every appointment screen of the real Kivy app, offscreen at 1080p and 720p, in Chinese and
English: driven by remote keys, screenshotted into artifacts/screenshots, and spoken."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tvbox.screen_scenarios import SIZES, run_scenario

SCREENS = (
    "list",
    "looking",
    "departments",
    "clinics",
    "days",
    "part",
    "times",
    "confirm",
    "cancel",
    "reminder",
    "offline",
)


@pytest.mark.parametrize(("size", "prefix", "lang"), SIZES)
def test_every_appointment_screen(tmp_path: Path, size: str, prefix: str, lang: str) -> None:
    report = run_scenario(tmp_path, "appointments", SCREENS, size, prefix, lang)
    spoken = " ".join(report["spoken"])
    if lang == "en":
        assert (
            "Please confirm your visit" in spoken
            and "Booking a visit needs the connection" in spoken
        )
        assert "Time to get ready: leave by" in spoken
    else:
        assert "请确认您的预约" in spoken and "预约看病需要连网" in spoken
