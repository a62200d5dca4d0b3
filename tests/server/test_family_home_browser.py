"""The family home in Chromium at a phone's 390×844 and a desktop's 1280×900: pairing first
while the elder has no box, then urgent banners above today's glance above closed panels; an
SOS from a real box process's red key appears on the open page with no reload and leaves when
it is closed; a missed dose; times in the elder's zone, named for a daughter in London.
Screenshots go to /tmp/shots/wt-family/."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from selenium.webdriver.common.by import By

from protocol import DoseOutcome, PlanStatus, Schedule
from server.core.db import Database
from server.models import MedicationPlan
from server.reminders.doses import record_outcome
from tests.server.test_pages import log_in, submit
from tests.support.box import BoxProcess
from tests.support.browser import chromium, click
from tests.support.live_server import LiveServer
from tests.support.waiting import wait_until
from tests.support.world import PASSWORD, World, make_device
from tvbox.ui.keys import KEYCODE_FOR, RemoteAction

pytestmark = pytest.mark.e2e
SHOTS = Path("/tmp/shots/wt-family")
SIZES = {"phone": (390, 844), "desktop": (1280, 900)}
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


@pytest.fixture
def box(tmp_path: Path, live_server: LiveServer) -> Iterator[BoxProcess]:
    process = BoxProcess(tmp_path / "box", live_server.url, lang="en")
    yield process
    process.stop()


def js(driver: Any, expression: str) -> Any:
    return driver.execute_script(f"return {expression};")


def view(driver: Any, size: str) -> None:
    """The viewport of a phone (mobile, honouring the page's viewport tag) or a desktop."""
    width, height = SIZES[size]
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": size == "phone"},
    )


def top(driver: Any, element_id: str) -> float:
    """Where the element starts on the page (document coordinates)."""
    return float(
        js(
            driver,
            f"document.getElementById({element_id!r}).getBoundingClientRect().top + scrollY",
        )
    )


def words(driver: Any, css: str) -> str:
    """What a person reads in the element, read afresh (live updates replace elements)."""
    return str(js(driver, f"document.querySelector({css!r}).innerText"))


def no_sideways_scroll(driver: Any) -> bool:
    return bool(js(driver, "document.documentElement.scrollWidth <= innerWidth"))


def each_size(driver: Any, shots: Path, name: str, at: str = "") -> None:
    """At both sizes: nothing scrolls sideways; a screenshot of each (of element ``at``)."""
    for size in SIZES:
        view(driver, size)
        if at:
            js(driver, f"document.getElementById({at!r}).scrollIntoView()")
        else:
            js(driver, "window.scrollTo(0, 0)")
        assert no_sideways_scroll(driver), f"{name} scrolls sideways at {size}"
        driver.save_screenshot(str(shots / f"{name}-{size}.png"))
    view(driver, "phone")


def test_pairing_first_then_a_red_key_sos_appears_live_on_top_and_leaves_when_closed(
    live_server: LiveServer, seeded: World, box: BoxProcess, shots: Path
) -> None:
    elder = seeded.elder_a.id
    box.start()
    code = box.wait_state("a pairing code", link_state="pairing")["pairing_code"]
    with chromium("en") as page:
        view(page, "phone")
        log_in(page, live_server, seeded.family_a.email)
        page.get(f"{live_server.url}/family?lang=en")
        # No box yet: pairing is the first thing, above the elder's today and the panels.
        assert top(page, "pair") < top(page, f"elder-{elder}") < top(page, "panels")
        assert page.find_element(By.ID, "pair-code").is_displayed()
        each_size(page, shots, "1-pair-first")

        page.find_element(By.ID, "pair-code").send_keys(code)
        submit(page, "pair-submit")
        box.wait_state("home, online", screen="home", link_state="online")
        wait_until(
            lambda: (
                page.find_element(By.ID, f"box-state-{elder}").get_attribute("data-state")
                == "online"
            ),
            20,
            "the glance showing the box online",
        )
        assert not page.find_elements(By.CSS_SELECTOR, ".pair-first")
        assert top(page, f"elder-{elder}") < top(page, "panels")
        closed = js(page, "[...document.querySelectorAll('details.panel')].every(d => !d.open)")
        assert closed, "a panel opened by itself"
        each_size(page, shots, "2-home-calm")

        # The elder presses the red key; the open page shows the SOS without a reload.
        wait_until(
            lambda: page.find_element(By.TAG_NAME, "body").get_attribute("data-live") == "on"
        )
        js(page, "window.notReloaded = true")
        box.press(KEYCODE_FOR[RemoteAction.RED])
        banner = wait_until(
            lambda: page.find_elements(By.CSS_SELECTOR, "#urgent .banner-sos"),
            20,
            "the SOS banner on the open page",
        )[0]
        alert_id = banner.get_attribute("data-alert-id")
        assert js(page, "window.notReloaded === true")
        assert "SOS from" in banner.text and "Call now" in banner.text
        assert top(page, f"urgent-sos-{alert_id}") < top(page, f"elder-{elder}")
        assert top(page, f"elder-{elder}") < top(page, "panels")
        each_size(page, shots, "3-sos-banner")

        # "See on the map" opens the alerts panel at the alert.
        click(page, f"#urgent-sos-map-{alert_id}")
        wait_until(
            lambda: page.find_element(By.ID, f"sos-alert-{alert_id}").is_displayed(),
            10,
            "the alert in its panel",
        )
        assert js(page, "document.getElementById('panel-sos').open")

        # The care centre closes the alert: the banner goes, still without a reload.
        operator = live_server.login(seeded.operator_a.email, PASSWORD)
        response = operator.post(
            f"/api/sos/alerts/{alert_id}/resolve", json={"outcome": "help_given", "note": ""}
        )
        assert response.status_code == 200, response.text
        wait_until(
            lambda: not page.find_elements(By.CSS_SELECTOR, "#urgent .banner-sos"),
            20,
            "the SOS banner gone",
        )
        assert js(page, "window.notReloaded === true")
        # The panel the family opened stays open through the live update.
        assert js(page, "document.getElementById('panel-sos').open")

        # "Video call" on the glance rings the TV at once: no second button to press.
        click(page, f"#glance-call-{elder}")
        ringing = box.wait_state("ringing from the home's call link", timeout=15, screen="call")
        assert ringing["call"]["phase"] == "ringing"
        assert js(page, "location.search") == ""  # a reload will not ring again
        assert not page.find_element(By.ID, "start-call").is_displayed()
        box.press(KEYCODE_FOR[RemoteAction.BACK])  # the elder declines
        wait_until(lambda: js(page, "window.anxinCall.ended") == "declined", 15, "declined")
        assert page.find_element(By.ID, "start-call").is_displayed()  # to try again


def seed_missed_0800(db_url: str, world: World) -> None:
    """Elder A (Shanghai) has a box and a plan at 08:00 and 20:00; today's 08:00 was missed."""
    database = Database(db_url)
    today = datetime.now(UTC).astimezone(SHANGHAI).date()
    local = datetime.combine(today, time(8, 0))
    since = datetime.now(UTC) - timedelta(days=3)
    with database.session() as db:
        make_device(db, world.elder_a)
        plan = MedicationPlan(
            elder_id=world.elder_a.id,
            medicine="Metformin",
            schedule=Schedule(
                times=(time(8, 0), time(20, 0)), start_date=today - timedelta(days=3)
            ).model_dump_json(),
            window_minutes=30,
            status=PlanStatus.ACTIVE,
            active_since=since,
            created_at=since,
            updated_at=since,
        )
        db.add(plan)
        db.flush()
        at = local.replace(tzinfo=SHANGHAI).astimezone(UTC)
        record_outcome(db, plan, local, at, DoseOutcome.MISSED, None)
    database.dispose()


def family_home_in(page: Any, zone: str, live_server: LiveServer, world: World) -> None:
    """The family home in a Chromium whose clock is in ``zone`` (zone.js reports it)."""
    page.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": zone})
    view(page, "phone")
    log_in(page, live_server, world.family_a.email)
    page.get(f"{live_server.url}/family?lang=en")
    assert js(page, "Intl.DateTimeFormat().resolvedOptions().timeZone") == zone
    # The socket's welcome redraws the live region once: read the page after that.
    wait_until(lambda: int(js(page, "document.body.dataset.liveUpdates")) >= 1, 15, "live")


def test_a_missed_dose_banner_in_beijing_time_for_a_daughter_in_london(
    live_server: LiveServer, seeded: World, db_url: str, shots: Path
) -> None:
    seed_missed_0800(db_url, seeded)
    elder = seeded.elder_a.id
    with chromium("en") as page:
        family_home_in(page, "Europe/London", live_server, seeded)
        banner = words(page, f"#urgent-dose-{elder}")
        assert "missed a medicine today" in banner
        assert "Metformin · 08:00" in banner and "(Beijing time)" in banner
        assert top(page, f"urgent-dose-{elder}") < top(page, f"elder-{elder}")
        assert "1 missed" in words(page, f"#glance-doses-{elder}")
        href = js(page, f"document.getElementById('urgent-dose-call-{elder}').href")
        assert href.endswith(f"/family/call/{elder}?start=1")
        each_size(page, shots, "4-missed-dose-london")

        # The medicines panel, opened from the banner: 08:00 again, and the 4-week chart
        # shrinks to the phone's width.
        click(page, f"#urgent-dose-{elder} a[href='#med-{elder}']")
        wait_until(lambda: js(page, "document.getElementById('panel-reminders').open"))
        dose = words(page, f"#doses-{elder} li.dose[data-state='missed']")
        assert dose.startswith("08:00 Metformin")
        chart = float(
            js(page, f"document.getElementById('adherence-{elder}').getBoundingClientRect().width")
        )
        assert chart <= 390
        each_size(page, shots, "5-medicines-open-london", at="panel-reminders")

    with chromium("en") as page:
        family_home_in(page, "Asia/Shanghai", live_server, seeded)
        banner = words(page, f"#urgent-dose-{elder}")
        assert "Metformin · 08:00" in banner and "Beijing time" not in banner
        assert "Beijing time" not in words(page, "#family-live")
        page.get(f"{live_server.url}/family?lang=zh")
        banner = words(page, f"#urgent-dose-{elder}")
        assert "漏服" in banner and "08:00" in banner and "北京时间" not in banner
        each_size(page, shots, "6-missed-dose-shanghai-zh")
