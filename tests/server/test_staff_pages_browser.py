"""Staff pages in real Chromium at phone (390×844) and desktop (1280×900) size: the doctor goes
from the clinic's list to an elder's record, where a consult reads in the clinic's time (Beijing)
with no "UTC"; the administrator lands on their own home. Screenshots: /tmp/shots/wt-doctor/."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from protocol import CallKind
from server.core.db import Database
from server.models import Call, CallStatus, Clinic
from tests.server.test_pages import log_in, text
from tests.support.browser import chromium, click, save
from tests.support.live_server import LiveServer
from tests.support.waiting import wait_until
from tests.support.world import World, make_device

pytestmark = pytest.mark.e2e
SHOTS = Path("/tmp/shots/wt-doctor")
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}
CONSULT_AT = datetime(2026, 2, 1, 2, 0, tzinfo=UTC)  # 10:00 in Beijing


@pytest.fixture
def with_consult(db_url: str, seeded: World) -> World:
    """Clinic A in Beijing time, and one consult of elder A with notes."""
    database = Database(db_url)
    with database.session() as db:
        clinic = db.get(Clinic, seeded.clinic_a.id)
        assert clinic is not None
        clinic.timezone = "Asia/Shanghai"
        _, device_id = make_device(db, seeded.elder_a)
        db.add(
            Call(
                kind=CallKind.CONSULT,
                status=CallStatus.ENDED,
                elder_id=seeded.elder_a.id,
                device_id=device_id,
                clinic_id=seeded.clinic_a.id,
                user_id=seeded.doctor_a.id,
                requested_at=CONSULT_AT,
                answered_at=CONSULT_AT + timedelta(minutes=1),
                ended_at=CONSULT_AT + timedelta(minutes=9),
                notes="Blood pressure 150/90. Keep amlodipine 5 mg.",
                outcome="Review in two weeks",
            )
        )
    database.dispose()
    return seeded


def shoot(driver, name: str) -> None:  # type: ignore[no-untyped-def]
    """Screenshots at both sizes, each tall enough for the whole page."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for size, (width, height) in SIZES.items():
        driver.set_window_size(width, height)
        full = driver.execute_script("return document.body.scrollHeight")
        driver.set_window_size(width, min(max(height, full + 140), 4000))
        save(driver, SHOTS, f"{name}-{size}")
    driver.set_window_size(*SIZES["desktop"])


# What sticks out to the right of the window, for the message of a failed `no_overflow`.
WIDEST = """return Array.from(document.querySelectorAll('body *'))
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
  .slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className + ' '
  + Math.round(e.getBoundingClientRect().right)).join('; ')"""


def shown(driver, element_id: str) -> str:  # type: ignore[no-untyped-def]
    """The text of an element of a live region, found afresh until a redraw is not under way."""
    return wait_until(lambda: driver.find_element(By.ID, element_id).text, what=element_id)


def no_overflow(driver) -> bool:  # type: ignore[no-untyped-def]
    """Nothing on the page is wider than the window (no sideways scrolling on a phone)."""
    return bool(
        driver.execute_script(
            "return document.documentElement.scrollWidth <= window.innerWidth + 1"
        )
    )


@pytest.mark.parametrize("size", sorted(SIZES))
def test_the_doctor_goes_from_the_list_to_a_record_in_the_clinics_time(
    with_consult: World, live_server: LiveServer, size: str
) -> None:
    world = with_consult
    with chromium() as driver:
        driver.set_window_size(*SIZES[size])
        log_in(driver, live_server, world.doctor_a.email)
        wait_until(lambda: driver.current_url.endswith("/doctor"), what="doctor home")
        # The list is a live region (redrawn on updates): each look finds the row afresh.
        wait_until(
            lambda: (
                "2026-02-01 10:00" in driver.find_element(By.ID, f"elder-{world.elder_a.id}").text
            ),
            what="the last consult at the clinic's time",
        )
        assert world.elder_b.name not in text(driver)
        assert "UTC" not in text(driver)
        assert no_overflow(driver)
        if size == "desktop":
            shoot(driver, "doctor-list")
        click(driver, f"#elder-{world.elder_a.id} a.elder-name")
        wait_until(
            lambda: driver.current_url.endswith(f"/doctor/elders/{world.elder_a.id}"),
            what="the record",
        )
        consults = shown(driver, "record-consults")
        assert "2026-02-01 10:00" in consults
        assert "Blood pressure 150/90. Keep amlodipine 5 mg." in consults
        assert "Review in two weeks" in consults
        assert "No medicines yet." in shown(driver, "record-medicines")
        assert "No SOS yet." in shown(driver, "record-sos")
        assert "UTC" not in text(driver)
        assert no_overflow(driver)
        if size == "desktop":
            shoot(driver, "doctor-record")
            driver.get(f"{live_server.url}/doctor/elders/{world.elder_a.id}?lang=zh")
            wait_until(lambda: "尚无紧急求助。" in text(driver), what="the record in Chinese")
            shoot(driver, "doctor-record-zh")
        logs = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert logs == []


def test_the_admin_lands_on_their_own_home(seeded: World, live_server: LiveServer) -> None:
    with chromium() as driver:
        driver.set_window_size(*SIZES["desktop"])
        log_in(driver, live_server, seeded.admin.email)
        wait_until(lambda: driver.current_url.endswith("/admin"), what="admin home")
        counts = shown(driver, "admin-counts")
        for words in ("Service areas", "Clinics", "Staff", "TV boxes online", "Open SOS"):
            assert words in counts, words
        for link in ("nav-areas", "nav-clinics", "nav-staff", "nav-audit"):
            assert driver.find_element(By.ID, link).is_displayed()
        assert not driver.find_elements(By.ID, "sos-board"), "not the operator's board"
        assert no_overflow(driver)
        driver.set_window_size(*SIZES["phone"])
        assert no_overflow(driver), driver.execute_script(WIDEST)
        driver.set_window_size(*SIZES["desktop"])
        shoot(driver, "admin-home")
        driver.get(f"{live_server.url}/admin/clinics/{seeded.clinic_a.id}")
        zones = shown(driver, "timezone")
        assert "Beijing time · Asia/Shanghai" in zones and "Another zone" in zones
        driver.set_window_size(*SIZES["phone"])
        assert no_overflow(driver), driver.execute_script(WIDEST)
        driver.set_window_size(*SIZES["desktop"])
        shoot(driver, "admin-clinic-form")
        # A page of another role says so in the viewer's language and leads home.
        driver.get(f"{live_server.url}/doctor?lang=zh")
        assert "此页面不适用于您的角色" in text(driver)
        driver.find_element(By.ID, "error-home").click()
        wait_until(lambda: driver.current_url.endswith("/admin"), what="back home")
