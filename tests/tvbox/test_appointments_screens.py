"""Every appointment screen of the real Kivy app, offscreen at 1080p and 720p, in Chinese and
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


@pytest.mark.parametrize(
    ("size", "prefix", "lang"),
    [
        ("1920x1080", "", "zh"),
        ("1280x720", "720p-", "zh"),
        ("1920x1080", "", "en"),
        ("1280x720", "720p-", "en"),
    ],
)
def test_every_appointment_screen(tmp_path: Path, size: str, prefix: str, lang: str) -> None:
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
            "tests.tvbox.appointments_scenario",
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
    assert names == {f"tvbox-{prefix}appointments-{s}-{lang}.png" for s in SCREENS}
    expected = tuple(int(n) for n in size.split("x"))
    for shot in report["screenshots"]:
        assert png_size(Path(shot)) == expected
    spoken = " ".join(report["spoken"])
    if lang == "en":
        assert (
            "Please confirm your visit" in spoken
            and "Booking a visit needs the connection" in spoken
        )
        assert "Time to get ready: leave by" in spoken
    else:
        assert "请确认您的预约" in spoken and "预约看病需要连网" in spoken
