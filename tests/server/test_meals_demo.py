"""The demo world has a meal point with a fortnight of menus, diets, subsidy categories, a
standing order and orders whose statement adds up; its staff login reads the kitchen sheet."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import select

from server.app import FEATURES
from server.demo import DEMO_LOGINS, seed_demo
from server.features import demo_seeds
from server.meals.demo import MEAL_STAFF_LOGIN
from server.meals.standing import materialise_standing
from server.models import Elder, MealOrder, utcnow
from server.runtime import Runtime
from tests.conftest import bearer


def test_the_demo_has_menus_diets_subsidies_and_orders(client: TestClient, rt: Runtime) -> None:
    with rt.db.session() as db:
        assert seed_demo(db, demo_seeds(FEATURES))
        wang = db.scalar(select(Elder).where(Elder.name == "王秀英"))
        assert wang is not None
    family = next(d for d in DEMO_LOGINS if d.email == "family1@demo.anxin")
    headers = bearer(client, family.email, family.password)
    tomorrow = utcnow().astimezone(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=1)
    offer = client.get(
        f"/api/meals/elders/{wang.id}/offer",
        params={"day": (tomorrow + timedelta(days=1)).isoformat()},
        headers=headers,
    ).json()
    if (tomorrow + timedelta(days=1)).weekday() != 6:  # closed on Sundays
        # Wang is diabetic on a low-salt diet and allergic to peanuts: fish first, pork last.
        assert offer["dishes"][0]["name"] == "清蒸鱼套餐" and offer["dishes"][0]["fits_diet"]
        # Aged 80+ (5 yuan) and living alone (3 yuan): the larger one, never both.
        assert offer["dishes"][0]["payable_cents"] == 1000
    month = utcnow().astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    statement = client.get(
        f"/api/meals/elders/{wang.id}/statement", params={"month": month}, headers=headers
    ).json()
    assert statement["price_cents"] == statement["subsidy_cents"] + statement["payable_cents"]
    materialise_standing(rt)  # Margaret's standing lunch on weekdays
    with rt.db.session() as db:
        assert db.scalar(select(MealOrder.id).where(MealOrder.ordered_by == "standing")) or (
            tomorrow.weekday() >= 5
        )
    email, password, _ = MEAL_STAFF_LOGIN
    staff = bearer(client, email, password)
    point_id = client.get(f"/api/meals/elders/{wang.id}/points", headers=headers).json()[0]["id"]
    sheet = client.get(
        f"/api/meals/points/{point_id}/production",
        params={"day": tomorrow.isoformat()},
        headers=staff,
    )
    assert sheet.status_code == 200


def test_the_demo_meal_point_login_lands_on_a_filled_page(client: TestClient, rt: Runtime) -> None:
    with rt.db.session() as db:
        assert seed_demo(db, demo_seeds(FEATURES))
    email, password, _ = MEAL_STAFF_LOGIN
    landed = client.post(
        "/login", data={"email": email, "password": password}, follow_redirects=False
    )
    assert landed.headers["location"] == "/meals/kitchen"
    html = client.get("/meals/kitchen?lang=en", headers={"accept": "text/html"}).text
    tomorrow = utcnow().astimezone(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=1)
    if tomorrow.weekday() != 6:  # the demo point is closed on Sundays
        assert "王秀英" in html and 'id="production-table"' in html  # Wang's lunch tomorrow
        assert "Steamed fish set" in html or "清蒸鱼套餐" in html
    operator = next(d for d in DEMO_LOGINS if d.email == "operator@demo.anxin")
    client.cookies.clear()
    client.post("/login", data={"email": operator.email, "password": operator.password})
    area = client.get("/meals/area?lang=en", headers={"accept": "text/html"}).text
    assert 'id="per-point-table"' in area
