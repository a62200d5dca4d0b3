"""Benchmark the consultation media path: aiortc <-> aiortc calls over loopback.

Runs itself inside a fresh loopback-only network namespace (re-exec under ``unshare -n``;
needs root) so ICE sees only 127.0.0.1. Then:

1. `--calls` calls one after another (two `CallSession`s in this process, synthetic
   640x480 video + 48 kHz audio both ways): time from `create_offer()` to CONNECTED on
   the caller, and to the first decoded remote video frame on the callee.
2. One call held for `--hold-s` seconds: CPU share (both peers together: encode and
   decode both ways, i.e. one box plus the doctor's side) and RSS of this process, and the
   received frame rate and frame age read from the synthetic stamp.

Usage: ``python bench/consult_media.py [--calls 20] [--hold-s 10]``; the last line printed
is one JSON object with units in its key names.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

IN_NETNS_ENV = "ANXIN_IN_NETNS"
REPO_ROOT = Path(__file__).resolve().parents[1]
STEP_TIMEOUT_S = 20.0


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


def rss_mb() -> float:
    """Resident set size of this process now, in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_s() -> float:
    """User + system CPU seconds of this process, all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def one_call(settings, hold_s: float = 0.0) -> dict[str, float]:  # type: ignore[no-untyped-def]
    from media.devices import LocalMedia
    from media.probe import VideoStampProbe
    from media.session import CallSession, CallState, drain_track

    loop = asyncio.get_running_loop()
    marks: dict[str, float] = {}
    probes: list[VideoStampProbe] = []
    drains: list[asyncio.Task[None]] = []

    def on_state(state: CallState) -> None:
        if state == CallState.CONNECTED:
            marks.setdefault("connected", loop.time())

    def on_first_frame(kind: str, _after_s: float) -> None:
        if kind == "video":
            marks.setdefault("first_frame", loop.time())

    def on_callee_track(track) -> None:  # type: ignore[no-untyped-def]
        if track.kind == "video":
            probes.append(VideoStampProbe(track))
        else:
            drains.append(loop.create_task(drain_track(track)))

    caller_media, callee_media = LocalMedia.synthetic(settings), LocalMedia.synthetic(settings)
    caller = CallSession(settings, caller_media, on_state=on_state)
    callee = CallSession(
        settings, callee_media, on_first_frame=on_first_frame, on_remote_track=on_callee_track
    )
    result: dict[str, float] = {}
    try:
        start = loop.time()
        offer = await asyncio.wait_for(caller.create_offer(), STEP_TIMEOUT_S)
        answer = await asyncio.wait_for(callee.accept_offer(offer), STEP_TIMEOUT_S)
        await asyncio.wait_for(caller.accept_answer(answer), STEP_TIMEOUT_S)
        for session in (caller, callee):
            state = await asyncio.wait_for(
                session.wait_for_state(CallState.CONNECTED), STEP_TIMEOUT_S
            )
            if state != CallState.CONNECTED:
                raise RuntimeError(f"call ended as {state}")

        async def first_frame() -> None:
            while "first_frame" not in marks:
                await asyncio.sleep(0.005)

        await asyncio.wait_for(first_frame(), STEP_TIMEOUT_S)
        result["connect_s"] = marks["connected"] - start
        result["first_frame_s"] = marks["first_frame"] - start
        if hold_s > 0:
            cpu_before, wall_before = cpu_s(), loop.time()
            frames_before = probes[0].frames
            counter_before = probes[0].stamps[-1].counter
            await asyncio.sleep(hold_s)
            cpu_used, wall = cpu_s() - cpu_before, loop.time() - wall_before
            ages = probes[0].ages_ms[-int(hold_s * settings.video_fps) :]
            result.update(
                cpu_share=cpu_used / wall,
                rss_mb=rss_mb(),
                fps=(probes[0].frames - frames_before) / wall,
                age_p50_ms=percentile([float(a) for a in ages], 0.5) if ages else -1.0,
                unreadable=float(probes[0].unreadable),
                sent_fps=(probes[0].stamps[-1].counter - counter_before) / wall,
            )
    finally:
        for probe in probes:
            await probe.stop()
        await asyncio.wait_for(caller.close(), STEP_TIMEOUT_S)
        await asyncio.wait_for(callee.close(), STEP_TIMEOUT_S)
        caller_media.close()
        callee_media.close()
    return result


async def run(calls: int, hold_s: float, fps: int) -> dict[str, float]:
    """Run the calls and the held call; return the figures."""
    from media.config import MediaSettings

    settings = MediaSettings(
        host_candidates_loopback_only=True, use_devices=False, video_fps=fps, ice_servers=[]
    )
    connect_ms, first_ms = [], []
    for index in range(calls):
        figures = await one_call(settings)
        connect_ms.append(figures["connect_s"] * 1000)
        first_ms.append(figures["first_frame_s"] * 1000)
        print(
            f"call {index + 1:2d}: connected {connect_ms[-1]:6.1f} ms, "
            f"first remote video frame {first_ms[-1]:6.1f} ms",
            flush=True,
        )
    rss_idle = rss_mb()
    held = await one_call(settings, hold_s)
    print(
        f"held call {hold_s:.0f} s: CPU {held['cpu_share'] * 100:.1f} % of one core (both peers), "
        f"RSS {held['rss_mb']:.0f} MiB (idle {rss_idle:.0f} MiB), {held['fps']:.1f} fps received, "
        f"(sender drew {held['sent_fps']:.1f} fps), frame age p50 {held['age_p50_ms']:.0f} ms",
        flush=True,
    )
    return {
        "calls": calls,
        "connect_p50_ms": round(percentile(connect_ms, 0.5), 1),
        "connect_p90_ms": round(percentile(connect_ms, 0.9), 1),
        "first_frame_p50_ms": round(percentile(first_ms, 0.5), 1),
        "first_frame_p90_ms": round(percentile(first_ms, 0.9), 1),
        "call_video_px": "640x480",  # type: ignore[dict-item]
        "call_fps_sent": fps,
        "call_hold_s": hold_s,
        "call_cpu_pct_one_core_both_peers": round(held["cpu_share"] * 100, 1),
        "call_rss_mb": round(held["rss_mb"], 1),
        "idle_rss_mb": round(rss_idle, 1),
        "call_fps_drawn": round(held["sent_fps"], 1),
        "call_fps_received": round(held["fps"], 1),
        "call_frame_age_p50_ms": held["age_p50_ms"],
    }


def main() -> int:
    """Entry point: re-exec in a namespace, or run the benchmark when inside one."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--hold-s", type=float, default=10.0)
    parser.add_argument("--fps", type=int, default=15)
    args = parser.parse_args()
    if os.environ.get(IN_NETNS_ENV) != "1":
        return reexec_in_netns()
    sys.path.insert(0, str(REPO_ROOT))
    figures = asyncio.run(run(args.calls, args.hold_s, args.fps))
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
