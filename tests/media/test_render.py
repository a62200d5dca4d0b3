"""The Kivy renderer shows a synthetic track's frames, upright and fresh (real Kivy, offscreen)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_kivy_widget_shows_fresh_frames_upright(tmp_path: Path) -> None:
    # Kivy owns the process (window, logging, its Clock): run it in its own interpreter.
    env = {**os.environ, "SDL_VIDEODRIVER": "offscreen", "KIVY_NO_ARGS": "1"}
    env["KIVY_HOME"] = str(tmp_path / "kivy-home")
    env["PYTHONPATH"] = str(REPO_ROOT)
    proc = subprocess.run(
        [sys.executable, "-m", "tests.media.render_app", str(tmp_path / "shot.png")],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["texture_size"] == [320, 240]
    first, later = result["texture"]
    assert first is not None and later is not None, result
    assert later > first  # the texture keeps being replaced by newer frames
    assert later <= result["frames_sent"]
    # The window as drawn carries the same picture with its stamp at the top (read
    # bottom-up from GL, so upside down would not decode); read just after the texture,
    # so at most a few newer frames may have been blitted meanwhile.
    for texture_counter, screen_counter in zip(result["texture"], result["screen"], strict=True):
        assert screen_counter is not None, result
        assert 0 <= screen_counter - texture_counter <= 3, result
    assert result["inset_rendered"] >= 1
    assert (tmp_path / "shot0001.png").stat().st_size > 0
