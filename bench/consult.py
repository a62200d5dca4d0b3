"""Benchmark one-button consultations end to end: real box, real server, doctor in Chromium.

Runs itself inside a fresh loopback-only network namespace (``unshare -n``; needs root).
Starts a server over a fresh SQLite database with the demo world, a paired ``python -m
tvbox`` process (Kivy offscreen at 1920x1080, synthetic 640x480 camera and tone) and the
doctor's consult page in headless Chromium with its fake camera. Then:

1. ``--calls`` consults one after another: the elder presses "See a doctor", the doctor
   clicks Join, and we time from the click to the first decoded video frame on the doctor's
   page (``requestVideoFrameCallback``/getStats) and on the box (first decoded remote frame,
   wall clock). The doctor hangs up; the box returns home.
2. One call held for ``--hold-s`` seconds: the box process's CPU share (of one core) and
   RSS, read from /proc.

The real parts are started through the product's own entry points (bench/consult_parts.py):
the same processes, pages and APIs the end-to-end tests drive.

Usage: ``python bench/consult.py [--calls 20] [--hold-s 10]``; the last line printed is one
JSON object with units in its key names.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

IN_NETNS_ENV = "ANXIN_IN_NETNS"
REPO_ROOT = Path(__file__).resolve().parents[1]


def reexec_in_netns() -> int:
    """Run this script again inside `unshare -n` with `lo` up; return its exit code."""
    argv = [sys.executable, str(Path(__file__).resolve()), *sys.argv[1:]]
    command = ["unshare", "-n", "--", "sh", "-c", 'ip link set lo up && exec "$@"', "netns"]
    env = {**os.environ, IN_NETNS_ENV: "1", "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run([*command, *argv], env=env, cwd=REPO_ROOT).returncode


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (all threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def proc_rss_mb(pid: int) -> float:
    """Resident set size of process ``pid`` in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run(calls: int, hold_s: float) -> dict[str, float]:
    """Do the measurements; the figures."""
    sys.path.insert(0, str(REPO_ROOT))
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    from bench.consult_parts import Box, DemoServer, doctor_page, js, pair, poll
    from protocol import Role
    from server.core.db import Database
    from server.demo import DEMO_LOGINS
    from server.migrate import upgrade
    from tvbox.ui.keys import KEYCODE_FOR, RemoteAction

    doctor = next(d for d in DEMO_LOGINS if d.role is Role.DOCTOR)
    family = next(d for d in DEMO_LOGINS if d.email.startswith("family1"))

    work = Path(tempfile.mkdtemp(prefix="anxin-bench-consult-"))
    url = f"sqlite:///{work / 'anxin.sqlite3'}"
    database = Database(url)
    upgrade(database.engine)
    database.dispose()
    server = DemoServer(url, work / "server")
    box = Box(server.url, work / "box")
    pair(box, server, family.email, family.password)
    page_ms: list[float] = []
    box_ms: list[float] = []
    figures: dict[str, float] = {}
    try:
        with doctor_page(server, doctor.email, doctor.password, "/doctor/consults") as doc:

            def one_call(hang_up: bool) -> None:
                box.press(KEYCODE_FOR[RemoteAction.DIGIT_1])
                poll(lambda: box.call()["phase"] == "queued", 15, "queued")
                call_id = box.call()["call_id"]
                poll(lambda: js(doc, f"!!document.getElementById('join-{call_id}')"), 15)
                js(doc, f"document.getElementById('join-{call_id}').click()")
                poll(
                    lambda: (
                        js(doc, "window.anxinCall.joinToFirstFrameMs")
                        and box.call()["media"].get("first_video_frame_epoch")
                    ),
                    30,
                    "first frames on both sides",
                )
                joined = js(doc, "window.anxinCall.joinClickedEpoch") / 1000
                page_ms.append(js(doc, "window.anxinCall.joinToFirstFrameMs"))
                box_ms.append((box.call()["media"]["first_video_frame_epoch"] - joined) * 1000)
                print(f"call {len(page_ms)}: page {page_ms[-1]:.0f} ms, box {box_ms[-1]:.0f} ms")
                if hang_up:
                    js(doc, "document.getElementById('hang-up').click()")
                    poll(lambda: box.state()["screen"] == "home", 15, "box home")

            for _ in range(calls):
                one_call(hang_up=True)
            one_call(hang_up=False)
            pid = box.process.pid
            poll(lambda: box.call()["phase"] == "in_call", 15, "in call")
            cpu0, wall0 = proc_cpu_s(pid), time.monotonic()
            rss_peak = 0.0
            frames0 = box.call()["media"]["video_frames_received"]
            deadline = wall0 + hold_s
            while time.monotonic() < deadline:
                rss_peak = max(rss_peak, proc_rss_mb(pid))
                time.sleep(0.5)  # sampling period of the measurement, not synchronisation
            cpu1, wall1 = proc_cpu_s(pid), time.monotonic()
            frames1 = box.call()["media"]["video_frames_received"]
            page_frames = js(doc, "window.anxinCall.framesDecoded")
            js(doc, "document.getElementById('hang-up').click()")
            figures = {
                "calls": float(len(page_ms)),
                "join_to_page_frame_p50_ms": round(percentile(page_ms, 0.5)),
                "join_to_page_frame_p90_ms": round(percentile(page_ms, 0.9)),
                "join_to_box_frame_p50_ms": round(percentile(box_ms, 0.5)),
                "join_to_box_frame_p90_ms": round(percentile(box_ms, 0.9)),
                "box_cpu_pct_of_one_core": round(100 * (cpu1 - cpu0) / (wall1 - wall0), 1),
                "box_rss_peak_mb": round(rss_peak, 1),
                "box_video_fps": round((frames1 - frames0) / (wall1 - wall0), 1),
                "page_frames_decoded": float(page_frames),
            }
    finally:
        box.stop()
        server.stop()
    return figures


def main() -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--hold-s", type=float, default=10.0)
    args = parser.parse_args()
    if os.environ.get(IN_NETNS_ENV) != "1":
        return reexec_in_netns()
    figures = run(args.calls, args.hold_s)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
