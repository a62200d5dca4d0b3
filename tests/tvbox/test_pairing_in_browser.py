"""Pairing as a family does it: a real box process shows a code, the family page in
Chromium enters it, the TV goes home; removing the box on the page sends it back to pairing."""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from tests.server.test_pages import log_in, submit
from tests.support.box import BoxProcess
from tests.support.browser import chromium, click, reveal, save
from tests.support.live_server import FAMILY_LOGIN, DemoServer
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture
def box_lang() -> str:
    return "en"


def test_family_pairs_the_tv_in_the_browser_and_removes_it(
    box: BoxProcess, server: DemoServer, screenshots: Path
) -> None:
    box.start()
    code = box.wait_state("a pairing code", link_state="pairing")["pairing_code"]
    box.screenshot(screenshots / "tvbox-pairing-en.png")
    with chromium() as page:
        log_in(page, server.process, *FAMILY_LOGIN)
        page.get(f"{server.url}/family?lang=en")
        reveal(page, "pair-code")  # in its panel once every elder has a box
        page.find_element(By.ID, "pair-code").send_keys(code)
        submit(page, "pair-submit")
        wait_until(lambda: "paired" in page.find_element(By.ID, "notice").text, 10, "notice")
        home = box.wait_state("home after pairing", screen="home", link_state="online")
        assert home["elder"]["name"] == "王秀英"
        box.screenshot(screenshots / "tvbox-home-after-browser-pairing.png")
        wait_until(
            lambda: page.find_elements(By.CSS_SELECTOR, ".device[data-state='online']"),
            20,
            "the family page showing the box online",
        )
        device_id = page.find_element(
            By.CSS_SELECTOR, ".device[data-state='online']"
        ).get_attribute("data-device-id")
        reveal(page, f"device-{device_id}")  # in the closed "TV boxes" panel
        save(page, screenshots, "web-family-real-box-online")
        click(page, ".device[data-state='online'] button.danger")
        page.switch_to.alert.accept()
        box.wait_state("pairing after removal", screen="pairing", paired=False)
        fresh = wait_until(
            lambda: (s := box.state())["link_state"] == "pairing" and s["pairing_code"],
            30,
            "a fresh code shown",
        )
        assert fresh != code
