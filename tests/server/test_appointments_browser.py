"""Appointments in real Chromium: the daughter books her mother's visit on a phone and the
doctor's open day list shows it at once (live, no reload); the doctor marks it arrived; the
clinic's staff close the day and the family's inbox (a local SMTP server) gets the e-mail;
the hotline operator books for a caller. Screenshots: /tmp/shots/wt-pages/."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from selenium.webdriver.common.by import By
from sqlalchemy import select

from protocol import Role
from server.core.db import Database
from server.models import Appointment, AppointmentStatus, Slot, User
from tests.server.test_accessibility import add_clinic_week
from tests.server.test_pages import log_in, submit, text
from tests.support.browser import chromium, click, reveal, save
from tests.support.live_server import LiveServer
from tests.support.smtp import Mailbox, smtp_server
from tests.support.waiting import wait_until
from tests.support.world import World, make_user

pytestmark = pytest.mark.e2e
SHOTS = Path("/tmp/shots/wt-pages")
PHONE, DESKTOP = (390, 844), (1280, 900)
SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass
class Clinic:
    server: LiveServer
    mailbox: Mailbox
    world: World
    staff: User
    slots: list[int]
    db_url: str

    def visit_of(self, slot_id: int) -> Appointment | None:
        database = Database(self.db_url)
        try:
            with database.session() as db:
                visit = db.scalar(select(Appointment).where(Appointment.slot_id == slot_id))
                if visit is not None:
                    db.expunge(visit)
                return visit
        finally:
            database.dispose()

    def day_of(self, slot_id: int) -> str:
        database = Database(self.db_url)
        try:
            with database.session() as db:
                slot = db.get(Slot, slot_id)
                assert slot is not None
                return slot.starts_at.astimezone(SHANGHAI).date().isoformat()
        finally:
            database.dispose()


@pytest.fixture
def clinic(db_url: str, seeded: World, tmp_path: Path) -> Iterator[Clinic]:
    database = Database(db_url)
    with database.session() as db:
        slots = add_clinic_week(db, seeded)
        staff = make_user(db, Role.CLINIC_STAFF, clinic_id=seeded.clinic_a.id)
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
            yield Clinic(server, mailbox, seeded, staff, slots, db_url)
        finally:
            server.stop()


def shoot(driver: Any, name: str) -> None:
    """The page at phone and desktop size, each tall enough for all of it."""
    for size, (width, height) in (("phone", PHONE), ("desktop", DESKTOP)):
        driver.set_window_size(width, height)
        full = driver.execute_script("return document.body.scrollHeight")
        driver.set_window_size(width, min(max(height, full + 140), 4000))
        save(driver, SHOTS, f"{name}-{size}")


def live(driver: Any) -> bool:
    return bool(driver.find_element(By.TAG_NAME, "body").get_attribute("data-live") == "on")


def test_family_books_on_a_phone_and_the_doctors_day_list_shows_it_live(
    clinic: Clinic,
) -> None:
    world, server = clinic.world, clinic.server
    slot_id = clinic.slots[0]
    day = clinic.day_of(slot_id)
    with chromium() as doctor, chromium() as daughter:
        doctor.set_window_size(*DESKTOP)
        log_in(doctor, server, world.doctor_a.email)
        doctor.get(f"{server.url}/clinic?day={day}&lang=en")
        wait_until(lambda: live(doctor), what="the doctor's page live")
        assert "visit-" not in (
            doctor.find_element(By.ID, "clinic-day-live").get_attribute("innerHTML") or ""
        )

        daughter.set_window_size(*PHONE)
        log_in(daughter, server, world.family_a.email)
        daughter.get(f"{server.url}/family?lang=en")
        reveal(daughter, f"book-{world.elder_a.id}")
        shoot(daughter, "family-visits-empty")
        daughter.set_window_size(*PHONE)
        click(daughter, f"#book-{world.elder_a.id}")
        click(daughter, "#department-gp")
        click(daughter, f"#clinic-{world.clinic_a.id}")
        click(daughter, f"#day-{day}")
        wait_until(lambda: daughter.find_elements(By.ID, f"slot-{slot_id}"), what="the times")
        shoot(daughter, "book-times")
        daughter.set_window_size(*PHONE)
        submit(daughter, f"slot-{slot_id}")
        assert "kept for you until" in text(daughter)
        shoot(daughter, "book-confirm")
        daughter.set_window_size(*PHONE)
        submit(daughter, "confirm-button")
        assert "The visit is booked" in text(daughter)
        shoot(daughter, "booked")

        visit = clinic.visit_of(slot_id)
        assert visit is not None and visit.status is AppointmentStatus.BOOKED
        # The doctor did nothing: the open day list shows the new visit.
        wait_until(lambda: doctor.find_elements(By.ID, f"visit-{visit.id}"), what="the visit, live")
        assert "王秀英" in doctor.find_element(By.ID, f"visit-{visit.id}").text
        shoot(doctor, "clinic-day")
        # Back on the family page, the visit is listed with Move and Cancel.
        daughter.get(f"{server.url}/family?lang=en")
        reveal(daughter, f"visit-{visit.id}")
        assert daughter.find_element(By.ID, f"move-{visit.id}").is_displayed()
        shoot(daughter, "family-visits")
        # The travel time to the clinic: a wrong value is refused beside the field.
        daughter.set_window_size(*PHONE)
        field = f"travel-{world.elder_a.id}"
        daughter.find_element(By.ID, field).send_keys("1h")
        submit(daughter, f"travel-save-{world.elder_a.id}")
        error = daughter.find_element(By.ID, f"travel-error-{world.elder_a.id}")
        assert error.is_displayed() and "0 to 240" in error.text
        assert daughter.find_element(By.ID, field).get_attribute("value") == "1h"
        shoot(daughter, "family-travel-error")
        daughter.set_window_size(*PHONE)
        daughter.find_element(By.ID, field).clear()
        daughter.find_element(By.ID, field).send_keys("45")
        submit(daughter, f"travel-save-{world.elder_a.id}")
        reveal(daughter, field)
        assert daughter.find_element(By.ID, field).get_attribute("value") == "45"
        assert not daughter.find_elements(By.ID, f"travel-error-{world.elder_a.id}")


def test_clinic_staff_close_a_day_and_the_family_is_emailed(clinic: Clinic) -> None:
    world, server = clinic.world, clinic.server
    slot_id = clinic.slots[0]
    with server.login(world.family_a.email, "correct horse battery") as api:
        booked = api.post(
            "/api/appointments",
            json={"slot_id": slot_id, "elder_id": world.elder_a.id, "idempotency_key": "b-1"},
        )
        assert booked.status_code == 201, booked.text
    day = clinic.day_of(slot_id)
    with chromium() as staff:
        staff.set_window_size(*DESKTOP)
        log_in(staff, server, clinic.staff.email)
        wait_until(lambda: "/clinic" in staff.current_url, what="the day list as home")
        staff.get(f"{server.url}/clinic/hours?lang=en")
        # A closure that ends before it starts is refused on the form, with what was typed.
        set_value(staff, "closure-start", f"{day}T12:00")
        set_value(staff, "closure-end", f"{day}T08:00")
        submit(staff, "closure-add")
        assert staff.find_element(By.ID, "closure-err").is_displayed()
        assert staff.find_element(By.ID, "closure-start").get_attribute("value") == f"{day}T12:00"
        shoot(staff, "clinic-hours-error")
        staff.set_window_size(*DESKTOP)
        set_value(staff, "closure-start", f"{day}T00:00")
        set_value(staff, "closure-end", f"{day}T23:59")
        staff.find_element(By.ID, "closure-reason").send_keys("Staff training")
        submit(staff, "closure-add")
        assert "told by e-mail: 1." in staff.find_element(By.ID, "told").text
        shoot(staff, "clinic-hours-closed")
    mails = clinic.mailbox.wait(1)
    mail = next(m for m in mails if m["To"] == world.family_a.email)
    assert "Staff training" in mail.get_content()
    visit = clinic.visit_of(slot_id)
    assert visit is not None and visit.status is AppointmentStatus.CANCELLED


def test_the_hotline_books_for_a_caller(clinic: Clinic) -> None:
    world, server = clinic.world, clinic.server
    slot_id = clinic.slots[1]
    day = clinic.day_of(slot_id)
    with chromium() as operator:
        operator.set_window_size(*DESKTOP)
        log_in(operator, server, world.operator_a.email)
        operator.get(f"{server.url}/operator?lang=en")
        click(operator, "#hotline-book")
        operator.find_element(By.ID, "q").send_keys("王")
        submit(operator, "search-elder")
        shoot(operator, "hotline-search")
        operator.set_window_size(*DESKTOP)
        click(operator, f"#elder-{world.elder_a.id}")
        click(operator, "#department-gp")
        click(operator, f"#clinic-{world.clinic_a.id}")
        click(operator, f"#day-{day}")
        wait_until(lambda: operator.find_elements(By.ID, f"slot-{slot_id}"), what="the times")
        click(operator, "#kind-video")
        submit(operator, f"slot-{slot_id}")
        assert "video visit" in operator.find_element(By.ID, "confirm-kind").text
        submit(operator, "confirm-button")
        assert "The visit is booked" in text(operator)
    visit = clinic.visit_of(slot_id)
    assert visit is not None and visit.kind.value == "video"
    mail = clinic.mailbox.wait(1)[0]
    assert mail["To"] == world.family_a.email and "/family#appointments-" in mail.get_content()


def set_value(driver: Any, element_id: str, value: str) -> None:
    """Type into a date-time field as the browser's picker would."""
    driver.execute_script(
        "var el = document.getElementById(arguments[0]); el.value = arguments[1];"
        "el.dispatchEvent(new Event('input', {bubbles: true}));",
        element_id,
        value,
    )
