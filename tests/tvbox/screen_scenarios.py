"""Running a feature's screen scenario (``tests.tvbox.<feature>_scenario``) in a real Kivy app
offscreen, in its own process, at one size and language; its report checked and returned."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.tvbox.test_kivy_app import REPO, SHOTS, png_size

# (size, screenshot prefix, language): every screen at 1080p and 720p, in Chinese and English.
SIZES = [
    ("1920x1080", "", "zh"),
    ("1280x720", "720p-", "zh"),
    ("1920x1080", "", "en"),
    ("1280x720", "720p-", "en"),
]


def run_scenario(
    tmp_path: Path, feature: str, screens: tuple[str, ...], size: str, prefix: str, lang: str
) -> dict[str, Any]:
    """Drive ``feature``'s scenario by remote keys; every check passed, one screenshot of each
    of ``screens`` at ``size``; the report (``spoken``: what the box said)."""
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
            f"tests.tvbox.{feature}_scenario",
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
    # Kivy takes over stderr and writes it into its log file: show that log when the run fails.
    logs = sorted((tmp_path / "kivy" / "logs").glob("*.txt"))
    said = run.stderr + "".join(log.read_text(errors="replace") for log in logs)
    assert run.returncode == 0 and lines, said[-4000:]
    report: dict[str, Any] = json.loads(lines[-1].removeprefix("REPORT "))
    assert [c for c in report["checks"] if not c["ok"]] == []
    names = {Path(p).name for p in report["screenshots"]}
    assert names == {f"tvbox-{prefix}{feature}-{s}-{lang}.png" for s in screens}
    expected = tuple(int(n) for n in size.split("x"))
    for shot in report["screenshots"]:
        assert png_size(Path(shot)) == expected
    return report
