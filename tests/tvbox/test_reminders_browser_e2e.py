"""The whole loop in Chromium: a plan typed on the family page reaches a real box process, fires,
is confirmed with OK and shows as taken; a snoozed dose left unconfirmed is missed, e-mailed
through a local SMTP server and alerted live on the open family page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By

from tests.support.box import BoxProcess
from tests.support.browser import chromium, reveal, save
from tests.support.live_server import FAMILY_LOGIN, SHOTS, DemoServer
from tests.support.smtp import Mailbox, smtp_server
from tests.support.waiting import wait_until
from tvbox.ui.keys import KEYCODE_FOR, RemoteAction

pytestmark = pytest.mark.e2e


@pytest.fixture
def mail() -> Iterator[tuple[Mailbox, int]]:
    with smtp_server() as running:
        yield running


@pytest.fixture
def server(tmp_path: Path, db_url: str, mail: tuple[Mailbox, int]) -> Iterator[DemoServer]:
    live = DemoServer(
        db_url,
        tmp_path / "server",
        ANXIN_SMTP_HOST="127.0.0.1",
        ANXIN_SMTP_PORT=str(mail[1]),
        ANXIN_SWEEP_INTERVAL_SCALE="0.05",  # the missed-dose sweep every 1.5 s
    )
    live.start()
    yield live
    live.stop()


@pytest.fixture
def box_lang() -> str:
    return "en"


def add_on_page(driver: object, elder_id: int, medicine: str, at: str, window: str) -> None:
    reveal(driver, f"med-form-{elder_id}")  # type: ignore[arg-type]  # in its closed panels
    form = driver.find_element(By.ID, f"med-form-{elder_id}")  # type: ignore[attr-defined]
    form.find_element(By.NAME, "medicine").send_keys(medicine)
    form.find_element(By.NAME, "dose").send_keys("1 tablet")
    time_input = form.find_element(By.NAME, "times")  # the first time of day (08:00 at first)
    time_input.clear()
    time_input.send_keys(at)
    # Instructions and the missed-dose window are under "More".
    form.find_element(By.CSS_SELECTOR, "details.med-more > summary").click()
    form.find_element(By.NAME, "instructions").send_keys("after meals")
    window_input = form.find_element(By.NAME, "window_minutes")
    window_input.clear()
    window_input.send_keys(window)
    old = driver.find_element(By.TAG_NAME, "html")  # type: ignore[attr-defined]
    form.find_element(By.ID, f"med-submit-{elder_id}").click()
    wait_until(lambda: not _attached(old), 15, "the page after saving")


def _attached(element: object) -> bool:
    try:
        element.tag_name  # type: ignore[attr-defined]  # noqa: B018
        return True
    except Exception:  # noqa: BLE001 - stale: the page was replaced
        return False


def dose_state(driver: object, elder_id: int, medicine: str) -> str | None:
    """The dose's state on the page; None while the live region is being swapped."""
    try:
        for li in driver.find_elements(By.CSS_SELECTOR, f"#doses-{elder_id} li.dose"):  # type: ignore[attr-defined]
            if medicine in li.text:
                return str(li.get_attribute("data-state"))
    except StaleElementReferenceException:
        return None
    return None


def test_plan_from_the_family_page_fires_on_the_box_and_comes_back_taken_or_missed(
    box: BoxProcess, server: DemoServer, mail: tuple[Mailbox, int]
) -> None:
    mailbox, _ = mail
    box.start()
    code = box.wait_state("a pairing code", link_state="pairing")["pairing_code"]
    token = server.login()
    elder = server.elders(token)[0]
    server.claim(token, code, elder["id"])
    box.wait_state("home, online", screen="home", link_state="online")
    tz = ZoneInfo(elder["timezone"])

    def local(seconds: float) -> str:
        # The form is minute-granular for people; it also takes seconds, which tests use.
        return (datetime.now(UTC) + timedelta(seconds=seconds)).astimezone(tz).strftime("%H:%M:%S")

    with chromium("en") as driver:
        driver.get(server.url + "/login?lang=en")
        driver.find_element(By.ID, "email").send_keys(FAMILY_LOGIN[0])
        driver.find_element(By.ID, "password").send_keys(FAMILY_LOGIN[1])
        driver.find_element(By.ID, "login-submit").click()
        wait_until(
            lambda: driver.find_element(By.TAG_NAME, "body").get_attribute("data-live") == "on",
            15,
            "the live socket",
        )
        add_on_page(driver, elder["id"], "Aspirin", local(30), "1")
        add_on_page(driver, elder["id"], "Metformin", local(45), "30")
        wait_until(
            lambda: dose_state(driver, elder["id"], "Aspirin") == "upcoming",
            15,
            "Aspirin listed as upcoming",
        )
        wait_until(
            lambda: driver.find_element(By.TAG_NAME, "body").get_attribute("data-live") == "on",
            15,
            "the live socket after reload",
        )

        # Aspirin fires: the elder snoozes it (key 2) and then does not confirm in time.
        box.wait_state("Aspirin reminder", timeout=40, screen="reminder")
        assert [r["medicine"] for r in box.state()["reminder"]] == ["Aspirin"]
        box.press(KEYCODE_FOR[RemoteAction.DIGIT_2])
        # Metformin fires: confirmed with OK, and the open page shows it taken.
        box.wait_state("Metformin reminder", timeout=40, screen="reminder")
        box.screenshot(SHOTS / "reminders-e2e-box-reminder.png")
        box.press(KEYCODE_FOR[RemoteAction.OK])
        wait_until(
            lambda: dose_state(driver, elder["id"], "Metformin") == "taken",
            20,
            "Metformin taken on the family page",
        )

        # One minute after its time the snoozed Aspirin is missed: live alert and e-mail.
        alert_texts = wait_until(
            lambda: [
                a.text for a in driver.find_elements(By.CSS_SELECTOR, "#med-alerts .dose-alert")
            ],
            90,
            "the live missed-dose alert",
        )
        assert "Aspirin" in alert_texts[0]
        wait_until(
            lambda: dose_state(driver, elder["id"], "Aspirin") == "missed",
            20,
            "Aspirin missed on the family page",
        )
        # On top of the home, without a reload: a banner with a call to the TV.
        banner = wait_until(
            lambda: driver.execute_script(
                "var b = document.getElementById(arguments[0]); return b && b.innerText;",
                f"urgent-dose-{elder['id']}",
            ),
            20,
            "the missed-dose banner",
        )
        assert "missed a medicine today" in banner and "Aspirin" in banner
        save(driver, SHOTS, "reminders-e2e-family-page")
        # "Edit" fills the form with the plan, for changes in place.
        plan_xpath = "//li[contains(@class,'plan')][.//strong[text()='Metformin']]"

        def edit_metformin() -> str:
            # Found afresh on each try: a live push may redraw the plan list at any moment.
            row = driver.find_element(By.XPATH, plan_xpath)
            plan_id = str(row.get_attribute("data-plan-id"))
            row.find_element(By.CSS_SELECTOR, ".med-edit").click()
            return plan_id

        plan_id = wait_until(edit_metformin, what="Edit pressed on Metformin")
        form = driver.find_element(By.ID, f"med-form-{elder['id']}")
        assert form.find_element(By.NAME, "medicine").get_attribute("value") == "Metformin"
        assert form.find_element(By.NAME, "plan_id").get_attribute("value") == plan_id
        mails = mailbox.wait(1, timeout=20)
        assert "Aspirin" in str(mails[0]["Subject"]) and mails[0]["To"] == FAMILY_LOGIN[0]
    assert len(mailbox.messages) == 1
