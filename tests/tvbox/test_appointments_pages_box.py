"""The pages and the TV together: Chromium and a real box process on the demo server.

- The daughter books her mother's visit on the family page: the running TV shows and says it.
- The mother books with the remote: the clinic's day list, open in Chromium, shows it live.
- The hotline operator books for a caller on the operator page: the TV shows and says it.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By

from server.appointments.demo import DEPARTMENTS
from server.demo import DEMO_LOGINS
from tests.server.test_pages import log_in, submit, text
from tests.support.box import BoxProcess, paired_box
from tests.support.browser import chromium, click, reveal, save
from tests.support.live_server import SHOTS, DemoServer
from tests.support.waiting import wait_until
from tvbox.ui.keys import KEYCODE_FOR, RemoteAction

pytestmark = pytest.mark.e2e
FAMILY, DOCTOR, OPERATOR = (
    next(d for d in DEMO_LOGINS if d.email.startswith(who))
    for who in ("family1", "doctor", "operator")
)


def free_slots(server: DemoServer, token: str, **params: Any) -> list[dict[str, Any]]:
    resp = httpx.get(
        server.url + "/api/appointments/slots",
        params=params,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert resp.status_code == 200, resp.text
    return list(resp.json())


def new_visit(box: BoxProcess, known: list[int]) -> int:
    """The id of a visit on the TV's list that was not there before."""
    fresh = wait_until(
        lambda: [v for v in box.state()["appointments"]["visits"] if v not in known],
        15,
        "a new visit on the TV",
    )
    return int(fresh[0])


def said_since(box: BoxProcess, start: int, words: str) -> None:
    wait_until(
        lambda: words in " ".join(box.state()["spoken"][start:]), 15, f"the TV saying {words!r}"
    )


def book_on_page(driver: Any, elder_id: int, clinic_id: int, slot: dict[str, Any]) -> None:
    """From the department step on: department, clinic, day, time, confirm."""
    click(driver, f"#department-{slot['department_code']}")
    click(driver, f"#clinic-{clinic_id}")
    click(driver, f"#day-{slot['local_start'][:10]}")
    wait_until(lambda: driver.find_elements(By.ID, f"slot-{slot['id']}"), what="the times")
    submit(driver, f"slot-{slot['id']}")
    submit(driver, "confirm-button")
    assert "The visit is booked" in text(driver)


def test_family_page_and_hotline_bookings_reach_the_tv_and_the_tv_reaches_the_day_list(
    box: BoxProcess, server: DemoServer
) -> None:
    family_token, elder = paired_box(box, server)
    listed = wait_until(lambda: box.state()["appointments"]["visits"], 15, "the demo visits")
    gp = free_slots(server, family_token, department="gp")
    clinic_id = gp[0]["clinic_id"]

    # 1. The daughter books on the family page in Chromium; the TV shows it and says it.
    with chromium() as daughter:
        log_in(daughter, server, FAMILY.email, FAMILY.password)  # type: ignore[arg-type]
        daughter.get(f"{server.url}/family?lang=en")
        reveal(daughter, f"book-{elder['id']}")  # inside the closed visits panel
        click(daughter, f"#book-{elder['id']}")
        said = len(box.state()["spoken"])
        book_on_page(daughter, elder["id"], clinic_id, gp[-1])
    visit = new_visit(box, listed)
    said_since(box, said, "已经为您预约了")
    assert box.state()["screen"] == "appointments"
    box.screenshot(SHOTS / "appointments-box-family-page-booked-zh.png")
    listed = box.state()["appointments"]["visits"]

    # 2. The mother books with the remote; the doctor's day list (Chromium) shows it live.
    box.press(KEYCODE_FOR[RemoteAction.HOME])
    state = box.press(KEYCODE_FOR[RemoteAction.DIGIT_3])
    assert state["screen"] == "appointments"
    box.press(KEYCODE_FOR[RemoteAction(f"digit_{min(len(listed), 5) + 1}")])
    departments = wait_until(
        lambda: (
            (a := box.state()["appointments"])["title"] == "看什么科？" and not a["waiting"] and a
        ),
        15,
        "the departments",
    )
    first = departments["choices"][0]
    code = next(c for c, zh, _en in DEPARTMENTS if zh in first)
    day = free_slots(server, family_token, department=code, clinic=clinic_id)[0]["local_start"][:10]
    with chromium() as doctor:
        log_in(doctor, server, DOCTOR.email, DOCTOR.password)  # type: ignore[arg-type]
        doctor.get(f"{server.url}/clinic?day={day}&lang=en")
        wait_until(
            lambda: doctor.find_element(By.TAG_NAME, "body").get_attribute("data-live") == "on",
            what="the day list live",
        )
        before = doctor.find_element(By.ID, "clinic-day-live").get_attribute("innerHTML") or ""
        for title in ("看什么科？", "去哪家诊所？", "哪一天？", "上午还是下午？", "几点？"):
            wait_until(
                lambda t=title: (
                    (a := box.state()["appointments"])["title"] == t and not a["waiting"]
                ),
                15,
                f"the choices of {title}",
            )
            box.press(KEYCODE_FOR[RemoteAction.OK])
        box.wait_state("the confirm screen", screen="appt_confirm")
        said = len(box.state()["spoken"])
        box.press(KEYCODE_FOR[RemoteAction.OK])
        said_since(box, said, "预约好了")
        mine = new_visit(box, listed)
        assert f"visit-{mine}" not in before
        row = wait_until(
            lambda: doctor.find_elements(By.ID, f"visit-{mine}"), 15, "the TV's visit, live"
        )
        assert "王秀英" in row[0].text
        save(doctor, SHOTS, "clinic-day-tv-booked")
    listed = box.state()["appointments"]["visits"]

    # 3. The hotline operator books for the mother who phoned; the TV shows it and says it.
    box.press(KEYCODE_FOR[RemoteAction.HOME])
    taken = set(listed)
    slot = next(
        s
        for s in free_slots(server, family_token, department="chronic", clinic=clinic_id)
        if s["id"] not in taken
    )
    with chromium() as operator:
        log_in(operator, server, OPERATOR.email, OPERATOR.password)  # type: ignore[arg-type]
        operator.get(f"{server.url}/operator?lang=en")
        click(operator, "#hotline-book")
        operator.find_element(By.ID, "q").send_keys("王秀英")
        submit(operator, "search-elder")
        click(operator, f"#elder-{elder['id']}")
        said = len(box.state()["spoken"])
        book_on_page(operator, elder["id"], clinic_id, slot)
    hotline = new_visit(box, listed)
    assert hotline not in (visit, mine)
    said_since(box, said, "已经为您预约了")
    assert box.state()["screen"] == "appointments"
    box.screenshot(SHOTS / "appointments-box-hotline-booked-zh.png")
