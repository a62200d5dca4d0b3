"""Meals on the box socket: the meals list pushed on connect and at once when a menu is
published or an order changes elsewhere, orders, changes, cancellations and skips through the
outbox exactly once, and refusals (past the cut-off, sold out) sent back with their words
and the meal point's phone before the ack — never dropped, never resent forever."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from starlette.testclient import WebSocketTestSession

from protocol import (
    Ack,
    ErrorCode,
    MealCancel,
    MealChange,
    MealOrder,
    MealRefused,
    Meals,
    MealSkip,
)
from server.meals.menus import save_settings
from server.meals.schemas import PointSettingsIn, ServiceIn
from server.models import Elder, Meal, ServicePoint, utcnow
from server.models import MealOrder as OrderRow
from server.runtime import Runtime
from tests.conftest import bearer
from tests.server.meals_world import LUNCH, MealPoint, make_meal_point
from tests.server.test_appointments_box import connect, next_of
from tests.server.test_box_socket import pair_box, send
from tests.server.test_meals_api import SHANGHAI
from tests.support.world import World


def settings(lunch_cutoff_days: int, lunch_cutoff: str, portions: int = 50) -> PointSettingsIn:
    """Lunch closing ``lunch_cutoff_days`` days before at ``lunch_cutoff``, delivered."""
    return PointSettingsIn(
        phone="010-6501-8899",
        open_days=[0, 1, 2, 3, 4, 5, 6],
        dine_in=True,
        delivery=True,
        delivery_radius_m=3000,
        services=[
            ServiceIn(
                meal=Meal.LUNCH,
                cutoff_days_before=lunch_cutoff_days,
                cutoff_time=lunch_cutoff,
                portions=portions,
                window_start="11:30",
                window_end="12:30",
            )
        ],
    )


def open_point(rt: Runtime, world: World) -> MealPoint:
    """Area A's meal point near elder A, whose lunch closes at 10:00 the same day (so
    tomorrow's is open whenever the test runs)."""
    with rt.db.session() as db:
        elder = db.get(Elder, world.elder_a.id)
        assert elder is not None
        elder.latitude, elder.longitude = 39.905, 116.4
        mp = make_meal_point(db, world.area_a.id)
        point = db.get(ServicePoint, mp.point_id)
        assert point is not None
        save_settings(db, point, settings(0, "10:00"))
        db.commit()
        db.refresh(mp.staff)
    return mp


def tomorrow() -> date:
    return utcnow().astimezone(SHANGHAI).date() + timedelta(days=1)


def publish(client: TestClient, mp: MealPoint, staff: dict[str, str], portions: int = 50) -> Any:
    body = {
        "day": tomorrow().isoformat(),
        "meal": "lunch",
        "portions": portions,
        "dishes": [
            {"name_zh": f"{en}套餐", "name_en": en, "price_cents": p, "tags": t, "allergens": a}
            for en, p, t, a in LUNCH
        ],
    }
    made = client.post(f"/api/meals/points/{mp.point_id}/menus", json=body, headers=staff)
    assert made.status_code == 201, made.text
    return made.json()


def key() -> str:
    return f"meal:{uuid.uuid4().hex[:20]}"


def answers(ws: WebSocketTestSession, want: str) -> list[Any]:
    """Messages up to and including the ack of ``want`` (pushes in between included)."""
    seen = []
    for _ in range(12):
        message = next_of(ws, object)
        seen.append(message)
        if isinstance(message, Ack) and message.key == want:
            return seen
    raise AssertionError(f"no ack of {want}: {seen}")


def live_orders(rt: Runtime, elder_id: int) -> int:
    with rt.db.session() as db:
        return (
            db.scalar(
                select(func.count())
                .select_from(OrderRow)
                .where(OrderRow.elder_id == elder_id, OrderRow.live == 1)
            )
            or 0
        )


def test_the_box_hears_the_menu_orders_once_and_changes_cancels_until_the_cut_off(
    client: TestClient, rt: Runtime, world: World
) -> None:
    mp = open_point(rt, world)
    staff = bearer(client, mp.staff.email)
    token, _ = pair_box(client, world)
    with client.websocket_connect("/ws/box") as ws:
        state = [m for m in connect(ws, token) if isinstance(m, Meals)]
        assert len(state) == 1 and state[0].offer is not None
        assert state[0].offer.dishes == [] and state[0].offer.point_name == "Happiness Meal Point"
        # The meal point publishes tomorrow's menu: the box has it at once.
        publish(client, mp, staff)
        pushed = next_of(ws, Meals)
        offer = pushed.offer
        assert offer is not None and offer.open and offer.day == tomorrow()
        assert offer.point_phone == "010-6501-8899" and offer.mode == "delivery"
        assert 1 <= len(offer.dishes) <= 4 and offer.window_start == "11:30"
        assert offer.dishes[0].name.endswith("套餐")  # the elder reads Chinese
        dish = offer.dishes[0].dish_id
        # An order, sent twice by the outbox: one order, acked twice.
        order = MealOrder(key=key(), dish_id=dish, mode="delivery")
        send(ws, order)
        seen = answers(ws, order.key)
        after = [m for m in seen if isinstance(m, Meals)][-1]
        assert [o.dish_name for o in after.orders] == [offer.dishes[0].name]
        assert not [m for m in seen if isinstance(m, MealRefused)]
        send(ws, order)
        assert answers(ws, order.key)[-1].duplicate
        assert live_orders(rt, world.elder_a.id) == 1
        # Another set meal, then cancelled.
        order_id = after.orders[0].id
        other = offer.dishes[1]
        change = MealChange(key=key(), order_id=order_id, dish_id=other.dish_id)
        send(ws, change)
        changed = [m for m in answers(ws, change.key) if isinstance(m, Meals)][-1]
        assert changed.orders[0].dish_name == other.name
        assert changed.orders[0].payable_cents == other.payable_cents
        cancel = MealCancel(key=key(), order_id=order_id)
        send(ws, cancel)
        assert [m for m in answers(ws, cancel.key) if isinstance(m, Meals)][-1].orders == []
        send(ws, cancel)
        assert answers(ws, cancel.key)[-1].duplicate
        assert live_orders(rt, world.elder_a.id) == 0
        # An order made by the family reaches the box at once.
        family = client.post(
            "/api/meals/orders",
            json={"elder_id": world.elder_a.id, "dish_id": dish, "idempotency_key": key()},
            headers=bearer(client, world.family_a.email),
        )
        assert family.status_code == 201, family.text
        assert [o.id for o in next_of(ws, Meals).orders] == [family.json()["id"]]


def test_an_order_after_the_cut_off_or_sold_out_is_refused_with_words_then_acked(
    client: TestClient, rt: Runtime, world: World
) -> None:
    mp = open_point(rt, world)
    staff = bearer(client, mp.staff.email)
    menu = publish(client, mp, staff, portions=1)
    token, _ = pair_box(client, world)
    dishes = [d["id"] for d in menu["dishes"]]
    with client.websocket_connect("/ws/box") as ws:
        connect(ws, token)
        # Someone else takes the last portion.
        taken = client.post(
            "/api/meals/orders",
            json={"elder_id": world.elder_b.id, "dish_id": dishes[2], "idempotency_key": key()},
            headers=bearer(client, world.family_b.email),
        )
        assert taken.status_code == 201, taken.text
        late = MealOrder(key=key(), dish_id=dishes[2])
        send(ws, late)
        seen = answers(ws, late.key)
        refused = [m for m in seen if isinstance(m, MealRefused)]
        assert len(refused) == 1 and refused[0].code is ErrorCode.SOLD_OUT
        assert refused[0].key == late.key and refused[0].message
        # The point moves its cut-off into the past: too late, with whom to call.
        with rt.db.session() as db:
            point = db.get(ServicePoint, mp.point_id)
            assert point is not None
            save_settings(db, point, settings(1, "00:00"))
            db.commit()
        again = MealOrder(key=key(), dish_id=dishes[0])
        send(ws, again)
        refused = [m for m in answers(ws, again.key) if isinstance(m, MealRefused)]
        assert refused[0].code is ErrorCode.TOO_LATE
        assert refused[0].phone == "010-6501-8899" and "010-6501-8899" in refused[0].message
        skip = MealSkip(key=key(), day=tomorrow())
        send(ws, skip)
        refused = [m for m in answers(ws, skip.key) if isinstance(m, MealRefused)]
        assert refused[0].code is ErrorCode.NOT_FOUND  # no standing order to skip
        # A cancel of another elder's order is refused, the socket kept open.
        cancel = MealCancel(key=key(), order_id=taken.json()["id"])
        send(ws, cancel)
        assert [m for m in answers(ws, cancel.key) if isinstance(m, MealRefused)]
    assert live_orders(rt, world.elder_a.id) == 0
    assert live_orders(rt, world.elder_b.id) == 1


def test_a_standing_orders_day_is_skipped_once_and_resends_after_the_cut_off_change_nothing(
    client: TestClient, rt: Runtime, world: World
) -> None:
    mp = open_point(rt, world)
    staff = bearer(client, mp.staff.email)
    menu = publish(client, mp, staff)
    family = bearer(client, world.family_a.email)
    standing = client.post(
        f"/api/meals/elders/{world.elder_a.id}/standing-orders",
        json={"point_id": mp.point_id, "weekdays": [0, 1, 2, 3, 4, 5, 6], "mode": "delivery"},
        headers=family,
    )
    assert standing.status_code == 201, standing.text
    token, _ = pair_box(client, world)
    with client.websocket_connect("/ws/box") as ws:
        meals = [m for m in connect(ws, token) if isinstance(m, Meals)][0]
        assert meals.offer is not None and meals.offer.standing
        skip = MealSkip(key=key(), day=tomorrow())
        send(ws, skip)
        seen = answers(ws, skip.key)
        assert not seen[-1].duplicate and not [m for m in seen if isinstance(m, MealRefused)]
        after = [m for m in seen if isinstance(m, Meals)][-1]
        assert after.offer is not None and not after.offer.standing  # the menu is offered
        # A one-off order instead, then cancelled.
        order = MealOrder(key=key(), dish_id=menu["dishes"][0]["id"])
        send(ws, order)
        order_id = [m for m in answers(ws, order.key) if isinstance(m, Meals)][-1].orders[0].id
        cancel = MealCancel(key=key(), order_id=order_id)
        send(ws, cancel)
        assert not answers(ws, cancel.key)[-1].duplicate
        # The cut-off passes; the outbox resends both (their acks were lost): nothing is
        # refused, nothing changes.
        with rt.db.session() as db:
            point = db.get(ServicePoint, mp.point_id)
            assert point is not None
            save_settings(db, point, settings(2, "00:00"))
            db.commit()
        for again in (cancel, skip):
            send(ws, again)
            seen = answers(ws, again.key)
            assert seen[-1].duplicate and not [m for m in seen if isinstance(m, MealRefused)]
        # A new skip after the cut-off is refused plainly.
        late = MealSkip(key=key(), day=tomorrow() + timedelta(days=1))
        send(ws, late)
        refused = [m for m in answers(ws, late.key) if isinstance(m, MealRefused)]
        assert refused and refused[0].code is ErrorCode.TOO_LATE
    assert live_orders(rt, world.elder_a.id) == 0


def test_the_family_fixing_another_meal_point_changes_the_tvs_menu_at_once(
    client: TestClient, rt: Runtime, world: World
) -> None:
    open_point(rt, world)  # the nearest
    with rt.db.session() as db:
        farther = make_meal_point(db, world.area_a.id, latitude=39.92, name="Riverside Canteen")
        point = db.get(ServicePoint, farther.point_id)
        assert point is not None
        save_settings(db, point, settings(0, "10:00"))
        db.commit()
    token, _ = pair_box(client, world)
    family = bearer(client, world.family_a.email)
    with client.websocket_connect("/ws/box") as ws:
        (first,) = [m for m in connect(ws, token) if isinstance(m, Meals)]
        assert first.offer is not None and first.offer.point_name == "Happiness Meal Point"
        chosen = client.put(
            f"/api/meals/elders/{world.elder_a.id}/preferred-point",
            json={"point_id": farther.point_id},
            headers=family,
        )
        assert chosen.status_code == 200, chosen.text
        pushed = next_of(ws, Meals)
        assert pushed.offer is not None and pushed.offer.point_name == "Riverside Canteen"


def test_a_new_cut_off_reaches_the_tv_at_once(
    client: TestClient, rt: Runtime, world: World
) -> None:
    mp = open_point(rt, world)
    staff = bearer(client, mp.staff.email)
    publish(client, mp, staff)
    token, _ = pair_box(client, world)
    with client.websocket_connect("/ws/box") as ws:
        offer = next(m for m in connect(ws, token) if isinstance(m, Meals)).offer
        assert offer is not None and offer.open and offer.window_start == "11:30"
        # The meal point closes tomorrow's lunch a day earlier, at 16:00, and serves later.
        body = settings(1, "16:00").model_dump(mode="json")
        body["services"][0] |= {"window_start": "12:00", "window_end": "13:00"}
        done = client.put(f"/api/meals/points/{mp.point_id}/settings", json=body, headers=staff)
        assert done.status_code == 200, done.text
        pushed = next_of(ws, Meals).offer
        assert pushed is not None and pushed.window_start == "12:00"
        assert pushed.cutoff_at is not None
        closes = pushed.cutoff_at.astimezone(SHANGHAI)
        assert (closes.date(), closes.strftime("%H:%M")) == (
            tomorrow() - timedelta(days=1),
            "16:00",
        )
        assert pushed.open == (utcnow() < pushed.cutoff_at)
