"""Money and time of meals: the subsidy rule in integer cents, orders keeping what they cost,
statements and the subsidy claim that add up, and the cut-off in the meal point's own zone."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from protocol import ErrorCode, Lang
from server.meals.errors import TooLate
from server.meals.ordering import Orderer, place
from server.meals.rules import money
from server.models import Elder, Meal, MealMode, OrderedBy, ServiceArea, SubsidyCategory
from server.runtime import Runtime
from tests.conftest import bearer
from tests.server.meals_world import make_meal_point, make_menu
from tests.support.world import World


def _category(id_: int, amount: int | None = None, percent: int | None = None) -> SubsidyCategory:
    return SubsidyCategory(id=id_, amount_cents=amount, percent=percent, is_active=True)


@pytest.mark.parametrize(
    ("price", "categories", "expected"),
    [
        (1500, [], (0, 1500, None)),
        (1500, [_category(1, amount=500)], (500, 1000, 1)),
        # The largest single subsidy wins; they never add up.
        (1500, [_category(1, amount=500), _category(2, percent=50)], (750, 750, 2)),
        (800, [_category(1, amount=500), _category(2, percent=50)], (500, 300, 1)),
        # Never more than the price.
        (300, [_category(1, amount=500)], (300, 0, 1)),
        (300, [_category(1, percent=100)], (300, 0, 1)),
        # A percentage rounds down to the cent: 33% of 1001 is 330.33 -> 330.
        (1001, [_category(1, percent=33)], (330, 671, 1)),
        # A tie goes to the lower id; an inactive category counts for nothing.
        (1000, [_category(3, amount=400), _category(2, percent=40)], (400, 600, 2)),
        (1000, [SubsidyCategory(id=4, amount_cents=900, is_active=False)], (0, 1000, None)),
        (0, [_category(1, amount=500)], (0, 0, None)),
    ],
)
def test_subsidy_rule(price: int, categories: list[SubsidyCategory], expected: tuple) -> None:
    cost = money(price, categories)
    assert (cost.subsidy_cents, cost.payable_cents, cost.category_id) == expected
    assert cost.subsidy_cents + cost.payable_cents == cost.price_cents == price


def test_the_cut_off_is_the_meal_points_own_wall_clock(rt: Runtime, world: World) -> None:
    """A point in Los Angeles: lunch of 10 March closes at 17:00 on 9 March there, which is
    01:00 UTC on 10 March (PDT begins on 8 March 2026: UTC-7)."""
    day = date(2026, 3, 10)
    with rt.db.session() as db:
        area = db.get(ServiceArea, world.area_a.id)
        assert area is not None
        area.timezone = "America/Los_Angeles"
        mp = make_meal_point(db, area.id)
        _, dishes = make_menu(db, mp, day)
        elder = db.get(Elder, world.elder_a.id)
        assert elder is not None
        elder.latitude, elder.longitude = 39.9, 116.4
    closes = datetime(2026, 3, 9, 17, 0, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert closes.astimezone(UTC) == datetime(2026, 3, 10, 0, 0, tzinfo=UTC)
    orderer = Orderer(OrderedBy.FAMILY, "user:1", Lang.EN)
    with rt.db.session() as db:
        elder = db.get(Elder, world.elder_a.id)
        assert elder is not None
        with pytest.raises(TooLate) as late:
            place(db, orderer, elder, dishes["Steamed fish"], MealMode.DINE_IN, "k1", closes)
        assert late.value.code is ErrorCode.TOO_LATE and "010-6501-8899" in late.value.message
        # One minute before (07:59 on the 10th in Beijing, 23:59 on the 9th in UTC): open.
        order, created = place(
            db,
            orderer,
            elder,
            dishes["Steamed fish"],
            MealMode.DINE_IN,
            "k2",
            closes - timedelta(minutes=1),
        )
        assert created and order.day == day


def test_orders_keep_their_subsidy_and_statements_add_up(
    client: TestClient, rt: Runtime, world: World
) -> None:
    operator = bearer(client, world.operator_a.email)
    family = bearer(client, world.family_a.email)
    area = world.area_a.id
    url = f"/api/meals/areas/{area}/subsidy-categories"
    aged = client.post(
        url,
        json={
            "code": "aged_80",
            "name_zh": "八十岁以上",
            "name_en": "Aged 80+",
            "amount_cents": 500,
        },
        headers=operator,
    )
    assert aged.status_code == 201, aged.text
    poor = client.post(
        url,
        json={"code": "low_income", "name_zh": "低保", "name_en": "Low income", "percent": 50},
        headers=operator,
    ).json()
    for bad in (
        {"code": "x", "name_zh": "x", "name_en": "x", "amount_cents": 1, "percent": 1},
        {"code": "x", "name_zh": "x", "name_en": "x"},
        {"code": "x", "name_zh": "x", "name_en": "x", "percent": 101},
        {"code": "x", "name_zh": "x", "name_en": "x", "amount_cents": -1},
    ):
        assert client.post(url, json=bad, headers=operator).status_code == 422, bad
    again = {"code": "aged_80", "name_zh": "a", "name_en": "a", "amount_cents": 1}
    assert client.post(url, json=again, headers=operator).status_code == 409
    for role in (world.family_a, world.operator_b, world.doctor_a):
        assert client.post(url, json=again, headers=bearer(client, role.email)).status_code == 403
    elder_url = f"/api/meals/elders/{world.elder_a.id}/subsidies"
    body = {"category_ids": [aged.json()["id"], poor["id"]]}
    assert client.put(elder_url, json=body, headers=family).status_code == 403
    assert (
        client.put(elder_url, json={"category_ids": [2**30]}, headers=operator).status_code == 422
    )
    assert client.put(elder_url, json=body, headers=operator).status_code == 200
    day = date.today() + timedelta(days=5)
    with rt.db.session() as db:
        elder = db.get(Elder, world.elder_a.id)
        assert elder is not None
        elder.latitude, elder.longitude = 39.9, 116.4
        mp = make_meal_point(db, area)
        _, dishes = make_menu(db, mp, day)
        _, dinner = make_menu(db, mp, day, meal=Meal.DINNER)
    made = []
    for dish in (dishes["Steamed fish"], dinner["Mixed vegetables"]):
        resp = client.post(
            "/api/meals/orders",
            json={"elder_id": world.elder_a.id, "dish_id": dish, "idempotency_key": f"k{dish}"},
            headers=family,
        )
        assert resp.status_code == 201, resp.text
        made.append(resp.json())
    # 1500: half is 750 > 500; 1000: half is 500 = 500, the lower id (aged) wins the tie.
    assert [(m["subsidy_cents"], m["payable_cents"]) for m in made] == [(750, 750), (500, 500)]
    assert made[1]["subsidy_category_id"] == aged.json()["id"]
    # The category changes later; the orders keep what they cost.
    client.patch(
        f"/api/meals/subsidy-categories/{poor['id']}", json={"percent": 10}, headers=operator
    )
    month = day.strftime("%Y-%m")
    statement = client.get(
        f"/api/meals/elders/{world.elder_a.id}/statement", params={"month": month}, headers=family
    ).json()
    assert statement["meals"] == 2
    assert (statement["price_cents"], statement["subsidy_cents"], statement["payable_cents"]) == (
        2500,
        1250,
        1250,
    )
    assert sum(line["payable_cents"] for line in statement["lines"]) == statement["payable_cents"]
    bad_month = client.get(
        f"/api/meals/elders/{world.elder_a.id}/statement",
        params={"month": "2026-13"},
        headers=family,
    )
    assert bad_month.status_code == 422
    claim = client.get(
        f"/api/meals/areas/{area}/subsidy-claim.csv", params={"month": month}, headers=operator
    )
    assert claim.status_code == 200 and claim.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(claim.text.lstrip("\ufeff"))))
    assert rows[-1][1:] == ["total", "", "", "2", "2500", "1250", "1250"]
    assert {r[2] for r in rows[1:-1]} == {"aged_80", "low_income"}
    assert (
        client.get(
            f"/api/meals/areas/{area}/subsidy-claim.csv", params={"month": month}, headers=family
        ).status_code
        == 403
    )
    per_point = client.get(
        f"/api/meals/areas/{area}/orders-per-point",
        params={"day": day.isoformat()},
        headers=operator,
    ).json()
    assert [(p["lunch"], p["dinner"], p["subsidy_cents"]) for p in per_point] == [(1, 1, 1250)]
