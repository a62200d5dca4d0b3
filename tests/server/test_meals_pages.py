"""The meals pages as people use them, without a browser: the family orders, changes and
cancels on the family page and sets the diet; the statement adds up; meal staff publish a menu
(with inline errors that keep what was typed), read the production sheet and delivery list,
and mark a meal not at home (the family is e-mailed); the care centre reads orders per point
and adds a subsidy category; and who may open which page."""

from __future__ import annotations

import re
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from server.models import Elder, ElderDiet, MealOrder, MealOrderStatus, OutgoingMessage, utcnow
from server.runtime import Runtime
from tests.server.meals_world import (
    ALWAYS_OPEN_TOMORROW,
    MealPoint,
    make_meal_point,
    make_menu,
)
from tests.server.test_appointments_pages import HTML, csrf, login, page
from tests.support.world import World

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Meals:
    """Area A's meal point with tomorrow's lunch menu; elder A lives near it."""

    def __init__(self, client: TestClient, rt: Runtime, world: World) -> None:
        self.client, self.rt, self.world = client, rt, world
        self.today = utcnow().astimezone(SHANGHAI).date()
        self.tomorrow = self.today + timedelta(days=1)
        with rt.db.session() as db:
            for elder_id, lat in ((world.elder_a.id, 39.905), (world.elder_b.id, 39.95)):
                elder = db.get(Elder, elder_id)
                assert elder is not None
                elder.latitude, elder.longitude = lat, 116.4
            self.mp: MealPoint = make_meal_point(
                db, world.area_a.id, lunch_cutoff=ALWAYS_OPEN_TOMORROW
            )
            self.other = make_meal_point(db, world.area_b.id, name="Other point", latitude=39.95)
            self.menu_id, self.dishes = make_menu(db, self.mp, self.tomorrow)
            db.commit()

    def order(self, dish: str, mode: str = "dine_in") -> TestClient:
        html = page(login(self.client, self.world.family_a), "/family")
        form = {"csrf": csrf(html), "dish": str(self.dishes[dish]), "mode": mode, "key": dish}
        return self.client.post(
            f"/meals/elders/{self.world.elder_a.id}/order",
            data=form,
            headers=HTML,
            follow_redirects=False,
        )

    def orders(self) -> list[MealOrder]:
        with self.rt.db.session() as db:
            return list(
                db.scalars(
                    select(MealOrder)
                    .where(MealOrder.elder_id == self.world.elder_a.id)
                    .order_by(MealOrder.id)
                )
            )


@pytest.fixture
def meals(client: TestClient, rt: Runtime, world: World) -> Meals:
    return Meals(client, rt, world)


def test_the_family_orders_changes_and_cancels_on_the_family_page(meals: Meals) -> None:
    client, elder = meals.client, meals.world.elder_a
    html = page(login(client, meals.world.family_a), "/family")
    assert 'id="panel-meals"' in html
    assert f'id="offer-dish-{meals.dishes["Steamed fish"]}"' in html
    assert "Contains: fish" in html and "low salt" in html  # allergens and tags in words
    assert "low_salt" not in re.sub(r'(id|name|value|for)="[^"]*"', "", html)

    resp = meals.order("Steamed fish")
    assert resp.status_code == 303
    [order] = meals.orders()
    assert order.dish_id == meals.dishes["Steamed fish"]
    html = page(client, "/family")
    block = html[html.index(f'id="orders-{elder.id}"') :]
    assert "Price ¥15.00" in block and "To pay ¥15.00" in block
    assert "✓ This is the meal ordered" in html

    resp = meals.order("Tomato and egg")  # the same meal again: the order changes
    assert resp.status_code == 303
    [order] = meals.orders()
    assert order.dish_id == meals.dishes["Tomato and egg"]

    html = page(client, "/family")
    resp = client.post(
        f"/meals/orders/{order.id}/cancel-meal",
        data={"csrf": csrf(html)},
        headers=HTML,
        follow_redirects=False,
    )
    assert resp.status_code == 303
    assert meals.orders()[0].status is MealOrderStatus.CANCELLED
    assert f'id="no-orders-{elder.id}"' in page(client, "/family")


def test_the_family_orders_ahead_for_a_later_day(meals: Meals) -> None:
    client, elder = meals.client, meals.world.elder_a
    later = meals.today + timedelta(days=4)
    past_the_week = meals.today + timedelta(days=9)
    with meals.rt.db.session() as db:
        _, dishes = make_menu(db, meals.mp, later)
        _, too_far = make_menu(db, meals.mp, past_the_week)
        db.commit()
    html = page(login(client, meals.world.family_a), "/family?lang=en")
    folded = html[html.index(f'id="later-{elder.id}"') :]
    weekday = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
    heading = f"{weekday[later.weekday()]} {later.isoformat()} · lunch"
    assert heading in folded.split("</details>")[0]
    assert f'id="offer-dish-{dishes["Steamed fish"]}"' in folded
    assert f'id="offer-dish-{too_far["Steamed fish"]}"' not in html  # beyond the week ahead

    form = {"csrf": csrf(html), "dish": str(dishes["Mixed vegetables"]), "mode": "delivery"}
    done = client.post(
        f"/meals/elders/{elder.id}/order", data=form, headers=HTML, follow_redirects=False
    )
    assert done.status_code == 303, done.text
    [order] = meals.orders()
    assert (order.day, order.dish_id) == (later, dishes["Mixed vegetables"])
    html = page(client, "/family?lang=en")
    listed = html[html.index(f'id="order-{order.id}"') :]
    assert listed.index(f"{weekday[later.weekday()]} {later.isoformat()} · lunch") < 200
    assert f'id="cancel-meal-{order.id}"' in listed  # still before its cut-off
    folded = html[html.index(f'id="later-{elder.id}"') :]
    assert "✓ This is the meal ordered" in folded.split("</details>")[0]


def test_an_order_the_family_may_not_make_comes_back_beside_the_form(meals: Meals) -> None:
    client, elder = meals.client, meals.world.elder_a
    html = page(login(client, meals.world.family_a), "/family")
    diet = {"csrf": csrf(html), "allergen": ["fish"], "low_salt": "on"}
    resp = client.post(f"/meals/elders/{elder.id}/diet", data=diet, follow_redirects=False)
    assert resp.status_code == 303
    with meals.rt.db.session() as db:
        row = db.get(ElderDiet, elder.id)
        assert row is not None and row.low_salt and row.allergens == "fish" and not row.soft
    html = page(client, "/family")
    assert f'id="offer-dish-{meals.dishes["Steamed fish"]}"' not in html  # never offered
    assert f'id="allergy-{elder.id}-fish" checked' in html

    resp = meals.order("Steamed fish")  # posted anyway (an old page): refused in words
    assert resp.status_code == 422
    assert f'id="meal-error-{elder.id}"' in resp.text
    assert "contains something" in resp.text and 'id="panel-meals" open' in resp.text
    assert meals.orders() == []
    # rubbish in the form: 4xx, never 500
    for form in ({"dish": "x"}, {"dish": "99999999"}, {"dish": "1", "mode": "fly"}):
        form["csrf"] = csrf(html)
        resp = client.post(f"/meals/elders/{elder.id}/order", data=form, headers=HTML)
        assert 400 <= resp.status_code < 500, form


def test_the_statement_adds_up_on_the_page(meals: Meals) -> None:
    client = meals.client
    meals.order("Steamed fish")
    meals.order("Mixed vegetables")  # changes it: one meal only
    with meals.rt.db.session() as db:
        other_day = meals.today + timedelta(days=2)
        _, more = make_menu(db, meals.mp, other_day)
        db.commit()
    html = page(client, "/family")
    form = {"csrf": csrf(html), "dish": str(more["Peanut chicken"]), "key": "k2"}
    client.post(f"/meals/elders/{meals.world.elder_a.id}/order", data=form, headers=HTML)
    with meals.rt.db.session() as db:
        for order in db.scalars(select(MealOrder)):
            order.subsidy_cents, order.payable_cents = 300, order.price_cents - 300
        db.commit()
    months = {meals.tomorrow.strftime("%Y-%m"), other_day.strftime("%Y-%m")}
    total = pay = 0
    for month in months:
        html = page(client, f"/meals/elders/{meals.world.elder_a.id}/statement?month={month}")
        found = re.search(r'id="total-price">¥(\d+)\.(\d\d)', html)
        paid = re.search(r'id="total-pay"><strong>¥(\d+)\.(\d\d)', html)
        assert found and paid
        total += int(found[1]) * 100 + int(found[2])
        pay += int(paid[1]) * 100 + int(paid[2])
        assert "<svg" in html and "<table" in html  # chart and its table
    assert total == 1000 + 1800 and pay == total - 600
    # a month that is no month: this month, not an error
    assert "<h1>" in page(client, f"/meals/elders/{meals.world.elder_a.id}/statement?month=x")


def test_staff_publish_a_menu_with_errors_kept_and_mark_not_home(meals: Meals) -> None:
    client, staff = meals.client, meals.mp.staff
    day = meals.today + timedelta(days=4)
    html = page(login(client, staff), f"/meals/kitchen?day={day.isoformat()}")
    form: dict[str, object] = {
        "csrf": csrf(html),
        "day": day.isoformat(),
        "meal": "lunch",
        "name_zh_0": "清蒸鱼",
        "name_en_0": "Steamed fish",
        "price_0": "15.5",
        "tag_0": ["low_salt"],
        "allergen_0": ["fish"],
        "name_zh_1": "番茄炒蛋",
        "name_en_1": "Tomato and egg",
        "price_1": "twelve",
    }
    resp = client.post("/meals/kitchen/menu", data=form, headers=HTML)
    assert resp.status_code == 422
    assert 'id="kitchen-error"' in resp.text and "Tomato and egg" in resp.text
    assert 'value="twelve"' in resp.text and 'id="allergen_0_fish" checked' in resp.text
    form["price_1"] = "12"
    resp = client.post("/meals/kitchen/menu", data=form, headers=HTML, follow_redirects=False)
    assert resp.status_code == 303
    html = page(client, resp.headers["location"])
    assert 'id="menu-done"' in html and 'value="15.50"' in html

    # a delivered order on tomorrow's sheet: not at home e-mails the family
    meals.order("Steamed fish", mode="delivery")
    [order] = meals.orders()
    html = page(login(client, staff), "/meals/kitchen")
    assert f'id="stop-{order.id}"' in html and meals.world.elder_a.name in html
    assert 'id="production-total"><strong>1</strong>' in html
    assert "Route: " in html
    resp = client.post(
        f"/meals/kitchen/orders/{order.id}/mark",
        data={"csrf": csrf(html), "outcome": "not_home"},
        follow_redirects=False,
    )
    assert resp.status_code == 303
    with meals.rt.db.session() as db:
        mails = db.scalars(
            select(OutgoingMessage).where(OutgoingMessage.recipient == meals.world.family_a.email)
        ).all()
        assert any("not at home" in m.subject for m in mails)
    # another point's staff: no such order
    html = page(login(client, meals.other.staff), "/meals/kitchen")
    assert meals.world.elder_a.name not in html
    resp = client.post(
        f"/meals/kitchen/orders/{order.id}/mark",
        data={"csrf": csrf(html), "outcome": "delivered"},
        headers=HTML,
    )
    assert resp.status_code == 404


def test_the_care_centre_reads_orders_per_point_and_adds_a_category(meals: Meals) -> None:
    meals.order("Steamed fish")
    client = meals.client
    html = page(login(client, meals.world.operator_a), f"/meals/area?day={meals.tomorrow}")
    assert 'id="total-lunch">1<' in html and "Happiness Meal Point" in html
    assert "Other point" not in html
    assert "subsidy-claim.csv?month=" in html
    bad = {"csrf": csrf(html), "code": "low_income", "name_zh": "低保", "name_en": "Low income"}
    resp = client.post(
        "/meals/area/categories", data=bad | {"kind": "percent", "value": "150"}, headers=HTML
    )
    assert resp.status_code == 422 and 'value="Low income"' in resp.text
    resp = client.post(
        "/meals/area/categories",
        data=bad | {"kind": "amount", "value": "3.5"},
        follow_redirects=False,
    )
    assert resp.status_code == 303
    html = page(client, "/meals/area")
    assert "¥3.50 off each meal" in html
    cat = re.search(r'id="category-(\d+)"', html)
    assert cat
    elder_page = page(client, f"/meals/area/elders/{meals.world.elder_a.id}")
    resp = client.post(
        f"/meals/area/elders/{meals.world.elder_a.id}",
        data={"csrf": csrf(elder_page), "category": [cat[1]]},
        follow_redirects=False,
    )
    assert resp.status_code == 303
    assert f'id="category-{cat[1]}" checked' in page(client, resp.headers["location"])
    # another area's elder: not found
    page(client, f"/meals/area/elders/{meals.world.elder_b.id}", status=404)


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/meals/kitchen", {"staff"}),
        ("/meals/area", {"operator_a", "operator_b"}),
        ("/meals/elders/{elder_a}/statement", {"family_a"}),
    ],
)
def test_who_may_open_the_meals_pages(meals: Meals, path: str, allowed: set[str]) -> None:
    people = {
        "staff": meals.mp.staff,
        **{r: meals.world.user(r) for r in ("family_a", "family_b", "doctor_a", "operator_a")},
        "operator_b": meals.world.user("operator_b"),
        "admin": meals.world.user("admin"),
    }
    url = path.format(elder_a=meals.world.elder_a.id)
    for name, user in people.items():
        login(meals.client, user)
        resp = meals.client.get(url, headers=HTML, follow_redirects=False)
        if name in allowed:
            assert resp.status_code == 200, (name, resp.status_code)
        else:
            assert resp.status_code in (403, 404), (name, resp.status_code)


def test_meal_staff_land_on_their_page(meals: Meals) -> None:
    form = {"email": meals.mp.staff.email, "password": "correct horse battery"}
    landed = meals.client.post("/login", data=form, follow_redirects=False)
    assert landed.headers["location"] == "/meals/kitchen"
    _ = date.today()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_meals_pages_show_words_not_codes(meals: Meals, lang: str) -> None:
    with meals.rt.db.session() as db:
        db.add(ElderDiet(elder_id=meals.world.elder_a.id, soft=True, allergens="tree_nut"))
        db.commit()
    meals.order("Tomato and egg", mode="delivery")
    client = meals.client
    codes = re.compile(r"\b(low_salt|low_sugar|tree_nut|dine_in|not_home|picked_up)\b")
    seen = {}
    for user, path in (
        (meals.world.family_a, "/family?meals=1"),
        (meals.mp.staff, "/meals/kitchen"),
        (meals.world.operator_a, "/meals/area"),
        (meals.world.family_a, f"/meals/elders/{meals.world.elder_a.id}/statement"),
    ):
        login(client, user)
        html = client.get(f"{path}{'&' if '?' in path else '?'}lang={lang}", headers=HTML).text
        text = re.sub(
            r"<[^>]*>", " ", re.sub(r"<(script|style)[^>]*>.*?</\1>", "", html, flags=re.S)
        )
        seen[path] = codes.findall(text)
    assert all(not found for found in seen.values()), seen


def test_the_family_sets_standing_orders_and_the_meal_point(meals: Meals) -> None:
    client, elder = meals.client, meals.world.elder_a
    html = page(login(client, meals.world.family_a), "/family")
    token = csrf(html)
    url = f"/meals/elders/{elder.id}/standing"
    resp = client.post(url, data={"csrf": token, "meal": "lunch"}, headers=HTML)
    assert resp.status_code == 422 and "Tick at least one day" in resp.text
    form = {"csrf": token, "meal": "lunch", "weekday": ["0", "2"], "tag": "low_salt"}
    resp = client.post(url, data=form | {"mode": "delivery"}, follow_redirects=False)
    assert resp.status_code == 303
    html = page(client, "/family")
    row = re.search(r'id="standing-row-(\d+)">(.*?)</li>', html, re.S)
    assert row and "Monday" in row[2] and "Wednesday" in row[2] and "low salt" in row[2]
    resp = client.post(
        f"/meals/standing/{row[1]}/end", data={"csrf": token}, follow_redirects=False
    )
    assert resp.status_code == 303
    assert f'id="standing-row-{row[1]}"' not in page(client, "/family")

    point = {"csrf": token, "point": str(meals.other.point_id)}  # not among the nearest
    resp = client.post(f"/meals/elders/{elder.id}/point", data=point, headers=HTML)
    assert resp.status_code == 422 and "Choose one of the meal points" in resp.text
    point["point"] = str(meals.mp.point_id)
    resp = client.post(f"/meals/elders/{elder.id}/point", data=point, follow_redirects=False)
    assert resp.status_code == 303
    with meals.rt.db.session() as db:
        diet = db.get(ElderDiet, elder.id)
        assert diet is not None and diet.preferred_point_id == meals.mp.point_id


def test_staff_copy_last_weeks_menus(meals: Meals) -> None:
    client = meals.client
    week_on = meals.tomorrow + timedelta(days=7)
    html = page(login(client, meals.mp.staff), f"/meals/kitchen?day={week_on}")
    assert 'id="menu-state"' not in html
    resp = client.post(
        "/meals/kitchen/copy-week",
        data={"csrf": csrf(html), "day": week_on.isoformat(), "meal": "lunch"},
        follow_redirects=False,
    )
    assert resp.status_code == 303
    html = page(client, resp.headers["location"])
    assert 'id="copy-done"' in html and 'id="menu-state"' in html
    assert 'value="Steamed fish"' in html
