"""Meals over the API: a meal point's menu, an elder's safe offer, ordering by family, box and
operator, cut-off and portions, changing and cancelling, the kitchen's sheets, handing over
(not at home e-mails the family), standing orders and skips, pushes to pages."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from protocol import Changed, ClientKind, Hello, Topic, Welcome
from server.meals.standing import materialise_standing
from server.models import Elder, MealOrder, OutgoingMessage, User, utcnow
from server.runtime import Runtime
from tests.conftest import bearer
from tests.server.meals_world import MealPoint, make_meal_point, make_menu, menu_row
from tests.server.test_box_socket import recv, send
from tests.server.test_web_socket import token_of
from tests.support.world import World, make_device

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass
class Kitchen:
    """Area A's meal point with an open lunch menu three days on and a closed one today."""

    client: TestClient
    world: World
    mp: MealPoint
    other: MealPoint
    day: date
    menu_id: int
    dishes: dict[str, int]
    today_dishes: dict[str, int]
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    def who(self, role: str) -> dict[str, str]:
        """The bearer header of a role of the world, ``staff`` or ``other_staff``, once."""
        if role not in self.headers:
            user: User
            if role == "staff":
                user = self.mp.staff
            elif role == "other_staff":
                user = self.other.staff
            else:
                user = self.world.user(role)
            self.headers[role] = bearer(self.client, user.email)
        return self.headers[role]

    def order(self, role: str, dish: str, elder_id: int | None = None, **more: Any) -> Any:
        body = {
            "elder_id": elder_id or self.world.elder_a.id,
            "dish_id": self.dishes[dish],
            "idempotency_key": uuid.uuid4().hex,
        }
        return self.client.post("/api/meals/orders", json=body | more, headers=self.who(role))


@pytest.fixture
def kitchen(client: TestClient, rt: Runtime, world: World) -> Kitchen:
    today = utcnow().astimezone(SHANGHAI).date()
    with rt.db.session() as db:
        for elder_id, lat in ((world.elder_a.id, 39.905), (world.elder_b.id, 39.95)):
            elder = db.get(Elder, elder_id)
            assert elder is not None
            elder.latitude, elder.longitude = lat, 116.4
        mp = make_meal_point(db, world.area_a.id)
        other = make_meal_point(db, world.area_b.id, name="Other point", latitude=39.95)
        menu_id, dishes = make_menu(db, mp, today + timedelta(days=3))
        _, today_dishes = make_menu(db, mp, today)
    return Kitchen(
        client, world, mp, other, today + timedelta(days=3), menu_id, dishes, today_dishes
    )


def test_staff_publish_a_menu_that_families_read(kitchen: Kitchen) -> None:
    client, day = kitchen.client, kitchen.day + timedelta(days=1)
    body = {
        "day": day.isoformat(),
        "meal": "lunch",
        "dishes": [
            {
                "name_zh": "清蒸鱼",
                "name_en": "Steamed fish",
                "price_cents": 1500,
                "tags": ["low_salt"],
                "allergens": ["fish"],
            },
            {"name_zh": "素菜", "name_en": "Greens", "price_cents": 900, "tags": ["vegetarian"]},
        ],
    }
    url = f"/api/meals/points/{kitchen.mp.point_id}/menus"
    for role in ("family_a", "operator_a", "other_staff", "doctor_a"):
        assert client.post(url, json=body, headers=kitchen.who(role)).status_code == 403, role
    made = client.post(url, json=body, headers=kitchen.who("staff"))
    assert made.status_code == 201, made.text
    assert made.json()["portions"] == 50 and made.json()["ordered"] == 0
    # Lunch closes at 17:00 Beijing time the day before.
    closes = made.json()["cutoff_at"]
    assert closes.startswith((day - timedelta(days=1)).isoformat()) and closes.endswith("+08:00")
    listed = client.get(
        url, params={"from": day.isoformat(), "days": 1}, headers=kitchen.who("family_b")
    )
    assert [d["name"] for d in listed.json()[0]["dishes"]] == ["Steamed fish", "Greens"]
    # One set meal is not a menu; five are too many; a price is never negative.
    for dishes in (body["dishes"][:1], body["dishes"] * 3):
        bad = client.post(url, json=body | {"dishes": dishes}, headers=kitchen.who("staff"))
        assert bad.status_code == 422 and bad.json()["code"] == "invalid"
    copy = client.post(
        f"{url}/copy-week",
        json={"from_monday": kitchen.day.isoformat()},
        headers=kitchen.who("staff"),
    )
    assert copy.status_code == 200 and copy.json()["copied"] >= 1


def test_the_offer_puts_fitting_meals_first_and_never_an_allergen(kitchen: Kitchen) -> None:
    client, elder = kitchen.client, kitchen.world.elder_a.id
    diet = {"diabetic": True, "low_salt": True, "allergens": ["peanut", "egg"]}
    for role in ("operator_a", "family_b"):
        refused = client.put(
            f"/api/meals/elders/{elder}/diet", json=diet, headers=kitchen.who(role)
        )
        assert refused.status_code in (403, 404), role
    done = client.put(f"/api/meals/elders/{elder}/diet", json=diet, headers=kitchen.who("family_a"))
    assert done.status_code == 200 and done.json()["allergens"] == ["egg", "peanut"]
    offer = client.get(
        f"/api/meals/elders/{elder}/offer",
        params={"day": kitchen.day.isoformat()},
        headers=kitchen.who("family_a"),
    ).json()
    names = [(d["name"], d["fits_diet"]) for d in offer["dishes"]]
    # Peanut chicken (peanut) and tomato and egg (egg) are never offered.
    assert names == [("Steamed fish", True), ("Mixed vegetables", True)]
    assert offer["open"] is True and offer["point"]["id"] == kitchen.mp.point_id
    assert offer["point"]["modes"] == ["dine_in", "delivery"]  # 556 m away: a walk
    # Ordering a dish with an allergen is refused even by hand.
    bad = kitchen.order("family_a", "Peanut chicken")
    assert bad.status_code == 422 and "must not eat" in bad.json()["detail"]


def test_family_orders_once_and_the_box_retry_is_stored_once(
    client: TestClient, rt: Runtime, kitchen: Kitchen
) -> None:
    world = kitchen.world
    with client.websocket_connect("/ws/web") as page:
        send(page, Hello(client=ClientKind.WEB, token=token_of(client, world.family_a.email)))
        assert isinstance(recv(page), Welcome)
        made = kitchen.order("family_a", "Mixed vegetables", mode="delivery")
        assert made.status_code == 201, made.text
        order = made.json()
        assert (order["price_cents"], order["subsidy_cents"], order["payable_cents"]) == (
            1000,
            0,
            1000,
        )
        assert order["ordered_by"] == "family" and order["window_start"] == "11:00"
        change = recv(page)
        assert isinstance(change, Changed) and change.topic is Topic.MEAL
        assert change.elder_id == world.elder_a.id and change.data == {"action": "ordered"}
    again = kitchen.order("operator_a", "Steamed fish")
    assert again.status_code == 409 and again.json()["code"] == "conflict"
    # The box of elder B orders with its own key twice (an outbox retry): one order.
    with rt.db.session() as db:
        token, _ = make_device(db, db.get(Elder, world.elder_b.id))  # type: ignore[arg-type]
    box = {"authorization": f"Bearer {token}"}
    body = {"dish_id": kitchen.dishes["Tomato and egg"], "idempotency_key": "outbox-1"}
    first = client.post("/api/box/meals/orders", json=body, headers=box)
    second = client.post("/api/box/meals/orders", json=body, headers=box)
    assert first.status_code == 201 and second.status_code == 200, first.text
    assert first.json()["id"] == second.json()["id"] and first.json()["ordered_by"] == "elder_box"
    assert menu_row_ordered(rt, kitchen.menu_id) == 2
    seen = client.get("/api/box/meals", headers=box).json()
    assert seen["offer"]["meal"] == "lunch"
    # A person's token is not a box's, and a box's is not a person's.
    assert (
        client.post("/api/box/meals/orders", json=body, headers=kitchen.who("family_b")).status_code
        == 401
    )
    assert client.get(f"/api/meals/orders/{first.json()['id']}", headers=box).status_code == 401


def menu_row_ordered(rt: Runtime, menu_id: int) -> int:
    with rt.db.session() as db:
        return menu_row(db, menu_id).ordered


def test_too_late_names_the_meal_points_phone(
    client: TestClient, rt: Runtime, kitchen: Kitchen
) -> None:
    # Today's lunch closed at 17:00 yesterday (Beijing time).
    body = {
        "elder_id": kitchen.world.elder_a.id,
        "dish_id": kitchen.today_dishes["Mixed vegetables"],
        "idempotency_key": "late-1",
    }
    late = client.post("/api/meals/orders", json=body, headers=kitchen.who("family_a"))
    assert late.status_code == 409 and late.json()["code"] == "too_late"
    assert "010-6501-8899" in late.json()["detail"]
    with rt.db.session() as db:
        token, _ = make_device(db, db.get(Elder, kitchen.world.elder_a.id))  # type: ignore[arg-type]
    box = client.post(
        "/api/box/meals/orders",
        json={"dish_id": body["dish_id"], "idempotency_key": "late-box"},
        headers={"authorization": f"Bearer {token}"},
    )
    # The elder reads Chinese: the refusal is in Chinese, with whom to call.
    assert box.status_code == 409 and box.json()["code"] == "too_late"
    assert "请致电" in box.json()["detail"] and "010-6501-8899" in box.json()["detail"]


def test_change_and_cancel_until_the_cut_off_free_the_portion(
    client: TestClient, rt: Runtime, kitchen: Kitchen
) -> None:
    order = kitchen.order("family_a", "Mixed vegetables").json()
    url = f"/api/meals/orders/{order['id']}"
    changed = client.patch(
        url, json={"dish_id": kitchen.dishes["Steamed fish"]}, headers=kitchen.who("family_a")
    )
    assert changed.status_code == 200 and changed.json()["price_cents"] == 1500
    other_menu = client.patch(
        url, json={"dish_id": kitchen.today_dishes["Steamed fish"]}, headers=kitchen.who("family_a")
    )
    assert other_menu.status_code == 404
    assert client.post(f"{url}/cancel", headers=kitchen.who("family_b")).status_code == 404
    assert client.post(f"{url}/cancel", headers=kitchen.who("staff")).status_code == 403
    assert menu_row_ordered(rt, kitchen.menu_id) == 1
    gone = client.post(f"{url}/cancel", headers=kitchen.who("operator_a"))
    assert gone.status_code == 200 and gone.json()["status"] == "cancelled"
    assert (
        client.post(f"{url}/cancel", headers=kitchen.who("family_a")).json()["status"]
        == "cancelled"
    )
    assert menu_row_ordered(rt, kitchen.menu_id) == 0
    # Cancelled, the meal may be ordered again.
    assert kitchen.order("family_a", "Steamed fish").status_code == 201


def test_sold_out_when_the_portions_are_ordered(
    client: TestClient, rt: Runtime, kitchen: Kitchen
) -> None:
    with rt.db.session() as db:
        menu_row(db, kitchen.menu_id).portions = 1
    assert kitchen.order("family_a", "Mixed vegetables").status_code == 201
    out = kitchen.order("family_b", "Mixed vegetables", elder_id=kitchen.world.elder_b.id)
    assert out.status_code == 409 and out.json()["code"] == "sold_out"


def test_kitchen_sheets_show_only_their_own_orders_and_not_home_tells_the_family(
    client: TestClient, rt: Runtime, kitchen: Kitchen
) -> None:
    world = kitchen.world
    client.put(
        f"/api/meals/elders/{world.elder_a.id}/diet",
        json={"soft": True, "allergens": ["fish"]},
        headers=kitchen.who("family_a"),
    )
    a = kitchen.order("family_a", "Tomato and egg", mode="delivery").json()
    b = kitchen.order("family_b", "Tomato and egg", elder_id=world.elder_b.id).json()
    params = {"day": kitchen.day.isoformat(), "meal": "lunch"}
    base = f"/api/meals/points/{kitchen.mp.point_id}"
    sheet = client.get(f"{base}/production", params=params, headers=kitchen.who("staff")).json()
    assert sheet["total"] == 2
    (line,) = sheet["lines"]
    assert (line["name_en"], line["portions"], line["delivery"], line["dine_in"]) == (
        "Tomato and egg",
        2,
        1,
        1,
    )
    assert line["diets"] == {"soft": 1} and line["allergens"] == {"fish": 1}
    listing = client.get(f"{base}/deliveries", params=params, headers=kitchen.who("staff")).json()
    routes = {r["route"]: [s["order_id"] for s in r["stops"]] for r in listing["routes"]}
    assert routes["pick_up"] == [b["id"]] and a["id"] in sum(routes.values(), [])
    stop = next(s for r in listing["routes"] for s in r["stops"] if s["order_id"] == a["id"])
    assert set(stop) == {
        "order_id",
        "elder_name",
        "address",
        "phone",
        "dish_name",
        "diet",
        "allergens",
        "mode",
        "status",
    }
    text = client.get(f"{base}/deliveries.csv", params=params, headers=kitchen.who("staff")).text
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["route", "order_id", "elder"] and len(rows) == 3
    produced = client.get(
        f"{base}/production.csv", params=params, headers=kitchen.who("operator_a")
    )
    assert produced.status_code == 200 and "Tomato and egg" in produced.text
    # Another point's staff, a family member: nothing of this point's.
    for role in ("other_staff", "family_a", "operator_b"):
        assert (
            client.get(f"{base}/production", params=params, headers=kitchen.who(role)).status_code
            == 403
        )
    assert (
        client.get(
            f"{base}/deliveries", params=params, headers=kitchen.who("operator_a")
        ).status_code
        == 403
    )
    assert (
        client.get(f"/api/meals/orders/{a['id']}", headers=kitchen.who("other_staff")).status_code
        == 404
    )
    # Not at home: the family is e-mailed, once.
    url = f"/api/meals/orders/{a['id']}/handover"
    assert (
        client.post(
            url, json={"outcome": "not_home"}, headers=kitchen.who("other_staff")
        ).status_code
        == 404
    )
    assert (
        client.post(url, json={"outcome": "not_home"}, headers=kitchen.who("family_a")).status_code
        == 403
    )
    for _ in range(2):
        assert (
            client.post(url, json={"outcome": "not_home"}, headers=kitchen.who("staff")).status_code
            == 204
        )
    with rt.db.session() as db:
        mails = db.scalars(
            select(OutgoingMessage).where(OutgoingMessage.recipient == world.family_a.email)
        ).all()
        assert len(mails) == 1 and "not at home" in mails[0].subject
    picked = client.post(
        f"/api/meals/orders/{b['id']}/handover",
        json={"outcome": "picked_up"},
        headers=kitchen.who("staff"),
    )
    assert picked.status_code == 204


def test_standing_order_is_made_by_the_sweep_and_skipped_from_the_box(
    client: TestClient, rt: Runtime, kitchen: Kitchen
) -> None:
    world = kitchen.world
    # A menu for tomorrow and the day after (the sweep looks two days ahead).
    today = utcnow().astimezone(SHANGHAI).date()
    with rt.db.session() as db:
        for ahead in (1, 2):
            make_menu(db, kitchen.mp, today + timedelta(days=ahead))
    body = {
        "point_id": kitchen.mp.point_id,
        "meal": "lunch",
        "weekdays": [0, 1, 2, 3, 4, 5, 6],
        "tag": "vegetarian",
        "mode": "dine_in",
    }
    url = f"/api/meals/elders/{world.elder_a.id}/standing-orders"
    assert client.post(url, json=body, headers=kitchen.who("doctor_a")).status_code == 403
    made = client.post(url, json=body, headers=kitchen.who("family_a"))
    assert made.status_code == 201, made.text
    materialise_standing(rt)
    materialise_standing(rt)  # twice: still one order a day
    with rt.db.session() as db:
        orders = db.scalars(select(MealOrder).where(MealOrder.elder_id == world.elder_a.id)).all()
    days = {o.day for o in orders}
    # Tomorrow's may be past its cut-off (17:00 today); the day after's never is.
    assert today + timedelta(days=2) in days and today not in days
    assert all(o.ordered_by.value == "standing" for o in orders)
    with rt.db.session() as db:
        token, _ = make_device(db, db.get(Elder, world.elder_a.id))  # type: ignore[arg-type]
    skip_day = (today + timedelta(days=2)).isoformat()
    skipped = client.post(
        "/api/box/meals/skips",
        json={"day": skip_day, "meal": "lunch"},
        headers={"authorization": f"Bearer {token}"},
    )
    assert skipped.status_code == 200 and skipped.json()["cancelled_order_id"] is not None
    materialise_standing(rt)
    listed = client.get(url, headers=kitchen.who("family_a")).json()
    assert listed[0]["skipped"] == [skip_day]
    with rt.db.session() as db:
        live = db.scalars(
            select(MealOrder).where(MealOrder.elder_id == world.elder_a.id, MealOrder.live == 1)
        ).all()
        assert skip_day not in {o.day.isoformat() for o in live}


def test_nearest_points_and_the_preferred_one(
    client: TestClient, rt: Runtime, kitchen: Kitchen
) -> None:
    world = kitchen.world
    with rt.db.session() as db:
        far = make_meal_point(
            db, world.area_a.id, name="Far point", latitude=39.93, delivery_radius_m=5000
        )
    points = client.get(
        f"/api/meals/elders/{world.elder_a.id}/points", headers=kitchen.who("family_a")
    ).json()
    # 556 m: walk or delivery; 2.8 km: delivery only (within its 5 km).
    assert [(p["id"], p["modes"]) for p in points] == [
        (kitchen.mp.point_id, ["dine_in", "delivery"]),
        (far.point_id, ["delivery"]),
    ]
    fixed = client.put(
        f"/api/meals/elders/{world.elder_a.id}/preferred-point",
        json={"point_id": far.point_id},
        headers=kitchen.who("family_a"),
    )
    assert fixed.status_code == 200
    points = client.get(
        f"/api/meals/elders/{world.elder_a.id}/points", headers=kitchen.who("family_a")
    ).json()
    assert points[0]["id"] == far.point_id and points[0]["preferred"] is True


def test_staff_of_a_meal_point_set_its_service(client: TestClient, kitchen: Kitchen) -> None:
    url = f"/api/meals/points/{kitchen.mp.point_id}/settings"
    body = {
        "phone": "010-1111",
        "open_days": [0, 1, 2, 3, 4],
        "dine_in": True,
        "delivery": False,
        "services": [
            {"meal": "lunch", "cutoff_days_before": 1, "cutoff_time": "16:30", "portions": 80}
        ],
    }
    assert client.put(url, json=body, headers=kitchen.who("other_staff")).status_code == 403
    assert client.put(url, json=body, headers=kitchen.who("family_a")).status_code == 403
    done = client.put(url, json=body, headers=kitchen.who("staff"))
    assert done.status_code == 200, done.text
    assert done.json()["services"][0]["cutoff_time"] == "16:30"
    assert done.json()["timezone"] == "Asia/Shanghai"
    for bad in (
        body | {"dine_in": False},
        body | {"services": []},
        body | {"services": [body["services"][0]] * 2},
        body | {"open_days": [7]},
    ):
        resp = client.put(url, json=bad, headers=kitchen.who("staff"))
        assert resp.status_code == 422 and resp.json()["code"] == "invalid", bad
    assert (
        client.get(url.removesuffix("/settings"), headers=kitchen.who("family_b")).json()["phone"]
        == "010-1111"
    )


@pytest.mark.parametrize("role", ["family_a", "operator_a", "doctor_a", "admin"])
def test_a_meal_staff_login_sees_no_elder(client: TestClient, kitchen: Kitchen, role: str) -> None:
    resp = client.get(
        f"/api/meals/elders/{kitchen.world.elder_a.id}/orders", headers=kitchen.who(role)
    )
    assert resp.status_code == 200
    staff = client.get(
        f"/api/meals/elders/{kitchen.world.elder_a.id}/orders", headers=kitchen.who("staff")
    )
    assert staff.status_code == 404


def test_staff_pages_hear_of_orders_and_menus(client: TestClient, kitchen: Kitchen) -> None:
    with client.websocket_connect("/ws/web") as page:
        send(page, Hello(client=ClientKind.WEB, token=token_of(client, kitchen.mp.staff.email)))
        assert isinstance(recv(page), Welcome)
        assert kitchen.order("family_a", "Mixed vegetables").status_code == 201
        change = recv(page)
        # The kitchen re-reads its sheet; no elder is named to it.
        assert isinstance(change, Changed) and change.topic is Topic.MEAL
        assert change.elder_id is None and change.data == {"action": "ordered"}
        copied = client.post(
            f"/api/meals/points/{kitchen.mp.point_id}/menus/copy-week",
            json={"from_monday": kitchen.day.isoformat()},
            headers=kitchen.who("staff"),
        )
        assert copied.status_code == 200
        change = recv(page)
        assert isinstance(change, Changed) and change.data["action"] == "menu"


BAD = [
    ("post", "/api/meals/orders", {"elder_id": "x", "dish_id": 1, "idempotency_key": "k"}),
    ("post", "/api/meals/orders", {"elder_id": 1, "dish_id": 1, "idempotency_key": "a b"}),
    (
        "post",
        "/api/meals/orders",
        {"elder_id": 1, "dish_id": 1, "idempotency_key": "k", "mode": "boat"},
    ),
    (
        "post",
        "/api/meals/orders",
        {"elder_id": 1, "dish_id": 1, "idempotency_key": "k", "extra": 1},
    ),
    ("put", "/api/meals/elders/{elder}/diet", {"allergens": ["gluten"]}),
    ("put", "/api/meals/elders/{elder}/diet", {"diabetic": "sometimes"}),
    ("post", "/api/meals/elders/{elder}/standing-orders", {"point_id": 1, "weekdays": []}),
    ("post", "/api/meals/elders/{elder}/standing-orders", {"point_id": 1, "weekdays": [9]}),
    ("post", "/api/meals/elders/{elder}/skips", {"day": "1999-12-31"}),
    ("post", "/api/meals/elders/{elder}/skips", {"day": "tomorrow"}),
    ("get", "/api/meals/elders/{elder}/offer?day=9999-01-01", None),
    ("get", "/api/meals/elders/{elder}/orders?days=1000", None),
    ("get", "/api/meals/elders/{elder}/statement?month=26-12", None),
    ("get", "/api/meals/points/{point}/production?day=2026-02-30", None),
    ("get", "/api/meals/points/{point}/production?day=2026-12-07&meal=brunch", None),
    ("post", "/api/meals/orders/1/handover", {"outcome": "eaten"}),
    ("patch", "/api/meals/orders/1", {"mode": "boat"}),
]


@pytest.mark.parametrize(("method", "path", "body"), BAD)
def test_bad_input_is_refused_as_json(
    kitchen: Kitchen, method: str, path: str, body: dict[str, Any] | None
) -> None:
    url = path.format(elder=kitchen.world.elder_a.id, point=kitchen.mp.point_id)
    resp = kitchen.client.request(method.upper(), url, json=body, headers=kitchen.who("family_a"))
    assert resp.status_code == 422, resp.text
    assert resp.json()["code"] == "invalid" and resp.json()["detail"]
