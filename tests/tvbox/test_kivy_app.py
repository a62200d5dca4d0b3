"""The real Kivy app, offscreen, driven by key events; screenshots land in artifacts/screenshots.

Each size runs in a fresh interpreter: Kivy apps do not restart cleanly in one process.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "artifacts" / "screenshots"


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG header."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", path
    width, height = struct.unpack(">II", head[16:24])
    return width, height


@pytest.mark.parametrize(("size", "prefix"), [("1920x1080", ""), ("1280x720", "720p-")])
def test_app_is_driven_by_remote_keys(tmp_path: Path, size: str, prefix: str) -> None:
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
            "tests.tvbox.kivy_scenario",
            str(tmp_path / "box"),
            str(SHOTS),
            size,
            prefix,
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    lines = [line for line in run.stdout.splitlines() if line.startswith("REPORT ")]
    assert run.returncode == 0 and lines, run.stderr[-4000:]
    report = json.loads(lines[-1].removeprefix("REPORT "))
    failed = [c for c in report["checks"] if not c["ok"]]
    assert not failed, failed
    assert len(report["checks"]) >= 20
    assert report["quit_by_keys"] is False
    expected = tuple(int(n) for n in size.split("x"))
    names = {Path(p).name for p in report["screenshots"]}
    assert f"tvbox-{prefix}home-zh.png" in names and f"tvbox-{prefix}sos-zh.png" in names
    for shot in report["screenshots"]:
        assert png_size(Path(shot)) == expected
