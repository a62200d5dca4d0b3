"""Benchmark appointments: free-slot search, and bookings racing for few places.

1. Search: 50 clinics × 20 doctors (five departments a clinic, four doctors each), every
   doctor open Monday to Friday 08:00–11:00 in 20-minute slots, materialised for the 28-day
   window (some 180,000 slots), a share of them booked. Then `--searches` free-slot searches
   over 14 days (`server.appointments.search.free_slots`, as the API runs it): half by
   department across every clinic, half by department in one clinic. p50/p99 in ms, on SQLite
   and on PostgreSQL.
2. Booking race (PostgreSQL): 200 elders try at once to book 20 slots of 3 places each
   (`server.appointments.booking.book`, threads with their own sessions); bookings per second
   over the whole race, and how many slots ended over capacity (must be 0).
3. TV: the Appointments tile key press → the visit list drawn on screen, in the real Kivy app
   offscreen at 1080p (`bench/appointments_tv.py`, in its own process), p50/p99 in ms
   (target p99 < 300 ms).

Usage: ``python bench/appointments.py [--searches 300] [--pg URL] [--tv-presses 100]
[--only tv]`` (the PostgreSQL URL
defaults to ANXIN_TEST_DATABASE_URL, else the local test database); the last line is one JSON
object with units in its key names.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import create_engine, func, insert, select, text, update  # noqa: E402

from protocol import Lang, Role  # noqa: E402
from server.appointments.booking import Booker, book  # noqa: E402
from server.appointments.schedule import slot_rows  # noqa: E402
from server.appointments.search import free_slots  # noqa: E402
from server.core.db import Database  # noqa: E402
from server.errors import AppError  # noqa: E402
from server.migrate import upgrade  # noqa: E402
from server.models import (  # noqa: E402
    BookedBy,
    Clinic,
    Department,
    Elder,
    OpeningHours,
    Slot,
    User,
    VisitKind,
    utcnow,
)

CLINICS, DOCTORS, CODES = 50, 20, ("gp", "chronic", "eye", "dental", "tcm")
RACERS, RACE_SLOTS, RACE_CAPACITY = 200, 20, 3
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (0–100) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


@contextmanager
def database(kind: str, pg: str, tmp: Path) -> Iterator[Database]:
    """A migrated, empty database: a SQLite file, or a throw-away PostgreSQL schema."""
    if kind == "sqlite":
        db = Database(f"sqlite:///{tmp / f'bench-{uuid.uuid4().hex[:8]}.sqlite3'}")
        upgrade(db.engine)
        try:
            yield db
        finally:
            db.dispose()
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in pg else "?"
    db = Database(f"{pg}{sep}options={quote(f'-csearch_path={schema}')}")
    try:
        upgrade(db.engine)
        yield db
    finally:
        db.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def build(db_: Database) -> tuple[list[int], float]:
    """The 50 clinics' timetables and slots; (clinic ids, seconds spent)."""
    started = time.perf_counter()
    now = utcnow()
    clinic_ids = []
    with db_.session() as db:
        for c in range(CLINICS):
            clinic = Clinic(name=f"Clinic {c}", timezone="Asia/Shanghai")
            db.add(clinic)
            db.flush()
            clinic_ids.append(clinic.id)
            depts = [
                Department(clinic_id=clinic.id, code=code, name_zh=code, name_en=code)
                for code in CODES
            ]
            doctors = [
                User(
                    email=f"d{c}-{d}@bench.anxin",
                    name=f"Doctor {c}-{d}",
                    password_hash="-",
                    role=Role.DOCTOR,
                    clinic_id=clinic.id,
                )
                for d in range(DOCTORS)
            ]
            db.add_all([*depts, *doctors])
            db.flush()
            week = [
                OpeningHours(
                    clinic_id=clinic.id,
                    doctor_id=doctor.id,
                    department_id=depts[d % len(CODES)].id,
                    weekday=weekday,
                    start_minute=8 * 60,
                    end_minute=11 * 60,
                    slot_minutes=20,
                    capacity=1,
                    kinds="clinic,video",
                    created_at=now,
                )
                for d, doctor in enumerate(doctors)
                for weekday in range(5)
            ]
            db.add_all(week)
            db.flush()
            # Every doctor keeps the same hours: their times are worked out once a weekday
            # (`slot_rows`, as the product does) and copied, and inserted in one batch.
            times = {w: slot_rows(week[w], clinic, now) for w in range(5)}
            rows = [
                row | {"doctor_id": h.doctor_id, "department_id": h.department_id, "hours_id": h.id}
                for h in week
                for row in times[h.weekday]
            ]
            db.execute(insert(Slot), rows)
        # A third of the slots are full already (an ordinary week).
        db.execute(update(Slot).where(Slot.id % 3 == 0).values(booked=Slot.capacity))
    with db_.session() as db:
        # Fresh statistics, as autovacuum (PostgreSQL) or a running server would have them.
        db.execute(text("ANALYZE"))
    return clinic_ids, time.perf_counter() - started


def searches(db_: Database, clinic_ids: list[int], count: int) -> dict[str, float]:
    """``count`` free-slot searches over 14 days; latency percentiles in ms."""
    rng = random.Random(7)
    took = []
    for i in range(count):
        now = utcnow()
        clinic = rng.choice(clinic_ids) if i % 2 else None
        started = time.perf_counter()
        with db_.session() as db:
            found = free_slots(
                db, Lang.ZH, (now, now + timedelta(days=14)), rng.choice(CODES), clinic
            )
        took.append((time.perf_counter() - started) * 1000)
        assert found, "a search found nothing"
    return {"p50_ms": round(pct(took, 50), 2), "p99_ms": round(pct(took, 99), 2)}


def race(db_: Database) -> dict[str, Any]:
    """200 elders book 20 three-place slots at once; bookings/s and slots over capacity."""
    with db_.session() as db:
        clinic = Clinic(name="Race clinic")
        db.add(clinic)
        db.flush()
        dept = Department(clinic_id=clinic.id, code="gp", name_zh="全科", name_en="GP")
        doctor = User(email="race@bench.anxin", name="Race", password_hash="-", role=Role.DOCTOR)
        db.add_all([dept, doctor])
        db.flush()
        starts = utcnow() + timedelta(days=1)
        slots = [
            Slot(
                clinic_id=clinic.id,
                doctor_id=doctor.id,
                department_id=dept.id,
                starts_at=starts + timedelta(hours=n),
                ends_at=starts + timedelta(hours=n, minutes=30),
                capacity=RACE_CAPACITY,
                booked=0,
                kinds="clinic",
                closed=False,
            )
            for n in range(RACE_SLOTS)
        ]
        elders = [Elder(name=f"Elder {n}") for n in range(RACERS)]
        db.add_all([*slots, *elders])
        db.flush()
        slot_ids, elder_ids = [s.id for s in slots], [e.id for e in elders]
    gate = threading.Barrier(RACERS)

    def attempt(n: int) -> bool:
        gate.wait(timeout=60)
        with db_.session() as db:
            elder = db.get(Elder, elder_ids[n])
            assert elder is not None
            booker = Booker(BookedBy.FAMILY, f"user:{n}", Lang.EN)
            try:
                book(db, booker, elder, slot_ids[n % RACE_SLOTS], VisitKind.CLINIC, "k", utcnow())
            except AppError:
                return False
        return True

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        booked = sum(pool.map(attempt, range(RACERS)))
    elapsed = time.perf_counter() - started
    with db_.session() as db:
        over = db.scalar(select(func.count(Slot.id)).where(Slot.booked > Slot.capacity)) or 0
    return {
        "race_attempts": RACERS,
        "race_booked": booked,
        "race_places": RACE_SLOTS * RACE_CAPACITY,
        "race_s": round(elapsed, 3),
        "race_bookings_per_s": round(booked / elapsed, 1),
        "race_over_capacity_slots": over,
    }


def tv(presses: int) -> dict[str, Any]:
    """The TV part, in its own process (Kivy owns its window): its one JSON line."""
    env = {**os.environ, "SDL_VIDEODRIVER": "offscreen", "KIVY_NO_ARGS": "1"}
    env.pop("DISPLAY", None)
    run = subprocess.run(
        [sys.executable, str(REPO / "bench" / "appointments_tv.py"), "--presses", str(presses)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=True,
    )
    figures: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--searches", type=int, default=300)
    parser.add_argument("--pg", default=os.environ.get("ANXIN_TEST_DATABASE_URL") or PG_DEFAULT)
    parser.add_argument("--tv-presses", type=int, default=100)
    parser.add_argument("--only", choices=("tv",), help="run only this part")
    args = parser.parse_args()
    result: dict[str, Any] = {"clinics": CLINICS, "doctors_per_clinic": DOCTORS}
    result.update(tv(args.tv_presses))
    print(f"tv: {result}", file=sys.stderr)
    if args.only == "tv":
        print(json.dumps(result))
        return 0 if result["tv_tile_to_list_p99_ms"] < 300 else 1
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("sqlite", "postgresql"):
            with database(kind, args.pg, Path(tmp)) as db_:
                clinic_ids, built = build(db_)
                with db_.session() as db:
                    result["slots"] = db.scalar(select(func.count(Slot.id)))
                result[f"{kind}_build_s"] = round(built, 1)
                figures = searches(db_, clinic_ids, args.searches)
                result[f"{kind}_search_14d_p50_ms"] = figures["p50_ms"]
                result[f"{kind}_search_14d_p99_ms"] = figures["p99_ms"]
                if kind == "postgresql":
                    result.update({f"postgresql_{k}": v for k, v in race(db_).items()})
                print(f"{kind}: {result}", file=sys.stderr)
    print(json.dumps(result))
    return 0 if result["postgresql_race_over_capacity_slots"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
