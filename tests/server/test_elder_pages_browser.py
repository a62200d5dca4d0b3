"""The care centre's elder pages in real Chromium: register an elder by clicking the map,
import a CSV, and screenshots of the list, form, import page and report (desktop and phone)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.conftest import ARTIFACTS
from tests.server.test_pages import log_in, submit, text
from tests.support.browser import chromium, save
from tests.support.live_server import LiveServer
from tests.support.waiting import scaled
from tests.support.world import World

pytestmark = pytest.mark.e2e
SHOTS = ARTIFACTS / "screenshots"
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}


@pytest.fixture
def browser():  # type: ignore[no-untyped-def]
    with chromium() as driver:
        yield driver


def shoot(driver, name: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    for size, (width, height) in SIZES.items():
        driver.set_window_size(width, height)
        full = driver.execute_script("return document.body.scrollHeight")
        driver.set_window_size(width, min(max(height, full + 140), 4000))
        save(driver, SHOTS, f"elders-{name}-{size}")
    driver.set_window_size(*SIZES["desktop"])


@pytest.fixture
def csv_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "register.csv"
    rows = ["登记号,姓名,电话,出生年份,地址,独居"]
    rows += [
        f"B{i:03d},李{i}号,1390000{i:04d},{1935 + i % 30},浦东新区{i}弄,是" for i in range(1, 9)
    ]
    rows += ["B002,重复的人,,,,", "B099,,,,,", "B100,年份错,,1700,,"]
    path.write_text("\ufeff" + "\n".join(rows) + "\n", encoding="utf-8")
    yield path


def test_register_by_map_and_import_a_csv(
    browser, seeded: World, live_server: LiveServer, csv_file: Path
) -> None:  # type: ignore[no-untyped-def]
    browser.set_window_size(*SIZES["desktop"])
    log_in(browser, live_server, seeded.operator_a.email)
    browser.get(f"{live_server.url}/elders/new?lang=en")
    browser.find_element(By.ID, "name").send_keys("Zhou Ming")
    browser.find_element(By.ID, "register_ref").send_keys("M-1")
    browser.find_element(By.ID, "phone").send_keys("139 1234 5678")
    browser.find_element(By.ID, "birth_year").send_keys("1942")
    browser.find_element(By.ID, "address").send_keys("8 Century Avenue")
    the_map = browser.find_element(By.ID, "elder-map")
    browser.execute_script("arguments[0].scrollIntoView()", the_map)
    the_map.click()  # the middle of the map: Shanghai
    WebDriverWait(browser, scaled(10)).until(
        lambda d: d.find_element(By.ID, "latitude").get_attribute("value")
    )
    lat = float(browser.find_element(By.ID, "latitude").get_attribute("value"))
    lon = float(browser.find_element(By.ID, "longitude").get_attribute("value"))
    assert abs(lat - 31.23) < 0.2 and abs(lon - 121.47) < 0.2
    shoot(browser, "form")
    submit(browser, "save")
    assert "The elder is registered." in text(browser)
    assert "Zhou Ming" in text(browser) and "13912345678" in text(browser)

    # A bad form keeps the input and says what is wrong next to the field.
    browser.get(f"{live_server.url}/elders/new")
    browser.find_element(By.ID, "name").send_keys("Bad Year")
    browser.find_element(By.ID, "birth_year").send_keys("1700")
    submit(browser, "save")
    assert "Enter a year between 1880" in browser.find_element(By.ID, "error-birth_year").text
    assert browser.find_element(By.ID, "name").get_attribute("value") == "Bad Year"
    shoot(browser, "form-errors")

    browser.get(f"{live_server.url}/elders/import")
    shoot(browser, "import")
    browser.find_element(By.ID, "file").send_keys(str(csv_file))
    submit(browser, "import")
    counts = {k: browser.find_element(By.ID, k).text for k in ("created", "refused")}
    assert counts == {"created": "8", "refused": "3"}
    assert "Repeated in this file, line 3." in text(browser)
    shoot(browser, "report")

    browser.get(f"{live_server.url}/elders?q=李")
    assert "李1号" in text(browser) and "Zhou Ming" not in text(browser)
    browser.get(f"{live_server.url}/elders")
    shoot(browser, "list")
