"""In Chromium: an administrator creates an area by clicking the map and a staff member by
the form, on a server with no map tiles (offline); screenshots at desktop and phone width."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.server.test_pages import log_in, submit, text
from tests.support.browser import chromium, save
from tests.support.live_server import LiveServer
from tests.support.waiting import scaled, wait_until
from tests.support.world import World

pytestmark = pytest.mark.e2e


@pytest.fixture
def server(db_url: str, tmp_path: Path, seeded: World) -> Iterator[LiveServer]:
    """A live server with no map tiles, as offline."""
    live = LiveServer(
        db_url=db_url, data_dir=tmp_path / "server", extra_env={"ANXIN_MAP_TILE_URL": ""}
    )
    live.start()
    yield live
    live.stop()


def policy_problems(driver) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        e["message"]
        for e in driver.get_log("browser")
        if e["level"] == "SEVERE" or "Content Security Policy" in e["message"]
    ]


def test_admin_creates_an_area_on_the_map_and_a_staff_member(
    server: LiveServer, seeded: World, screenshots: Path
) -> None:
    with chromium() as driver:
        log_in(driver, server, seeded.admin.email)
        wait_until(lambda: driver.current_url.endswith("/admin"), what="admin home")
        save(driver, screenshots, "admin-home-desktop")

        driver.get(f"{server.url}/admin/areas/new")
        driver.find_element(By.ID, "name").send_keys("海淀片区")
        wait_until(
            lambda: driver.find_element(By.ID, "map").get_attribute("data-ready") == "1",
            what="map ready",
        )
        the_map = driver.find_element(By.ID, "map")
        ActionChains(driver).move_to_element_with_offset(the_map, 40, -30).click().perform()
        lat = driver.find_element(By.ID, "centre_latitude")
        wait_until(lambda: lat.get_attribute("value") != "", what="latitude picked on the map")
        picked_lat = float(lat.get_attribute("value") or "0")
        picked_lng = float(
            driver.find_element(By.ID, "centre_longitude").get_attribute("value") or "0"
        )
        assert 39.5 < picked_lat < 40.3 and 116.0 < picked_lng < 116.8, "near Beijing"
        driver.find_element(By.ID, "boundary").send_keys(
            '{"type":"Polygon","coordinates":[[[116.2,39.9],[116.4,39.9],[116.4,40.05],[116.2,40.05],[116.2,39.9]]]}'
        )
        driver.find_element(By.ID, "name").click()  # the boundary's change event draws it
        wait_until(
            lambda: driver.find_elements(By.CSS_SELECTOR, "#map path.leaflet-interactive"),
            what="marker and boundary drawn",
        )
        save(driver, screenshots, "admin-area-form-desktop")
        submit(driver, "save")
        assert "海淀片区" in text(driver) and f"{picked_lat:.5f}" in text(driver)
        save(driver, screenshots, "admin-areas-desktop")

        driver.get(f"{server.url}/admin/staff/new")
        role = Select(driver.find_element(By.ID, "role"))
        role.select_by_value("doctor")
        clinic_select = driver.find_element(By.ID, "organisation_clinic")
        assert clinic_select.is_displayed()
        assert not driver.find_element(By.ID, "organisation_area").is_displayed()
        assert not driver.find_element(By.ID, "supervisor").is_displayed()
        role.select_by_value("operator")
        assert driver.find_element(By.ID, "organisation_area").is_displayed()
        assert driver.find_element(By.ID, "supervisor").is_displayed()
        driver.find_element(By.ID, "name").send_keys("王值班")
        driver.find_element(By.ID, "email").send_keys("wang.duty@example.com")
        Select(driver.find_element(By.ID, "organisation_area")).select_by_visible_text("海淀片区")
        driver.find_element(By.ID, "supervisor").click()
        save(driver, screenshots, "admin-staff-form-desktop")
        submit(driver, "save")
        assert driver.find_element(By.ID, "created").is_displayed()
        # no mail server on this live server: the link is shown to the admin
        assert "/reset-password/" in (
            driver.find_element(By.ID, "set-password-url").get_attribute("value") or ""
        )
        driver.get(f"{server.url}/admin/staff?q=wang")
        assert "王值班" in text(driver) and "海淀片区" in text(driver)
        driver.get(f"{server.url}/admin/staff")
        save(driver, screenshots, "admin-staff-desktop")
        assert policy_problems(driver) == []

        driver.set_window_size(390, 844)
        WebDriverWait(driver, scaled(5)).until(
            lambda d: d.execute_script("return innerWidth") <= 400
        )
        for path, name in (
            ("/admin", "admin-home-phone"),
            ("/admin/areas", "admin-areas-phone"),
            ("/admin/areas/new", "admin-area-form-phone"),
            ("/admin/staff", "admin-staff-phone"),
            ("/admin/staff/new", "admin-staff-form-phone"),
        ):
            driver.get(f"{server.url}{path}")
            save(driver, screenshots, name)
            width = driver.execute_script("return document.documentElement.scrollWidth")
            assert width <= 400, f"{path} is wider than a phone: {width}px"
        assert policy_problems(driver) == []
