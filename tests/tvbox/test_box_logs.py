"""The box's log: every line once, in one format, at the level asked for; and the box writes
nothing under the user's home (Kivy's home and the caches live in its data dir)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.box import BoxProcess
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.e2e

# "2026-01-01 08:00:00,123 INFO kivy: GL: ...": the one handler's format (tvbox/__main__.py).
OURS = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) \S+: "
)
# Kivy's own console handler: "[INFO   ] [GL          ] ...", coloured or not.
KIVYS = re.compile(r"^\[(?:\x1b\[[0-9;]*m)?(DEBUG|INFO|WARNING|ERROR|CRITICAL)")


def run_box(tmp_path: Path, server: LiveServer, home: Path, **env: str) -> list[str]:
    """Start a box in ``home`` until it shows a pairing code, stop it; its log lines."""
    box = BoxProcess(tmp_path / "box", server.url, "en", HOME=str(home), **env)
    try:
        box.start()
        box.wait_state("a pairing code", link_state="pairing")
    finally:
        assert box.stop() == 0, box.log_path.read_text()[-4000:]
    return box.log_path.read_text("utf-8", "replace").splitlines()


def test_each_line_once_at_the_level_asked_and_nothing_written_in_home(
    tmp_path: Path, live_server: LiveServer
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    lines = run_box(tmp_path / "default", live_server, home)
    logged = [line for line in lines if OURS.match(line)]
    assert any(" INFO kivy: " in line for line in logged), "Kivy's lines go through our handler"
    assert not [line for line in lines if KIVYS.match(line)], "Kivy's own handler still logs"
    twice = sorted({line for line in logged if logged.count(line) > 1})
    assert not twice, "logged twice:\n" + "\n".join(twice)
    assert not [line for line in logged if " DEBUG " in line], "DEBUG lines at the default INFO"
    after_run = sorted(str(p.relative_to(home)) for p in home.rglob("*"))
    assert after_run == [], f"the box wrote in HOME: {after_run}"
    box_data = tmp_path / "default" / "box"
    assert (box_data / "kivy" / "config.ini").exists()
    assert list((box_data / "cache" / "fonts").glob("*.otf")), "the UI font cached in the data dir"
    # Asked for DEBUG, it logs DEBUG (Kivy's included), still each line once.
    debug = run_box(tmp_path / "debug", live_server, home, ANXIN_BOX_LOG_LEVEL="DEBUG")
    debug_logged = [line for line in debug if OURS.match(line)]
    assert any(" DEBUG kivy: " in line for line in debug_logged), debug_logged[:20]
    assert not [line for line in debug_logged if debug_logged.count(line) > 1]
    assert sorted(home.rglob("*")) == []
