"""From an empty database to a working service, in Chromium, as a city programme starts.

The set-up page makes the first administrator; the administrator creates an area (on the
map), a clinic, a doctor and an operator; the operator sets a password from the e-mail a
real local SMTP server received, imports 1,000 elders from a CSV file (some rows bad, each
reported), and invites a daughter; she accepts from her e-mail, pairs a real TV box process,
and the box greets her mother. Screenshots at each step (artifacts/screenshots/onboarding-*).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.server.test_pages import log_in, submit, text
from tests.support.box import BoxProcess
from tests.support.browser import chromium, save
from tests.support.live_server import LiveServer
from tests.support.smtp import Mailbox, smtp_server
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e
ADMIN_PASSWORD = "copper kettle winter 19"
OPERATOR_PASSWORD = "amber violin harbour 42"
DAUGHTER_PASSWORD = "quiet river lantern 77"
MOTHER = "周桂兰"
ROWS = 1000
# Line numbers (the header is line 1) of the bad rows, and what the report must say of them.
BAD = {
    11: ("name", ""),  # no name
    222: ("birth_year", "1700"),
    333: ("latitude", "91"),
    444: ("register_ref", "R00100"),  # the number of line 101's row again
    555: ("lang", "fr"),
}


def register_csv(path: Path) -> Path:
    """A city's register: ROWS elders of one area, a few of them wrong."""
    header = ["register_ref", "name", "phone", "birth_year", "lang", "address", "latitude",
              "longitude", "lives_alone", "clinic", "care_notes"]  # fmt: skip
    rows = []
    for i in range(1, ROWS + 1):
        line = i + 1
        row = {
            "register_ref": f"R{i:05d}",
            "name": MOTHER if i == 1 else f"居民{i:04d}",
            "phone": f"1390000{i:04d}",
            "birth_year": str(1930 + i % 30),
            "lang": "zh",
            "address": f"海淀区学院路{i}号",
            "latitude": f"{39.95 + (i % 50) / 1000:.4f}",
            "longitude": f"{116.33 + (i % 40) / 1000:.4f}",
            "lives_alone": "是" if i % 3 == 0 else "否",
            "clinic": "学院路社区卫生服务中心",
            "care_notes": "",
        }
        if line in BAD:
            field, value = BAD[line]
            row[field] = value
        rows.append(row)
    with path.open("w", newline="", encoding="utf-8-sig") as f:  # with a BOM, as Excel saves
        writer = csv.DictWriter(f, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def link_in(mailbox: Mailbox, count: int, to: str, path: str) -> str:
    """The link to ``path`` in the e-mail to ``to`` (once ``count`` e-mails arrived)."""
    for mail in mailbox.wait(count):
        if to in str(mail["To"]):
            found = re.search(rf"(http://\S+{path}/\S+)", mail.get_content())
            assert found, mail.get_content()
            return found.group(1)
    raise AssertionError(f"no e-mail to {to}")


def click_map(driver, map_id: str, lat_id: str) -> float:  # type: ignore[no-untyped-def]
    wait_until(
        lambda: (
            driver.find_element(By.ID, map_id).get_attribute("data-ready") == "1"
            or driver.find_elements(By.CSS_SELECTOR, f"#{map_id}.leaflet-container")
        ),
        what="the map",
    )
    ActionChains(driver).move_to_element_with_offset(
        driver.find_element(By.ID, map_id), 30, -20
    ).click().perform()
    field = driver.find_element(By.ID, lat_id)
    wait_until(lambda: field.get_attribute("value") != "", what="a place picked on the map")
    return float(field.get_attribute("value") or "0")


def test_from_an_empty_database_to_a_paired_box(
    db_url: str, tmp_path: Path, screenshots: Path
) -> None:
    with smtp_server() as (mailbox, port):
        server = LiveServer(
            db_url=db_url,
            data_dir=tmp_path / "server",
            extra_env={"ANXIN_SMTP_HOST": "127.0.0.1", "ANXIN_SMTP_PORT": str(port)},
        )
        server.start()
        box = BoxProcess(tmp_path / "box", server.url, lang="zh")
        try:
            run(server, mailbox, box, tmp_path, screenshots)
        finally:
            box.stop()
            server.stop()


def run(server: LiveServer, mailbox: Mailbox, box: BoxProcess, tmp_path: Path, shots: Path) -> None:
    # --- the administrator: set-up page, then an area, a clinic, a doctor, an operator ---
    with chromium() as admin:
        admin.get(f"{server.url}/?lang=zh")
        wait_until(lambda: admin.current_url.endswith("/setup"), what="the set-up page")
        save(admin, shots, "onboarding-1-setup")
        admin.find_element(By.ID, "setup-name").send_keys("张敏")
        admin.find_element(By.ID, "setup-email").send_keys("chief@city.example")
        admin.find_element(By.ID, "setup-password").send_keys(ADMIN_PASSWORD)
        admin.find_element(By.ID, "setup-repeat").send_keys(ADMIN_PASSWORD)
        submit(admin, "setup-submit")
        wait_until(lambda: admin.current_url.endswith("/admin"), what="the admin home")
        save(admin, shots, "onboarding-2-admin-home")

        admin.get(f"{server.url}/admin/areas/new")
        admin.find_element(By.ID, "name").send_keys("学院路街道")
        click_map(admin, "map", "centre_latitude")
        submit(admin, "save")
        assert "学院路街道" in text(admin)

        admin.get(f"{server.url}/admin/clinics/new")
        admin.find_element(By.ID, "name").send_keys("学院路社区卫生服务中心")
        admin.find_element(By.ID, "phone").send_keys("010-62300000")
        click_map(admin, "map", "latitude")
        submit(admin, "save")
        assert "学院路社区卫生服务中心" in text(admin)

        for role, name, email, select, organisation in (
            ("doctor", "李医生", "doctor.li@city.example", "organisation_clinic",
             "学院路社区卫生服务中心"),
            ("operator", "王坐席", "operator.wang@city.example", "organisation_area",
             "学院路街道"),
        ):  # fmt: skip
            admin.get(f"{server.url}/admin/staff/new")
            Select(admin.find_element(By.ID, "role")).select_by_value(role)
            admin.find_element(By.ID, "name").send_keys(name)
            admin.find_element(By.ID, "email").send_keys(email)
            Select(admin.find_element(By.ID, select)).select_by_visible_text(organisation)
            submit(admin, "save")
            assert admin.find_element(By.ID, "created").is_displayed()
        save(admin, shots, "onboarding-3-staff-created")
        admin.get(f"{server.url}/admin/staff")
        assert "李医生" in text(admin) and "王坐席" in text(admin)

    # --- the operator: set a password from the e-mail, import the register, invite ---
    set_password = link_in(mailbox, 2, "operator.wang@city.example", "/reset-password")
    csv_file = register_csv(tmp_path / "register.csv")
    with chromium() as operator:
        operator.get(set_password)
        operator.find_element(By.ID, "reset-new").send_keys(OPERATOR_PASSWORD)
        operator.find_element(By.ID, "reset-repeat").send_keys(OPERATOR_PASSWORD)
        submit(operator, "reset-submit")
        log_in(operator, server, "operator.wang@city.example", OPERATOR_PASSWORD)
        wait_until(lambda: operator.current_url.endswith("/operator"), what="the operator home")

        operator.get(f"{server.url}/elders/import")
        operator.find_element(By.ID, "file").send_keys(str(csv_file))
        save(operator, shots, "onboarding-4-import")
        submit(operator, "import")
        counts = {k: operator.find_element(By.ID, k).text for k in ("created", "refused")}
        refused = operator.find_element(By.ID, "refused-rows").text
        assert counts == {"created": str(ROWS - len(BAD)), "refused": str(len(BAD))}, refused
        refused = operator.find_element(By.ID, "refused-rows").text
        for line in BAD:
            assert re.search(rf"^{line}\b", refused, re.M), (line, refused)
        save(operator, shots, "onboarding-5-import-report")

        # The same file again changes nothing.
        operator.get(f"{server.url}/elders/import")
        operator.find_element(By.ID, "file").send_keys(str(csv_file))
        submit(operator, "import")
        assert operator.find_element(By.ID, "unchanged").text == str(ROWS - len(BAD))
        assert operator.find_element(By.ID, "created").text == "0"

        operator.get(f"{server.url}/elders?q={MOTHER}")
        row = operator.find_element(By.CSS_SELECTOR, "#elders [id^='elder-']")
        elder_id = int((row.get_attribute("id") or "").removeprefix("elder-"))
        save(operator, shots, "onboarding-6-elders")
        operator.get(f"{server.url}/elders/{elder_id}/family")
        operator.find_element(By.ID, "invite-email").send_keys("daughter@family.example")
        Select(operator.find_element(By.ID, "invite-relation")).select_by_value("daughter")
        Select(operator.find_element(By.ID, "invite-lang")).select_by_value("zh")
        submit(operator, "invite-submit")
        wait_until(lambda: "daughter@family.example" in text(operator), what="invitation")
        save(operator, shots, "onboarding-7-invited")

    # --- the daughter: accept from the e-mail, pair the TV box, see her mother ---
    invitation = link_in(mailbox, 3, "daughter@family.example", "/invite")
    box.start()
    code = box.wait_state("a pairing code", link_state="pairing")["pairing_code"]
    with chromium(lang="zh") as daughter:
        daughter.set_window_size(390, 844)  # on her phone
        daughter.get(invitation)
        # In the language the operator invited her in (the link carries it).
        assert MOTHER in text(daughter) and "创建账户并接受" in text(daughter), text(daughter)
        daughter.find_element(By.ID, "accept-name").send_keys("周丽")
        daughter.find_element(By.ID, "accept-password").send_keys(DAUGHTER_PASSWORD)
        daughter.find_element(By.ID, "accept-repeat").send_keys(DAUGHTER_PASSWORD)
        save(daughter, shots, "onboarding-8-accept-phone")
        submit(daughter, "accept-submit")
        wait_until(lambda: daughter.current_url.endswith("/family"), what="the family home")
        assert MOTHER in text(daughter) and "居民0002" not in text(daughter)
        daughter.find_element(By.ID, "pair-code").send_keys(code)
        # Her one elder has no box: the pairing form is for her, nothing to choose.
        assert daughter.find_element(By.ID, "pair-elder").get_attribute("value") == str(elder_id)
        submit(daughter, "pair-submit")
        save(daughter, shots, "onboarding-9-paired-phone")
    home = box.wait_state("home, online", screen="home", link_state="online")
    assert home["elder"]["name"] == MOTHER
    box.screenshot(shots / "onboarding-10-tv-home.png")
