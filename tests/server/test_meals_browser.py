"""Meals in real Chromium: the meal point's staff publish tomorrow's menu and the daughter's
open family page (a phone) shows the offer at once; she orders delivery and the staff's open
production sheet and delivery list show it at once; the staff mark it not at home and the
family's inbox (a local SMTP server) gets the e-mail; the statement's numbers add up.
Screenshots (phone, desktop, and the sheets as printed): /tmp/shots/wt-mealspages/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from server.core.db import Database
from server.models import Elder, User
from tests.server.meals_world import ALWAYS_OPEN_TOMORROW, make_meal_point
from tests.server.test_pages import log_in, submit
from tests.support.browser import chromium, click, reveal, save
from tests.support.live_server import LiveServer
from tests.support.smtp import Mailbox, smtp_server
from tests.support.waiting import wait_until
from tests.support.world import World

pytestmark = pytest.mark.e2e
SHOTS = Path("/tmp/shots/wt-mealspages")
PHONE, DESKTOP = (390, 844), (1280, 900)


@dataclass
class Site:
    server: LiveServer
    mailbox: Mailbox
    world: World
    staff: User


@pytest.fixture
def site(db_url: str, seeded: World, tmp_path: Path) -> Iterator[Site]:
    database = Database(db_url)
    with database.session() as db:
        elder = db.get(Elder, seeded.elder_a.id)
        assert elder is not None
        elder.latitude, elder.longitude = 39.905, 116.4
        staff = make_meal_point(db, seeded.area_a.id, lunch_cutoff=ALWAYS_OPEN_TOMORROW).staff
        db.flush()
        db.expunge(staff)
    database.dispose()
    SHOTS.mkdir(parents=True, exist_ok=True)
    with smtp_server() as (mailbox, port):
        server = LiveServer(
            db_url=db_url,
            data_dir=tmp_path / "server",
            extra_env={"ANXIN_SMTP_HOST": "127.0.0.1", "ANXIN_SMTP_PORT": str(port)},
        )
        server.start()
        try:
            yield Site(server, mailbox, seeded, staff)
        finally:
            server.stop()


def shoot(driver: Any, name: str, print_too: bool = False) -> None:
    """The page at phone and desktop size, each tall enough for all of it (and as printed)."""
    for size, (width, height) in (("phone", PHONE), ("desktop", DESKTOP)):
        driver.set_window_size(width, height)
        full = driver.execute_script("return document.body.scrollHeight")
        driver.set_window_size(width, min(max(height, full + 140), 6000))
        save(driver, SHOTS, f"{name}-{size}")
    if print_too:
        driver.set_window_size(794, 1123)  # A4 at 96 dpi
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        full = driver.execute_script("return document.body.scrollHeight")
        driver.set_window_size(794, min(max(1123, full + 140), 6000))
        save(driver, SHOTS, f"{name}-print")
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})


def live(driver: Any) -> bool:
    return bool(driver.find_element(By.TAG_NAME, "body").get_attribute("data-live") == "on")


def region(driver: Any, element_id: str) -> str:
    """The element's HTML, read afresh (live regions are redrawn on every push)."""
    return str(
        wait_until(lambda: driver.find_element(By.ID, element_id).get_attribute("innerHTML") or " ")
    )


def text_of(driver: Any, element_id: str) -> str:
    """The element's text, read afresh."""
    return str(wait_until(lambda: driver.find_element(By.ID, element_id).text, what=element_id))


DISHES = (
    ("清蒸鱼", "Steamed fish", "15.50", ["low_salt"], ["fish"]),
    ("番茄炒蛋", "Tomato and egg", "12", ["soft"], ["egg"]),
    ("什锦素菜", "Mixed vegetables", "10", ["vegetarian", "low_salt"], ["soy"]),
)


def test_menu_order_sheet_and_not_at_home_reach_each_page_live(site: Site) -> None:
    world, server = site.world, site.server
    elder = world.elder_a
    with chromium() as staff, chromium() as daughter:
        daughter.set_window_size(*PHONE)
        log_in(daughter, server, world.family_a.email)
        daughter.get(f"{server.url}/family?meals=1&lang=en")
        wait_until(lambda: live(daughter), what="the family page live")
        assert f'id="no-offer-{elder.id}"' in region(daughter, "meals-live")
        click(daughter, f"#diet-{elder.id} > summary")  # open while the page redraws

        staff.set_window_size(*DESKTOP)
        log_in(staff, server, site.staff.email)
        assert "/meals/kitchen" in staff.current_url  # meal staff land on their page
        staff.get(f"{server.url}/meals/kitchen?lang=en")
        wait_until(lambda: live(staff), what="the kitchen page live")
        for i, (zh, en, price, tags, allergens) in enumerate(DISHES):
            staff.find_element(By.ID, f"name_zh_{i}").send_keys(zh)
            staff.find_element(By.ID, f"name_en_{i}").send_keys(en)
            staff.find_element(By.ID, f"price_{i}").send_keys(price)
            for value in tags:
                click(staff, f"#tag_{i}_{value}")
            for value in allergens:
                click(staff, f"#allergen_{i}_{value}")
        submit(staff, "publish")
        assert staff.find_element(By.ID, "menu-done").is_displayed()

        # the daughter's page shows the offer without a reload
        wait_until(lambda: "Steamed fish" in region(daughter, "meals-live"), what="the offer live")
        assert "Contains: fish" in text_of(daughter, "meals-live")
        assert daughter.execute_script(f"return document.getElementById('diet-{elder.id}').open")
        shoot(daughter, "family-offer")
        daughter.set_window_size(*PHONE)

        # she orders the fish, delivered home; the staff's sheet shows it without a reload
        form = daughter.find_element(By.CSS_SELECTOR, f"#offer-{elder.id} .order-form")
        Select(form.find_element(By.TAG_NAME, "select")).select_by_value("delivery")
        button = form.find_element(By.TAG_NAME, "button").get_attribute("id")
        assert button
        reveal(daughter, button)
        submit(daughter, button)
        assert "✓ This is the meal ordered" in text_of(daughter, "meals-live")
        wait_until(
            lambda: 'id="production-total"><strong>1<' in region(staff, "kitchen-live"),
            what="the order on the production sheet live",
        )
        deliveries = text_of(staff, "deliveries")
        assert elder.name in deliveries and "must not eat" not in deliveries
        assert "Route: " in deliveries
        staff.execute_script("window.print = function () { document.body.dataset.printed = 1; }")
        click(staff, "#print")
        assert staff.find_element(By.TAG_NAME, "body").get_attribute("data-printed") == "1"
        shoot(staff, "kitchen", print_too=True)
        staff.set_window_size(*DESKTOP)

        # not at home: the family's inbox hears of it, and the daughter's page says so
        mark = staff.find_element(By.CSS_SELECTOR, "[id$='-not_home']").get_attribute("id")
        assert mark
        submit(staff, mark)
        [mail] = site.mailbox.wait(1)
        assert mail["To"] == world.family_a.email
        assert "not at home" in str(mail["Subject"])
        wait_until(
            lambda: "not at home" in text_of(daughter, "meals-live"),
            what="not at home on the family page live",
        )
        shoot(daughter, "family-ordered")

        # the statement adds up: price − subsidy = to pay, and the per-day table agrees
        daughter.get(f"{server.url}/meals/elders/{elder.id}/statement?lang=en")
        price = _yuan(text_of(daughter, "total-price"))
        subsidy = _yuan(text_of(daughter, "total-subsidy"))
        pay = _yuan(text_of(daughter, "total-pay"))
        assert price == 1550 and price - subsidy == pay
        assert daughter.find_elements(By.CSS_SELECTOR, "svg.bars g.bar")
        shoot(daughter, "statement")
        daughter.get(f"{server.url}/family?meals=1&lang=zh")
        assert "不在家" in text_of(daughter, "meals-live")
        shoot(daughter, "family-zh")
        staff.get(f"{server.url}/meals/kitchen?lang=zh")
        assert "备餐单" in text_of(staff, "production")
        shoot(staff, "kitchen-zh")

        operator = staff
        log_in(operator, server, world.operator_a.email)
        operator.get(f"{server.url}/meals/area?lang=en")
        assert "Happiness Meal Point" in text_of(operator, "per-point-table")
        shoot(operator, "area")


def _yuan(text: str) -> int:
    found = re.search(r"(\d+)\.(\d\d)", text)
    assert found, text
    return int(found[1]) * 100 + int(found[2])
