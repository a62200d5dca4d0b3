"""Debian's Chromium under Selenium, started the way DEVELOPERS.md prescribes."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import (
    ElementClickInterceptedException,
    NoSuchElementException,
    StaleElementReferenceException,
)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from tests.support.waiting import wait_until

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
BASE_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--window-size=1280,1000",
)
MEDIA_FLAGS = (
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
)


@contextmanager
def chromium(
    lang: str = "en", media: bool = False, extra_flags: tuple[str, ...] = ()
) -> Iterator[webdriver.Chrome]:
    """A fresh headless Chromium with its own profile, closed afterwards."""
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must download nothing
    profile = tempfile.mkdtemp(prefix="anxin-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*BASE_FLAGS, *(MEDIA_FLAGS if media else ()), *extra_flags):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--lang={lang}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def save(driver: webdriver.Chrome, directory: Path, name: str) -> Path:
    """Screenshot the page into ``directory``."""
    path = directory / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def click(driver: webdriver.Chrome, css: str, timeout: float = 10.0) -> None:
    """Click the element matching ``css``, found afresh on each try.

    Pages redraw their live regions on every server push, so an element found a moment
    ago may already be detached; a stale click never reached the page, so retrying is safe.
    """

    def clicked() -> bool:
        try:
            driver.find_element(By.CSS_SELECTOR, css).click()
        except (
            StaleElementReferenceException,
            NoSuchElementException,
            ElementClickInterceptedException,
        ):
            return False
        return True

    wait_until(clicked, timeout, f"a click on {css!r}")


def reveal(driver: webdriver.Chrome, element_id: str) -> None:
    """Open every closed panel (``<details>``) around the element, as a person would to reach
    it (the family home keeps its sections in closed panels), and scroll it into view."""
    driver.execute_script(
        "var el = document.getElementById(arguments[0]);"
        "for (var d = el.closest('details'); d; d = d.parentElement.closest('details'))"
        "  d.open = true;"
        "el.scrollIntoView();",
        element_id,
    )
