"""Benchmark medication reminders.

1. Box: doses scheduled `--spacing-s` apart on APScheduler (persistent SQLite job store) drive a
   real `AppViewModel` with a real espeak-ng `Speaker` (WAV output); for each dose, the delay
   from its scheduled instant to the reminder being on screen (the view-model's screen switch;
   Kivy drawing is not included) and to speech started (the speaker's STARTED event, i.e.
   after synthesis, when playback begins). p50/p99 over `--doses` doses.
2. Server: the missed-dose sweep (find due and missed doses, claim alerts) over 10,000 plans
   of 1,000 elders in mixed timezones, on SQLite and, if `--pg` / ANXIN_TEST_DATABASE_URL is a
   PostgreSQL URL, on PostgreSQL. Steady-state sweeps, after a first one recorded the backlog.
3. Box RSS: a real `python -m tvbox` process (offscreen, no server reachable, no Vosk model)
   with 50 plans in its store, idle for `--idle-s` seconds: VmRSS of the box process and any
   children it started, the last sample and the largest; issue #3 asks for < 250 MB.

Usage: ``python bench/reminders.py [--doses 200] [--spacing-s 0.6] [--pg URL]``; the last line
is one JSON object with units in its key names.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from protocol import ElderInfo, Lang, PlanInfo, Schedule  # noqa: E402

ZONES = ("Asia/Shanghai", "Europe/London", "America/New_York", "Asia/Tokyo", "Australia/Sydney")


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (0–100) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


# -- 1. box latency -----------------------------------------------------------------------


async def box_latency(doses: int, spacing: float, tmp: Path) -> dict[str, float]:
    from tvbox.box import AppViewModel, Screen
    from tvbox.outbox import Outbox
    from tvbox.reminders.clock import ReminderClock
    from tvbox.reminders.view import SETTLE, Choice
    from tvbox.speech import SpokenLog
    from tvbox.store import BoxStore
    from voice.speech import Speaker, SpeechEventKind, WavFileOutput

    store = BoxStore(tmp / "box.sqlite3")
    elder = ElderInfo(id=1, name="Bench", lang=Lang.EN, timezone="Asia/Shanghai")
    store.save_pairing(1, "token", elder)
    speaker = Speaker(output=WavFileOutput(tmp / "speech"))
    vm = AppViewModel(store, Outbox(store), SpokenLog(speaker), Lang.EN)
    tz = elder.timezone
    from zoneinfo import ZoneInfo

    first = datetime.now(UTC) + timedelta(seconds=3)
    plans, due_at = [], {}
    for i in range(doses):
        at = first + timedelta(seconds=i * spacing)
        local = at.astimezone(ZoneInfo(tz))
        plans.append(
            PlanInfo(
                id=i + 1,
                medicine=f"Med{i + 1}",
                dose="1 tablet",
                schedule=Schedule(
                    times=(local.time().replace(tzinfo=None),), start_date=local.date()
                ),
                updated_at=datetime.now(UTC) - timedelta(seconds=1),
            )
        )
        due_at[f"Med{i + 1}"] = at
    vm.reminders.set_plans(plans, datetime.now(UTC))
    shown: dict[str, float] = {}
    spoken: dict[str, float] = {}
    loop = asyncio.get_running_loop()
    done = asyncio.Event()

    def on_change() -> None:
        if vm.screen is Screen.REMINDER:
            now = time.time()
            for d in vm.reminders.showing:
                shown.setdefault(d.plan.medicine, now)

    def on_speech(event: Any) -> None:
        if event.kind is not SpeechEventKind.STARTED:
            return
        now = time.time()
        for name in due_at:
            if f"{name}," in event.text and name not in spoken:
                spoken[name] = now
                loop.call_soon_threadsafe(answer, name)

    def answer(name: str) -> None:
        if vm.screen is Screen.REMINDER:
            # Silent answer (keep the speaker free) for all on screen: the bench has seen them
            # all, so it answers as an elder would SETTLE later (doses are 0.6 s apart).
            vm.reminders.answer(Choice.TAKEN, vm.clock.now() + SETTLE)
            vm.reminder_control.leave()
        if len(spoken) >= doses:
            done.set()

    vm.subscribe(on_change)
    speaker.add_listener(on_speech)
    clock = ReminderClock(vm.reminder_control, tmp / "jobs.sqlite3")
    clock.start()
    try:
        await asyncio.wait_for(done.wait(), timeout=doses * spacing + 60)
    except TimeoutError:
        pass
    clock.stop()
    speaker.close()
    store.close()
    screen_ms = [(shown[n] - due_at[n].timestamp()) * 1000 for n in shown]
    speech_ms = [(spoken[n] - due_at[n].timestamp()) * 1000 for n in spoken]
    print(f"box: {len(screen_ms)}/{doses} doses on screen, {len(speech_ms)} spoken")
    return {
        "box_doses": len(screen_ms),
        "box_screen_p50_ms": round(pct(screen_ms, 50), 1),
        "box_screen_p99_ms": round(pct(screen_ms, 99), 1),
        "box_speech_p50_ms": round(pct(speech_ms, 50), 1),
        "box_speech_p99_ms": round(pct(speech_ms, 99), 1),
    }


# -- 2. server sweep ----------------------------------------------------------------------


def seed(url: str, elders: int, plans: int) -> None:
    from sqlalchemy import insert

    from server.core.db import Database
    from server.migrate import upgrade
    from server.models import Elder, MedicationPlan

    db = Database(url)
    upgrade(db.engine)
    rng = random.Random(7)
    since = datetime.now(UTC) - timedelta(days=2)
    with db.session() as s:
        s.execute(
            insert(Elder),
            [
                {
                    "id": i + 1,
                    "name": f"E{i}",
                    "timezone": ZONES[i % len(ZONES)],
                    "lang": Lang.ZH,
                    "address": "",
                    "care_notes": "",
                    "lives_alone": False,
                    "created_at": since,
                    "updated_at": since,
                }
                for i in range(elders)
            ],
        )
        rows = []
        for i in range(plans):
            times = sorted({dtime(rng.randrange(24), rng.randrange(0, 60, 5)) for _ in range(2)})
            sched = Schedule(times=tuple(times), start_date=date(2026, 1, 1))
            rows.append(
                {
                    "elder_id": i % elders + 1,
                    "medicine": f"M{i}",
                    "strength": "",
                    "dose": "",
                    "instructions": "",
                    "appearance": "",
                    "colour": "#ffffff",
                    "schedule": sched.model_dump_json(),
                    "window_minutes": 30,
                    "status": "active",
                    "active_since": since,
                    "created_at": since,
                    "updated_at": since,
                }
            )
        s.execute(insert(MedicationPlan), rows)
    db.dispose()


def sweep_timing(url: str, sweeps: int) -> dict[str, float]:
    from server.core.db import Database
    from server.reminders.sweep import claim_alerts, find_missed

    db = Database(url)
    now = datetime.now(UTC)
    started = time.perf_counter()
    with db.session() as s:
        backlog = find_missed(s, now)
    with db.session() as s:
        claimed = len(claim_alerts(s, now))
    first_ms = (time.perf_counter() - started) * 1000
    times = []
    for i in range(sweeps):
        t = now + timedelta(seconds=30 * (i + 1))
        started = time.perf_counter()
        with db.session() as s:
            find_missed(s, t)
        with db.session() as s:
            claim_alerts(s, t)
        times.append((time.perf_counter() - started) * 1000)
    db.dispose()
    print(
        f"sweep {url.split(':')[0]}: first sweep {first_ms:.0f} ms ({backlog} missed, "
        f"{claimed} alerts claimed); steady {statistics.median(times):.0f} ms median"
    )
    return {
        "first_ms": round(first_ms, 1),
        "p50_ms": round(statistics.median(times), 1),
        "max_ms": round(max(times), 1),
    }


def server_sweeps(pg: str | None, tmp: Path) -> dict[str, float]:
    out: dict[str, float] = {}
    url = f"sqlite:///{tmp / 'server.sqlite3'}"
    seed(url, 1000, 10_000)
    for k, v in sweep_timing(url, 10).items():
        out[f"sweep_sqlite_{k}"] = v
    if pg and pg.startswith("postgresql"):
        from sqlalchemy import create_engine, text

        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            from urllib.parse import quote

            sep = "&" if "?" in pg else "?"
            url = f"{pg}{sep}options={quote(f'-csearch_path={schema}')}"
            seed(url, 1000, 10_000)
            for k, v in sweep_timing(url, 10).items():
                out[f"sweep_pg_{k}"] = v
        finally:
            with admin.connect() as c:
                c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    return out


# -- 3. box RSS ---------------------------------------------------------------------------


def box_rss(tmp: Path, idle: float) -> dict[str, float]:
    from tvbox.reminders.store import ReminderStore
    from tvbox.store import BoxStore

    data = tmp / "rss-box"
    store = BoxStore(data / "box.sqlite3")
    store.save_pairing(
        1, "token", ElderInfo(id=1, name="B", lang=Lang.EN, timezone="Asia/Shanghai")
    )
    ReminderStore(store).replace_plans(
        [
            PlanInfo(
                id=i + 1,
                medicine=f"Med{i}",
                schedule=Schedule(times=(dtime(8 + i % 12, 0),), start_date=date(2026, 1, 1)),
                updated_at=datetime.now(UTC),
            )
            for i in range(50)
        ]
    )
    store.close()
    env = {
        **os.environ,
        "SDL_VIDEODRIVER": "offscreen",
        "KIVY_NO_ARGS": "1",
        "KIVY_HOME": str(data / "kivy"),
        "PYTHONPATH": str(REPO),
        "ANXIN_BOX_SPEECH_OUTPUT": "wav",
        "ANXIN_BOX_SPEECH_DIR": str(data / "speech"),
        "ANXIN_BOX_VOICE_MODEL": "off",
    }  # the target is "without a voice model loaded"
    env.pop("DISPLAY", None)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tvbox",
            "--server",
            "http://127.0.0.1:9",
            "--data-dir",
            str(data),
            "--lang",
            "en",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + idle
        samples: list[dict[str, float]] = []
        while time.monotonic() < deadline:
            time.sleep(1.0)  # a benchmark sampling RSS, not a test synchronising on it
            samples.append(tree_rss_mb(proc.pid))
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    last = samples[-1]
    print(
        f"box RSS idle with 50 plans: {last['rss']:.0f} MB (max "
        f"{max(s['rss'] for s in samples):.0f} MB; anon {last['anon']:.0f} MB, file-backed "
        f"{last['file']:.0f} MB; {last['processes']:.0f} process(es))"
    )
    return {
        "box_idle_rss_mb": round(last["rss"], 1),
        "box_idle_rss_max_mb": round(max(s["rss"] for s in samples), 1),
        "box_idle_rss_anon_mb": round(last["anon"], 1),
        "box_idle_rss_file_mb": round(last["file"], 1),
    }


def tree_rss_mb(pid: int) -> dict[str, float]:
    """VmRSS (and its anonymous / file-backed parts) of `pid` and all its descendants, in MB."""
    total = {"rss": 0.0, "anon": 0.0, "file": 0.0, "processes": 0.0}
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            tasks = list(Path(f"/proc/{current}/task").iterdir())
            for task in tasks:
                pending += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue  # a child that just exited
        fields = {
            line.split(":")[0]: line.split()[1]
            for line in status.splitlines()
            if line.startswith(("VmRSS", "RssAnon", "RssFile", "RssShmem"))
        }
        total["rss"] += int(fields.get("VmRSS", 0)) / 1024
        total["anon"] += int(fields.get("RssAnon", 0)) / 1024
        total["file"] += (int(fields.get("RssFile", 0)) + int(fields.get("RssShmem", 0))) / 1024
        total["processes"] += 1
    return total


def main() -> None:
    """Run the three measurements and print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--doses", type=int, default=200)
    parser.add_argument("--spacing-s", type=float, default=0.6)
    parser.add_argument("--idle-s", type=float, default=20.0)
    parser.add_argument("--pg", default=os.environ.get("ANXIN_TEST_DATABASE_URL"))
    args = parser.parse_args()
    result: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="anxin-bench-") as tmp_name:
        tmp = Path(tmp_name)
        result.update(server_sweeps(args.pg, tmp))
        result.update(box_rss(tmp, args.idle_s))
        result.update(asyncio.run(box_latency(args.doses, args.spacing_s, tmp)))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
