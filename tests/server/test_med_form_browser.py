"""The medicine form and the operator's SOS board in real Chromium, at phone and desktop size.

The form: each checkbox beside its words, the week one row of day toggles, colours as named
swatches, "More" closed at first, times added with a button, and a mistake shown under its
field with everything typed kept. The board: an open SOS first and large, in words.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement

from server.core.db import Database
from tests.server.test_pages import log_in, submit, text
from tests.support.browser import chromium, reveal, save
from tests.support.live_server import LiveServer
from tests.support.waiting import wait_until
from tests.support.world import World, make_device

pytestmark = pytest.mark.e2e
SHOTS = Path("/tmp/shots/wt-words")
SIZES = {"phone": (390, 844), "desktop": (1280, 900)}
PLAN = "//li[contains(@class,'plan')][.//strong[.='Aspirin']]"


@pytest.fixture
def browser():  # type: ignore[no-untyped-def]
    with chromium() as driver:
        yield driver


def box(element: WebElement) -> dict[str, float]:
    return element.rect  # x, y, width, height in CSS pixels


def text_box(driver, label: WebElement) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Where a label's own words are drawn (not the checkbox inside it)."""
    return driver.execute_script(
        """const label = arguments[0], range = document.createRange();
        const words = [...label.childNodes].filter(n => n.nodeType === 3 && n.textContent.trim());
        range.setStartBefore(words[0]); range.setEndAfter(words[words.length - 1]);
        const r = range.getBoundingClientRect();
        return {x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: r.height};""",
        label,
    )


def beside(driver, checkbox: WebElement) -> None:  # type: ignore[no-untyped-def]
    """The checkbox is left of its label's words, on the same line."""
    label = checkbox.find_element(By.XPATH, "./ancestor::label")
    tick, words = box(checkbox), text_box(driver, label)
    assert tick["x"] + tick["width"] <= words["x"], (tick, words)
    middle = tick["y"] + tick["height"] / 2
    assert words["y"] <= middle <= words["y"] + words["height"], (tick, words)


def shoot(driver, name: str, element_id: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    for size, (width, height) in SIZES.items():
        driver.set_window_size(width, height)
        driver.execute_script("document.getElementById(arguments[0]).scrollIntoView()", element_id)
        save(driver, SHOTS, f"{name}-{size}")
    driver.set_window_size(*SIZES["desktop"])


def test_the_medicine_form_reads_as_a_form(browser, live_server: LiveServer, seeded: World) -> None:  # type: ignore[no-untyped-def]
    elder = seeded.elder_a.id
    log_in(browser, live_server, seeded.family_a.email)
    for size, (width, height) in SIZES.items():
        browser.set_window_size(width, height)
        browser.get(f"{live_server.url}/family?lang=en")
        reveal(browser, f"med-form-{elder}")  # the panel it sits in, opened
        form = browser.find_element(By.ID, f"med-form-{elder}")
        # The few fields most people need; the rest closed under "More".
        more = browser.find_element(By.ID, f"med-more-{elder}")
        assert more.get_attribute("open") is None, size
        assert not form.find_element(By.NAME, "window_minutes").is_displayed(), size
        assert [i.get_attribute("value") for i in form.find_elements(By.NAME, "times")] == ["08:00"]
        # The week: seven toggles in one row, Mon..Sun, all on (every day) to begin with.
        days = browser.find_elements(By.CSS_SELECTOR, f"#med-days-{elder} .week-row label")
        shown = [d.find_element(By.CSS_SELECTOR, "[aria-hidden]").text for d in days]
        assert shown == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        assert days[0].get_attribute("textContent").strip().endswith("Monday"), "said in full"
        tops = {round(box(d)["y"]) for d in days}
        assert max(tops) - min(tops) <= 2, f"one row at {size}: {tops}"
        assert all(box(d)["width"] >= 36 for d in days), f"pressable at {size}"
        assert all(b.is_selected() for b in form.find_elements(By.NAME, "days"))
        # Checkboxes beside their words.
        beside(browser, browser.find_element(By.NAME, "email_missed"))
        browser.find_element(By.CSS_SELECTOR, f"#med-more-{elder} > summary").click()
        beside(browser, form.find_element(By.NAME, "as_needed"))
        # Colours: named swatches drawn as circles, one of them chosen.
        swatches = form.find_elements(By.CSS_SELECTOR, ".swatch-label")
        assert 6 <= len(swatches) <= 8 and all(s.is_displayed() for s in swatches)
        assert all(box(s)["width"] >= 40 for s in swatches), size
        names = [s.get_attribute("textContent").strip() for s in swatches]
        assert names[:3] == ["White", "Yellow", "Orange"] and "Blue" in names
        wide = browser.execute_script(
            "return document.getElementById(arguments[0]).scrollWidth", f"med-days-{elder}"
        )
        assert wide <= box(browser.find_element(By.ID, f"med-days-{elder}"))["width"] + 1, size
    shoot(browser, "med-form-more-open", f"med-form-title-{elder}")
    browser.get(f"{live_server.url}/family?lang=zh")
    reveal(browser, f"med-form-{elder}")  # the panel it sits in, opened
    days = browser.find_elements(By.CSS_SELECTOR, f"#med-days-{elder} .week-row [aria-hidden]")
    assert [d.text for d in days] == list("一二三四五六日")
    shoot(browser, "med-form-zh", f"med-form-title-{elder}")
    browser.get(f"{live_server.url}/family?lang=en")
    reveal(browser, f"med-form-{elder}")  # the panel it sits in, opened
    browser.find_element(By.CSS_SELECTOR, f"#med-more-{elder} > summary").click()
    shoot(browser, "med-form-swatches", f"med-colours-{elder}")

    form = browser.find_element(By.ID, f"med-form-{elder}")
    form.find_element(By.NAME, "medicine").send_keys("Aspirin")
    form.find_element(By.NAME, "dose").send_keys("1 tablet")
    browser.find_element(By.CSS_SELECTOR, f"label[for=med-day-{elder}-3]").click()  # Wed off
    form.find_element(By.CSS_SELECTOR, ".time-add").click()
    times = form.find_elements(By.NAME, "times")
    assert len(times) == 2 and times[1] == browser.switch_to.active_element
    times[1].send_keys("20:00")
    times[0].clear()
    times[0].send_keys("25:99")
    blue = form.find_element(
        By.XPATH, ".//label[contains(@class,'swatch-label')][.//span[.='Blue']]"
    )
    blue.click()
    assert form.find_element(By.CSS_SELECTOR, "input[name=colour][value='#2f6fd0']").is_selected()
    submit(browser, f"med-submit-{elder}")

    # The mistake is shown under the times, and everything typed is still there.
    error = browser.find_element(By.ID, f"med-err-times-{elder}")
    assert "25:99" in error.text
    form = browser.find_element(By.ID, f"med-form-{elder}")
    times = form.find_elements(By.NAME, "times")
    assert [t.get_attribute("value") for t in times] == ["25:99", "20:00"]
    assert times[0].get_attribute("aria-invalid") == "true"
    assert times[0].get_attribute("aria-describedby") == f"med-err-times-{elder}"
    assert times[1].get_attribute("aria-invalid") is None, "only the wrong time is marked"
    below = box(error)["y"] - (box(times[-1])["y"] + box(times[-1])["height"])
    assert 0 <= below <= 120, f"the message sits just under the times ({below}px)"
    assert form.find_element(By.NAME, "medicine").get_attribute("value") == "Aspirin"
    chosen = [
        b.get_attribute("value") for b in form.find_elements(By.NAME, "days") if b.is_selected()
    ]
    assert chosen == ["1", "2", "4", "5", "6", "7"]
    assert form.find_element(By.CSS_SELECTOR, "input[name=colour][value='#2f6fd0']").is_selected()
    shoot(browser, "med-form-error", f"med-form-title-{elder}")

    times[0].clear()
    times[0].send_keys("08:00")
    submit(browser, f"med-submit-{elder}")

    def saved_plan() -> tuple[str, str]:
        # Found afresh: a live push may redraw the plan list at any moment.
        plan = browser.find_element(
            By.XPATH, "//li[contains(@class,'plan')][.//strong[.='Aspirin']]"
        )
        fill = plan.find_element(By.CSS_SELECTOR, "svg.swatch rect").get_attribute("fill")
        return plan.text, str(fill)

    shown, fill = wait_until(saved_plan, what="the saved plan listed")
    assert "08:00" in shown and "20:00" in shown and fill == "#2f6fd0"


def test_the_operator_sees_an_open_sos_first_in_words(
    browser, live_server: LiveServer, seeded: World, db_url: str
) -> None:  # type: ignore[no-untyped-def]
    database = Database(db_url)
    with database.session() as db:
        token, _ = make_device(db, seeded.elder_a)
        db.commit()
    database.dispose()
    raised = httpx.post(
        f"{live_server.url}/api/box/sensor-events",
        json={"key": "fall-0000001", "kind": "fall"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert raised.status_code == 201, raised.text
    log_in(browser, live_server, seeded.operator_a.email)
    for size, (width, height) in SIZES.items():
        browser.set_window_size(width, height)
        browser.get(f"{live_server.url}/operator?lang=en")

        def open_alert() -> tuple[str, float, float, str]:
            # Found afresh: live pushes redraw the board.
            alert = browser.find_element(By.CSS_SELECTOR, ".sos-alert.sos-open")
            heading = alert.find_element(By.TAG_NAME, "h3")
            font = float(heading.value_of_css_property("font-size").removesuffix("px"))
            bottom = box(heading)["y"] + box(heading)["height"]
            return heading.text, bottom, font, alert.find_element(By.CSS_SELECTOR, ".sos-what").text

        title, bottom, font, what = wait_until(open_alert, what="the open SOS on the board")
        assert title.startswith("SOS — not yet acknowledged")
        assert bottom < height, f"above the fold at {size}"
        # larger than the incoming-call banner's 48px heading on a desktop
        assert font > (48 if size == "desktop" else 30), size
        assert what.startswith("sensor (a fall) · Raised at ") and "UTC" not in what
        wait_until(
            lambda: "Now alerting: Operators on duty and family" in text(browser),
            what="the level in words",
        )
        wide, seen_width = browser.execute_script(
            "const d = document.documentElement; return [d.scrollWidth, d.clientWidth];"
        )
        assert wide <= seen_width, f"nothing sticks out sideways at {size} ({wide}px)"
    shoot(browser, "sos-board", "sos-board")
    browser.get(f"{live_server.url}/operator?lang=zh")
    wait_until(lambda: "正在通知：值班接线员和家属" in text(browser), what="the level in Chinese")
    assert "传感器" in text(browser) and "北京时间" in text(browser)
    shoot(browser, "sos-board-zh", "sos-board")
