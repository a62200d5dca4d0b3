"""Benchmark meals: ordering a city's lunch, the kitchen's sheets, nearest points, the claim.

1. Ordering (PostgreSQL): 10,000 elders each order the same day's lunch across 100 meal
   points (`server.meals.ordering.place`, as the API runs it, 12 threads with their own
   sessions); orders per second, and menus ended past their portions (must be 0). One point
   takes 500 of the orders, the 99 others about 96 each.
2. Kitchen: the production sheet and the delivery list of the 500-order point
   (`server.meals.kitchen`), together, `--sheets` times; p50/p99 in ms (target p99 < 300).
3. Nearest: 900 more meal points (1,000 in all, a grid over some 35 × 35 km); the nearest
   points of a random elder (`server.meals.nearby.nearest_points`), `--nearest` times;
   p50/p99 in ms (target p99 < 20), on SQLite and PostgreSQL.
4. The month's subsidy claim CSV of the area (`server.meals.billing.subsidy_claim_csv`) over
   the 10,000 orders; seconds (target < 3).
5. The TV: Meals tile key press → the meals list drawn, in the real Kivy app offscreen at
   1080p (`bench/meals_tv.py`, in its own process), p50/p99 in ms (target p99 < 300).

Usage: ``python bench/meals.py [--elders 10000] [--sheets 100] [--nearest 300] [--pg URL]
[--tv-presses 100] [--only tv]``
(the PostgreSQL URL defaults to ANXIN_TEST_DATABASE_URL, else the local test database); the
last line is one JSON object with units in its key names.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import create_engine, func, insert, select, text  # noqa: E402

from protocol import Lang  # noqa: E402
from server.core.db import Database  # noqa: E402
from server.errors import AppError  # noqa: E402
from server.meals.billing import subsidy_claim_csv  # noqa: E402
from server.meals.kitchen import delivery_list, production_sheet  # noqa: E402
from server.meals.nearby import nearest_points  # noqa: E402
from server.meals.ordering import Orderer, place  # noqa: E402
from server.migrate import upgrade  # noqa: E402
from server.models import (  # noqa: E402
    Dish,
    Elder,
    ElderSubsidy,
    Meal,
    MealMenu,
    MealMode,
    MealOrder,
    MealPointSettings,
    MealService,
    OrderedBy,
    ServiceArea,
    ServicePoint,
    ServicePointKind,
    SubsidyCategory,
    utcnow,
)

# Threads stay below the pool (5 + 10 overflow): none waits for a connection.
POINTS, MORE_POINTS, BIG_POINT_ORDERS, THREADS = 100, 900, 500, 12
CENTRE = (39.92, 116.44)
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DISHES = (
    ("清蒸鱼", "Fish", 1500, "low_salt,low_sugar", "fish"),
    ("番茄炒蛋", "Egg", 1200, "soft", "egg"),
    ("素什锦", "Greens", 1000, "vegetarian", "soy"),
    ("红烧肉", "Pork", 1800, "", "wheat,soy"),
)


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


def _grid(n: int, side: int, spacing: float) -> list[tuple[float, float]]:
    """``n`` positions on a square grid of ``side`` around the centre, ``spacing`` degrees."""
    half = side * spacing / 2
    return [
        (CENTRE[0] - half + (i // side) * spacing, CENTRE[1] - half + (i % side) * spacing)
        for i in range(n)
    ]


def build_points(
    db_: Database, area_id: int, positions: list[tuple[float, float]], portions: int
) -> list[int]:
    """Meal points at ``positions`` with lunch served (closing 17:00 the day before)."""
    with db_.session() as db:
        ids = []
        for n, (lat, lon) in enumerate(positions):
            point = ServicePoint(
                kind=ServicePointKind.MEAL_POINT,
                name=f"Point {n}",
                address=f"{n} Road",
                latitude=lat,
                longitude=lon,
                service_area_id=area_id,
            )
            db.add(point)
            db.flush()
            ids.append(point.id)
        db.execute(
            insert(MealPointSettings),
            [
                {
                    "service_point_id": i,
                    "phone": "010",
                    "open_days": "0,1,2,3,4,5,6",
                    "dine_in": True,
                    "delivery": True,
                    "delivery_radius_m": 3000,
                    "updated_at": utcnow(),
                }
                for i in ids
            ],
        )
        db.execute(
            insert(MealService),
            [
                {
                    "service_point_id": i,
                    "meal": Meal.LUNCH,
                    "cutoff_days_before": 1,
                    "cutoff_minute": 1020,
                    "portions": portions,
                    "window_start": 660,
                    "window_end": 750,
                }
                for i in ids
            ],
        )
    return ids


def build(db_: Database, elders: int, day: date) -> tuple[list[int], list[tuple[int, int]], int]:
    """The area, 100 points with a lunch menu, and the elders with their subsidies;
    (point ids, (elder id, dish id) to order, the area id)."""
    with db_.session() as db:
        area = ServiceArea(name="Bench area", timezone="Asia/Shanghai")
        db.add(area)
        db.flush()
        area_id = area.id
        cats = [
            SubsidyCategory(
                service_area_id=area_id,
                code=c,
                name_zh=c,
                name_en=c,
                amount_cents=a,
                percent=p,
                is_active=True,
            )
            for c, a, p in (("aged_80", 500, None), ("low_income", None, 50), ("alone", 300, None))
        ]
        db.add_all(cats)
        db.flush()
        cat_ids = [c.id for c in cats]
    point_ids = build_points(db_, area_id, _grid(POINTS, 10, 0.01), portions=BIG_POINT_ORDERS + 100)
    menus: dict[int, list[int]] = {}
    with db_.session() as db:
        for pid in point_ids:
            menu = MealMenu(
                service_point_id=pid,
                day=day,
                meal=Meal.LUNCH,
                portions=BIG_POINT_ORDERS + 100,
                ordered=0,
                published_at=utcnow(),
            )
            db.add(menu)
            db.flush()
            dishes = [
                Dish(
                    menu_id=menu.id,
                    position=k + 1,
                    name_zh=zh,
                    name_en=en,
                    price_cents=p,
                    tags=t,
                    allergens=a,
                )
                for k, (zh, en, p, t, a) in enumerate(DISHES)
            ]
            db.add_all(dishes)
            db.flush()
            menus[pid] = [d.id for d in dishes]
    rng = random.Random(16)
    wanted = []
    with db_.session() as db:
        positions = {pid: db.get(ServicePoint, pid) for pid in point_ids}
        rows = []
        for n in range(elders):
            pid = point_ids[0] if n < BIG_POINT_ORDERS else point_ids[1 + n % (POINTS - 1)]
            point = positions[pid]
            assert point is not None and point.latitude is not None and point.longitude is not None
            rows.append(
                {
                    "name": f"Elder {n}",
                    "address": f"{rng.randint(1, 40)} Road {n % 7}",
                    "latitude": point.latitude + rng.uniform(-0.004, 0.004),
                    "longitude": point.longitude + rng.uniform(-0.004, 0.004),
                    "service_area_id": area_id,
                    "lang": Lang.ZH,
                    "timezone": "Asia/Shanghai",
                    "created_at": utcnow(),
                    "updated_at": utcnow(),
                }
            )
        db.execute(insert(Elder), rows)
        elder_ids = list(
            db.scalars(select(Elder.id).where(Elder.service_area_id == area_id).order_by(Elder.id))
        )
        db.execute(
            insert(ElderSubsidy),
            [{"elder_id": e, "category_id": cat_ids[e % 3]} for e in elder_ids if e % 2 == 0],
        )
        for n, elder_id in enumerate(elder_ids):
            pid = point_ids[0] if n < BIG_POINT_ORDERS else point_ids[1 + n % (POINTS - 1)]
            wanted.append((elder_id, menus[pid][n % 4]))
    return point_ids, wanted, area_id


def ordering(db_: Database, wanted: list[tuple[int, int]]) -> dict[str, Any]:
    """Every elder orders their lunch at once; orders/s and menus past their portions."""

    def one(item: tuple[int, int]) -> bool:
        elder_id, dish_id = item
        with db_.session() as db:
            elder = db.get(Elder, elder_id)
            assert elder is not None
            orderer = Orderer(OrderedBy.FAMILY, f"user:{elder_id}", Lang.ZH)
            try:
                place(db, orderer, elder, dish_id, MealMode.DINE_IN, "bench", utcnow())
            except AppError:
                return False
        return True

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        made = sum(pool.map(one, wanted))
    elapsed = time.perf_counter() - started
    with db_.session() as db:
        over = db.scalar(
            select(func.count(MealMenu.id)).where(MealMenu.ordered > MealMenu.portions)
        )
        stored = db.scalar(select(func.count(MealOrder.id)))
    return {
        "orders": made,
        "orders_stored": stored,
        "order_s": round(elapsed, 1),
        "orders_per_s": round(made / elapsed, 1),
        "menus_over_portions": over,
    }


def timed(count: int, fn: Any) -> dict[str, float]:
    """p50/p99 in ms of ``count`` calls of ``fn(i)``."""
    times = []
    for i in range(count):
        started = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": round(pct(times, 50), 2), "p99_ms": round(pct(times, 99), 2)}


def nearest(db_: Database, area_id: int, count: int) -> dict[str, float]:
    """The nearest points of random elders among (at least) 1,000 points."""
    rng = random.Random(7)

    def one(_: int) -> None:
        with db_.session() as db:
            lat = CENTRE[0] + rng.uniform(-0.15, 0.15)
            lon = CENTRE[1] + rng.uniform(-0.15, 0.15)
            nearest_points(db, lat, lon)

    return timed(count, one)


def tv(presses: int) -> dict[str, Any]:
    """The TV part, in its own process (Kivy owns its window): its one JSON line."""
    env = {**os.environ, "SDL_VIDEODRIVER": "offscreen", "KIVY_NO_ARGS": "1"}
    env.pop("DISPLAY", None)
    run = subprocess.run(
        [sys.executable, str(REPO / "bench" / "meals_tv.py"), "--presses", str(presses)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    figures: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tv-presses", type=int, default=100)
    parser.add_argument("--only", choices=("tv",), help="run only this part")
    parser.add_argument("--elders", type=int, default=10_000)
    parser.add_argument("--sheets", type=int, default=100)
    parser.add_argument("--nearest", type=int, default=300)
    parser.add_argument("--pg", default=os.environ.get("ANXIN_TEST_DATABASE_URL") or PG_DEFAULT)
    args = parser.parse_args()
    if args.only == "tv":
        figures = tv(args.tv_presses)
        print(json.dumps(figures))
        return 0 if figures["tv_tile_to_list_p99_ms"] < 300 else 1
    day = utcnow().astimezone(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=3)
    result: dict[str, Any] = {"elders": args.elders, "meal_points_ordering": POINTS}
    with tempfile.TemporaryDirectory() as tmp:
        with database("postgresql", args.pg, Path(tmp)) as db_:
            started = time.perf_counter()
            point_ids, wanted, area_id = build(db_, args.elders, day)
            result["postgresql_build_s"] = round(time.perf_counter() - started, 1)
            result.update({f"postgresql_{k}": v for k, v in ordering(db_, wanted).items()})
            print(f"ordered: {result}", file=sys.stderr)

            def sheets(_: int) -> None:
                with db_.session() as db:
                    sheet = production_sheet(db, point_ids[0], day, Meal.LUNCH)
                    listing = delivery_list(db, point_ids[0], day, Meal.LUNCH, Lang.ZH)
                    assert sheet.total == BIG_POINT_ORDERS, sheet.total
                    assert sum(len(r.stops) for r in listing.routes) == BIG_POINT_ORDERS

            figures = timed(args.sheets, sheets)
            result["postgresql_sheet_and_list_500_orders_p50_ms"] = figures["p50_ms"]
            result["postgresql_sheet_and_list_500_orders_p99_ms"] = figures["p99_ms"]
            started = time.perf_counter()
            with db_.session() as db:
                claim = subsidy_claim_csv(db, area_id, day.strftime("%Y-%m"), Lang.ZH)
            result["postgresql_subsidy_claim_csv_s"] = round(time.perf_counter() - started, 3)
            result["subsidy_claim_rows"] = claim.count("\n") - 2
            build_points(db_, area_id, _grid(MORE_POINTS, 30, 0.011), portions=50)
            result["meal_points_nearest"] = POINTS + MORE_POINTS
            figures = nearest(db_, area_id, args.nearest)
            result["postgresql_nearest_p50_ms"] = figures["p50_ms"]
            result["postgresql_nearest_p99_ms"] = figures["p99_ms"]
        with database("sqlite", args.pg, Path(tmp)) as db_:
            with db_.session() as db:
                area = ServiceArea(name="Bench area")
                db.add(area)
                db.flush()
                area_id = area.id
            build_points(db_, area_id, _grid(POINTS + MORE_POINTS, 32, 0.011), portions=50)
            figures = nearest(db_, area_id, args.nearest)
            result["sqlite_nearest_p50_ms"] = figures["p50_ms"]
            result["sqlite_nearest_p99_ms"] = figures["p99_ms"]
    result.update(tv(args.tv_presses))
    print(json.dumps(result))
    return 0 if result["postgresql_menus_over_portions"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
