"""Community meals with a real box process and the real demo server: the meal point's staff
publish tomorrow's menu and the TV shows it and says it at once; the elder orders with remote
keys and the order is on the kitchen's production sheet and in the elder's orders; an order
made offline reaches the server exactly once across a box restart; one that reaches it after
the cut-off is refused, and the TV shows and says why and whom to call."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.support.box import BoxProcess, paired_box
from tests.support.live_server import SHOTS, DemoServer
from tests.support.waiting import wait_until
from tvbox.ui.keys import KEYCODE_FOR, RemoteAction

pytestmark = pytest.mark.e2e
STAFF_LOGIN = ("meals@demo.anxin", "demo-meals")
SHANGHAI = ZoneInfo("Asia/Shanghai")
# (zh, en, price in fen, tags, allergens): the demo elder is diabetic, on low salt, and
# allergic to peanuts.
MENU = (
    ("花生鸡丁套餐", "Peanut chicken set", 1600, [], ["peanut"]),
    ("红烧肉套餐", "Braised pork set", 1800, [], ["soy"]),
    ("清蒸鱼套餐", "Steamed fish set", 1500, ["low_salt", "low_sugar"], ["fish"]),
    ("素什锦套餐", "Mixed vegetable set", 1000, ["vegetarian", "low_salt", "low_sugar"], []),
)


def api(server: DemoServer, token: str, method: str, path: str, **kw: Any) -> Any:
    resp = httpx.request(
        method, server.url + path, headers={"Authorization": f"Bearer {token}"}, timeout=10, **kw
    )
    assert resp.status_code < 300, resp.text
    return resp.json()


def press(box: BoxProcess, action: RemoteAction) -> dict[str, Any]:
    return box.press(KEYCODE_FOR[action])


def spoken_since(box: BoxProcess, start: int) -> str:
    return " ".join(box.state()["spoken"][start:])


def tomorrow() -> date:
    return datetime.now(SHANGHAI).date() + timedelta(days=1)


def settings(cutoff_days: int, cutoff: str) -> dict[str, Any]:
    """The demo point open every day, lunch closing ``cutoff_days`` before at ``cutoff``."""
    return {
        "phone": "010-6501-8899",
        "open_days": [0, 1, 2, 3, 4, 5, 6],
        "dine_in": True,
        "delivery": True,
        "delivery_radius_m": 3000,
        "services": [
            {
                "meal": "lunch",
                "cutoff_days_before": cutoff_days,
                "cutoff_time": cutoff,
                "portions": 60,
                "window_start": "11:30",
                "window_end": "12:30",
            }
        ],
    }


def no_menu_tomorrow(db_url: str) -> None:
    """The demo's menu of tomorrow's lunch never published (and nothing ordered from it), so
    that the staff publish it in the test, as on any evening before."""
    engine = create_engine(db_url)
    with engine.begin() as db:
        menus = [
            row[0]
            for row in db.execute(
                text("SELECT id FROM meal_menus WHERE day = :day AND meal = 'lunch'"),
                {"day": tomorrow()},
            )
        ]
        for menu_id in menus:
            db.execute(text("DELETE FROM meal_orders WHERE menu_id = :m"), {"m": menu_id})
            db.execute(text("DELETE FROM meal_dishes WHERE menu_id = :m"), {"m": menu_id})
            db.execute(text("DELETE FROM meal_menus WHERE id = :m"), {"m": menu_id})
    engine.dispose()


def close_early(db_url: str, point_id: int) -> None:
    """The point's lunch closing the day before at 00:00 (so tomorrow's has closed)."""
    engine = create_engine(db_url)
    with engine.begin() as db:
        db.execute(
            text(
                "UPDATE meal_services SET cutoff_days_before = 1, cutoff_minute = 0"
                " WHERE service_point_id = :p AND meal = 'lunch'"
            ),
            {"p": point_id},
        )
    engine.dispose()


def prepare(server: DemoServer, db_url: str) -> tuple[str, int]:
    """The staff's token and their point, open with lunch closing tomorrow at 10:00."""
    no_menu_tomorrow(db_url)
    staff = server.login(STAFF_LOGIN)
    family = server.login()
    elder = server.elders(family)[0]
    points = api(server, family, "GET", f"/api/meals/elders/{elder['id']}/points")
    point_id = points[0]["id"]
    api(server, staff, "PUT", f"/api/meals/points/{point_id}/settings", json=settings(0, "10:00"))
    return staff, point_id


def publish(server: DemoServer, staff: str, point_id: int) -> dict[str, Any]:
    body = {
        "day": tomorrow().isoformat(),
        "meal": "lunch",
        "dishes": [
            {"name_zh": zh, "name_en": en, "price_cents": p, "tags": t, "allergens": a}
            for zh, en, p, t, a in MENU
        ],
    }
    menu: dict[str, Any] = api(
        server, staff, "POST", f"/api/meals/points/{point_id}/menus", json=body
    )
    return menu


def offered(box: BoxProcess) -> list[int]:
    return wait_until(lambda: box.state()["meals"]["offer"], 15, "tomorrow's menu on the box")


def test_staff_publish_the_tv_says_it_the_elder_orders_and_the_kitchen_sees_it(
    box: BoxProcess, server: DemoServer, db_url: str
) -> None:
    staff, point_id = prepare(server, db_url)
    family, elder = paired_box(box, server)
    state = press(box, RemoteAction.DIGIT_4)
    assert state["screen"] == "meals"
    wait_until(
        lambda: "明天午餐的菜单还没有发布" in box.state()["meals"]["body"], 15, "no menu yet"
    )
    before = box.state()["meals"]["orders"]  # today's lunch, on a weekday
    # The staff publish tomorrow's lunch: the TV, on the Meals screen, shows it and says it.
    said = len(box.state()["spoken"])
    publish(server, staff, point_id)
    offer = offered(box)
    meals = box.state()["meals"]
    assert len(offer) == 3  # the peanut set is never offered to this elder
    assert not [c for c in meals["choices"] if "花生" in c]
    first = meals["choices"][len(before)]
    assert first.startswith(("清蒸鱼套餐", "素什锦套餐"))  # fitting the diet first
    assert meals["choices"][-1] == "不订餐" and len(meals["choices"]) <= 6
    wait_until(lambda: "您付" in spoken_since(box, said), 15, "the menu, spoken with prices")
    assert f"{len(before) + 1}：" in spoken_since(box, said) and "不订餐" in spoken_since(box, said)
    box.screenshot(SHOTS / "meals-box-menu-zh.png")
    # The elder orders the first with the remote: said with the delivery time.
    said = len(box.state()["spoken"])
    press(box, RemoteAction(f"digit_{len(before) + 1}"))
    wait_until(lambda: "已订好" in spoken_since(box, said), 15, "the order, spoken")
    assert "11:30到12:30" in spoken_since(box, said)
    mine = wait_until(
        lambda: [o for o in box.state()["meals"]["orders"] if o not in before],
        15,
        "the order on the list",
    )
    box.wait_state("sent", outbox_pending=0)
    assert box.state()["meals"]["pending"] == []
    box.screenshot(SHOTS / "meals-box-ordered-zh.png")
    # The kitchen's production sheet and the elder's orders have it.
    sheet = api(
        server,
        staff,
        "GET",
        f"/api/meals/points/{point_id}/production",
        params={"day": tomorrow().isoformat()},
    )
    assert sheet["total"] >= 1 and sum(line["portions"] for line in sheet["lines"]) >= 1
    orders = api(server, family, "GET", f"/api/meals/elders/{elder['id']}/orders")
    ours = [o for o in orders if o["id"] == mine[0]]
    assert ours and ours[0]["ordered_by"] == "elder_box" and ours[0]["status"] == "ordered"
    assert ours[0]["day"] == tomorrow().isoformat()
    line = [line for line in sheet["lines"] if line["dish_id"] == ours[0]["dish_id"]]
    assert line and line[0]["portions"] >= 1


def test_an_offline_order_is_sent_once_across_a_restart(
    box: BoxProcess, server: DemoServer, db_url: str
) -> None:
    staff, point_id = prepare(server, db_url)
    publish(server, staff, point_id)
    family, elder = paired_box(box, server)
    offered(box)
    before = box.state()["meals"]["orders"]
    server.stop()
    box.wait_state("offline", link_state="offline")
    press(box, RemoteAction.DIGIT_4)
    assert "没有联网" in box.state()["meals"]["body"]
    first_dish = len(before) + 1
    state = press(box, RemoteAction(f"digit_{first_dish}"))
    assert state["outbox_pending"] == 1 and state["meals"]["pending"] == ["order"]
    assert "网络恢复后会马上发出" in state["spoken"][-1]
    # The box restarts in the middle of the outage; the order survives it.
    assert box.stop() == 0
    again = box.start()
    assert again["outbox_pending"] == 1 and again["meals"]["pending"] == ["order"]
    server.start()
    box.wait_state("reconnected and flushed", timeout=30, link_state="online", outbox_pending=0)
    wait_until(
        lambda: [o for o in box.state()["meals"]["orders"] if o not in before],
        15,
        "the order from the server",
    )
    assert box.stop() == 0
    box.start()
    box.wait_state("online again", link_state="online", outbox_pending=0)
    orders = api(server, family, "GET", f"/api/meals/elders/{elder['id']}/orders")
    from_box = [o for o in orders if o["ordered_by"] == "elder_box"]
    assert len(from_box) == 1 and from_box[0]["day"] == tomorrow().isoformat()
    assert server.audit_actions(family, elder["id"]).count("meal_order.placed") == 1


def test_an_offline_order_reaching_the_server_after_the_cut_off_is_refused_and_said(
    box: BoxProcess, server: DemoServer, db_url: str
) -> None:
    staff, point_id = prepare(server, db_url)
    publish(server, staff, point_id)
    family, elder = paired_box(box, server)
    offered(box)
    before = box.state()["meals"]["orders"]
    server.stop()
    box.wait_state("offline", link_state="offline")
    # While the TV is offline the meal point closes orders early (the TV still holds the menu
    # it was sent; online, it would have been told at once).
    close_early(db_url, point_id)
    press(box, RemoteAction.DIGIT_4)
    state = press(box, RemoteAction(f"digit_{len(before) + 1}"))
    assert state["outbox_pending"] == 1 and state["meals"]["pending"] == ["order"]
    said = len(state["spoken"])
    server.start()
    box.wait_state("reconnected and flushed", timeout=30, link_state="online", outbox_pending=0)
    wait_until(lambda: "没有成功" in spoken_since(box, said), 15, "the refusal, spoken")
    words = spoken_since(box, said)
    assert "010-6501-8899" in words
    meals = box.state()["meals"]
    assert "没有成功" in meals["body"] and "010-6501-8899" in meals["body"]
    assert meals["pending"] == [] and meals["orders"] == before
    box.screenshot(SHOTS / "meals-box-refused-zh.png")
    orders = api(server, family, "GET", f"/api/meals/elders/{elder['id']}/orders")
    assert not [o for o in orders if o["ordered_by"] == "elder_box"]
