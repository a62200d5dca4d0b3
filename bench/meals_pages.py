"""Benchmark the meals pages: the meal point's page (production sheet and delivery list of a
500-order lunch, rendered as HTML through the whole app) and the family home with its Meals
panel, each `--times` times; p50/p99 in ms.

An in-process server (the real ASGI app, lifespan included) over a fresh SQLite file; 500
elders on 25 roads each have tomorrow's lunch ordered at one meal point (the 500-order
kitchen of `bench/meals.py`, whose sheets are timed on PostgreSQL without the page).

Usage: ``python bench/meals_pages.py [--orders 500] [--times 50]``; the last line is one JSON
object with units in its key names.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fastapi.testclient import TestClient  # noqa: E402

from protocol import Lang, Role  # noqa: E402
from server.app import create_app  # noqa: E402
from server.core.config import Settings  # noqa: E402
from server.meals.ordering import Orderer, place  # noqa: E402
from server.migrate import upgrade  # noqa: E402
from server.models import CareLink, Elder, MealMode, OrderedBy, utcnow  # noqa: E402
from server.runtime import Runtime  # noqa: E402
from tests.server.meals_world import (  # noqa: E402
    ALWAYS_OPEN_TOMORROW,
    make_meal_point,
    make_menu,
)
from tests.support.world import PASSWORD, make_user, make_world  # noqa: E402


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def timed(client: TestClient, path: str, times: int) -> dict[str, float]:
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        resp = client.get(path, headers={"accept": "text/html"})
        spent.append((time.perf_counter() - started) * 1000)
        assert resp.status_code == 200, resp.status_code
    return {"p50_ms": round(pct(spent, 50), 1), "p99_ms": round(pct(spent, 99), 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--times", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        settings = Settings(database_url=url, data_dir=Path(tmp) / "data")
        rt = Runtime.from_settings(settings)
        upgrade(rt.db.engine)
        tomorrow = utcnow().astimezone(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=1)
        with rt.db.session() as db:
            world = make_world(db)
            mp = make_meal_point(
                db,
                world.area_a.id,
                portions=5000,
                delivery_radius_m=10_000,
                lunch_cutoff=ALWAYS_OPEN_TOMORROW,
            )
            _, dishes = make_menu(db, mp, tomorrow, portions=5000)
            family = make_user(db, Role.FAMILY)
            orderer = Orderer(OrderedBy.FAMILY, f"user:{family.id}", Lang.ZH, user_id=family.id)
            ids = list(dishes.values())
            now = utcnow()
            for n in range(args.orders):
                elder = Elder(
                    name=f"老人{n}",
                    address=f"{n % 40 + 1}号 Road {n % 25}",
                    latitude=39.9 + (n % 50) * 0.0005,
                    longitude=116.4,
                    service_area_id=world.area_a.id,
                    lang=Lang.ZH,
                )
                db.add(elder)
                db.flush()
                if n == 0:
                    db.add(CareLink(user_id=family.id, elder_id=elder.id, relation="daughter"))
                mode = MealMode.DELIVERY if n % 3 else MealMode.DINE_IN
                place(db, orderer, elder, ids[n % len(ids)], mode, f"bench-{n}", now)
            db.commit()
            staff_email, family_email = mp.staff.email, family.email
        result: dict[str, Any] = {"orders": args.orders, "database": url.split(":")[0]}
        with TestClient(create_app(runtime=rt)) as client:
            client.post("/login", data={"email": staff_email, "password": PASSWORD})
            page = client.get("/meals/kitchen", headers={"accept": "text/html"}).text
            assert page.count('<tr id="stop-') == args.orders
            figures = timed(client, "/meals/kitchen", args.times)
            result["kitchen_page_p50_ms"], result["kitchen_page_p99_ms"] = figures.values()
            client.cookies.clear()
            client.post("/login", data={"email": family_email, "password": PASSWORD})
            figures = timed(client, "/family", args.times)
            result["family_home_p50_ms"], result["family_home_p99_ms"] = figures.values()
        rt.db.dispose()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
