"""Meals across the pages and the TV: Chromium and a real box process on the demo server.

The meal point's staff publish tomorrow's lunch on their page in Chromium; the running TV shows
the menu and says it with the prices; the elder orders with the remote; the staff's open
production sheet and the daughter's open family page show the order without a reload.
"""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from server.demo import DEMO_LOGINS, MEAL_STAFF_DEMO
from tests.server.test_meals_browser import live, region, text_of
from tests.server.test_pages import log_in, submit
from tests.support.box import BoxProcess, paired_box
from tests.support.browser import chromium, click, save
from tests.support.live_server import SHOTS, DemoServer
from tests.support.waiting import wait_until
from tests.tvbox.test_meals_e2e import offered, prepare, press, spoken_since
from tvbox.ui.keys import RemoteAction

pytestmark = pytest.mark.e2e
FAMILY = next(d for d in DEMO_LOGINS if d.email.startswith("family1"))
# (zh, en, yuan, tags, allergens): the demo elder is diabetic, on low salt, allergic to peanuts.
DISHES = (
    ("花生鸡丁", "Peanut chicken", "16", [], ["peanut"]),
    ("清蒸鱼", "Steamed fish", "15.50", ["low_salt", "low_sugar"], ["fish"]),
    ("什锦素菜", "Mixed vegetables", "10", ["vegetarian", "low_salt", "low_sugar"], []),
)


def test_a_menu_published_on_the_page_is_ordered_on_the_tv_and_reaches_both_pages(
    box: BoxProcess, server: DemoServer, db_url: str
) -> None:
    _staff_token, point_id = prepare(server, db_url)  # tomorrow's lunch open, no menu yet
    _family_token, elder = paired_box(box, server)
    assert press(box, RemoteAction.DIGIT_4)["screen"] == "meals"
    wait_until(lambda: "明天午餐的菜单还没有发布" in box.state()["meals"]["body"], 15, "no menu")
    before = box.state()["meals"]["orders"]
    with chromium() as staff, chromium() as daughter:
        daughter.set_window_size(390, 844)
        log_in(daughter, server, FAMILY.email, FAMILY.password)  # type: ignore[arg-type]
        daughter.get(f"{server.url}/family?meals=1&lang=en")
        wait_until(lambda: live(daughter), what="the family page live")

        staff.set_window_size(1280, 900)
        log_in(staff, server, MEAL_STAFF_DEMO.email, MEAL_STAFF_DEMO.password)  # type: ignore[arg-type]
        staff.get(f"{server.url}/meals/kitchen?lang=en")
        wait_until(lambda: live(staff), what="the kitchen page live")
        said = len(box.state()["spoken"])
        for i, (zh, en, yuan, tags, allergens) in enumerate(DISHES):
            staff.find_element(By.ID, f"name_zh_{i}").send_keys(zh)
            staff.find_element(By.ID, f"name_en_{i}").send_keys(en)
            staff.find_element(By.ID, f"price_{i}").send_keys(yuan)
            for value in tags:
                click(staff, f"#tag_{i}_{value}")
            for value in allergens:
                click(staff, f"#allergen_{i}_{value}")
        submit(staff, "publish")
        assert staff.find_element(By.ID, "menu-done").is_displayed()

        # The TV, on its Meals screen, shows the menu at once and says it with the prices;
        # the peanut dish is never offered to this elder, and the fitting ones come first.
        offer = offered(box)
        meals = box.state()["meals"]
        assert len(offer) == 2 and not [c for c in meals["choices"] if "花生" in c]
        assert meals["choices"][-1] == "不订餐"
        wait_until(lambda: "您付" in spoken_since(box, said), 15, "the menu, spoken with prices")
        first = meals["choices"][len(before)]
        assert first.startswith(("清蒸鱼", "什锦素菜"))

        # The elder orders with the remote; it is said, and both open pages show it.
        said = len(box.state()["spoken"])
        press(box, RemoteAction(f"digit_{len(before) + 1}"))
        wait_until(lambda: "已订好" in spoken_since(box, said), 15, "the order, spoken")
        wait_until(
            lambda: 'id="production-total"><strong>1<' in region(staff, "kitchen-live"),
            what="the TV's order on the production sheet, live",
        )
        assert elder["name"] in text_of(staff, "deliveries") or elder["name"] in region(
            staff, "kitchen-live"
        )
        wait_until(
            lambda: "This is the meal ordered" in text_of(daughter, "meals-live"),
            what="the TV's order on the family page, live",
        )
        save(staff, SHOTS, "meals-kitchen-after-tv-order")
        save(daughter, SHOTS, "meals-family-after-tv-order")
    assert point_id
