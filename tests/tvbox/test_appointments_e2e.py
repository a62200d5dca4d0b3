"""Clinic appointments with a real box process and the real demo server: the TV books with
remote keys and the clinic's day list shows it; a visit booked by the family is shown and
spoken by the TV at once; a cancellation made offline reaches the server exactly once, across
a box restart."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.box import BoxProcess, paired_box
from tests.support.live_server import SHOTS, DemoServer
from tests.support.waiting import wait_until
from tvbox.ui.keys import KEYCODE_FOR, RemoteAction

pytestmark = pytest.mark.e2e
DOCTOR_LOGIN = ("doctor@demo.anxin", "demo-doctor")


def api(server: DemoServer, token: str, method: str, path: str, **kw: Any) -> Any:
    resp = httpx.request(
        method, server.url + path, headers={"Authorization": f"Bearer {token}"}, timeout=10, **kw
    )
    assert resp.status_code < 300, resp.text
    return resp.json()


def press(box: BoxProcess, action: RemoteAction) -> dict[str, Any]:
    return box.press(KEYCODE_FOR[action])


def spoken_since(box: BoxProcess, start: int) -> str:
    return " ".join(box.state()["spoken"][start:])


def answered(box: BoxProcess, title: str) -> dict[str, Any]:
    """Wait for the screen titled ``title`` to have its choices from the server."""

    def ready() -> dict[str, Any] | None:
        appts = box.state()["appointments"]
        return appts if appts["title"] == title and not appts["waiting"] else None

    return wait_until(ready, 15, f"the choices of {title!r}")


def test_the_tv_books_with_remote_keys_and_a_family_booking_is_said_at_once(
    box: BoxProcess, server: DemoServer
) -> None:
    family, elder = paired_box(box, server)
    # The demo elder's visits reach the box on connect.
    listed = wait_until(lambda: box.state()["appointments"]["visits"], 15, "the demo visits")
    state = press(box, RemoteAction.DIGIT_3)
    assert state["screen"] == "appointments"
    appts = state["appointments"]
    assert appts["title"] == "我的预约" and appts["choices"][-1] == "预约看病"
    assert len(appts["choices"]) == len(listed) + 1
    box.screenshot(SHOTS / "appointments-box-list-zh.png")
    # Book a visit with the remote: the last choice, then the first of every step.
    press(box, RemoteAction(f"digit_{len(listed) + 1}"))
    departments = answered(box, "看什么科？")
    assert 1 <= len(departments["choices"]) <= 6
    press(box, RemoteAction.DIGIT_1)
    answered(box, "去哪家诊所？")
    press(box, RemoteAction.OK)
    answered(box, "哪一天？")
    press(box, RemoteAction.OK)
    answered(box, "上午还是下午？")
    press(box, RemoteAction.OK)  # morning: the demo's general practice opens mornings
    times = answered(box, "几点？")
    assert times["choices"]
    said = len(box.state()["spoken"])
    press(box, RemoteAction.OK)
    confirm = box.wait_state("the confirm screen", screen="appt_confirm")
    wait_until(lambda: "请确认您的预约" in spoken_since(box, said), 15, "the confirm, spoken")
    assert confirm["appointments"]["title"] == "请确认"
    press(box, RemoteAction.OK)
    box.wait_state("booked, back on the list", screen="appointments")
    wait_until(lambda: "预约好了" in spoken_since(box, said), 15, "the booking, spoken")
    mine = wait_until(
        lambda: [v for v in box.state()["appointments"]["visits"] if v not in listed],
        10,
        "the new visit on the list",
    )
    # The clinic's day list shows what the TV booked.
    doctor = server.login(DOCTOR_LOGIN)
    clinic_id = api(server, family, "GET", f"/api/appointments/{mine[0]}")["clinic_id"]
    day_list = api(server, doctor, "GET", "/api/appointments", params={"clinic_id": clinic_id})
    booked = [v for v in day_list if v["id"] == mine[0]]
    assert booked and booked[0]["booked_by"] == "elder_box" and booked[0]["status"] == "booked"
    # The family books another: the TV shows it and says it at once.
    press(box, RemoteAction.HOME)
    said = len(box.state()["spoken"])
    free = api(server, family, "GET", "/api/appointments/slots", params={"department": "chronic"})
    body = {"slot_id": free[0]["id"], "elder_id": elder["id"], "idempotency_key": "family-e2e-1"}
    visit = api(server, family, "POST", "/api/appointments", json=body)
    box.wait_state("the family's visit on screen", screen="appointments")
    wait_until(lambda: visit["id"] in box.state()["appointments"]["visits"], 10, "the visit")
    wait_until(lambda: "已经为您预约了" in spoken_since(box, said), 10, "the new visit, spoken")
    box.screenshot(SHOTS / "appointments-box-family-booked-zh.png")


def test_a_cancellation_made_offline_is_applied_once_across_a_restart(
    box: BoxProcess, server: DemoServer
) -> None:
    family, elder = paired_box(box, server)
    visits = wait_until(lambda: box.state()["appointments"]["visits"], 15, "the demo visits")
    server.stop()
    box.wait_state("offline", link_state="offline")
    press(box, RemoteAction.DIGIT_3)
    state = press(box, RemoteAction.OK)  # the first visit: "Cancel this visit?"
    assert state["screen"] == "appt_cancel"
    press(box, RemoteAction.DOWN)
    state = press(box, RemoteAction.OK)  # "Yes, cancel it"
    assert state["outbox_pending"] == 1 and state["appointments"]["cancelling"] == [visits[0]]
    assert "电视一连上网，就会取消" in state["spoken"][-1]
    # Booking says plainly that it needs the connection.
    press(box, RemoteAction(f"digit_{min(len(visits), 5) + 1}"))
    assert "预约看病需要连网" in box.state()["spoken"][-1]
    # The box restarts in the middle of the outage; the cancellation survives it.
    assert box.stop() == 0
    again = box.start()
    assert again["outbox_pending"] == 1 and again["appointments"]["visits"] == visits
    server.start()
    box.wait_state("reconnected and flushed", timeout=30, link_state="online", outbox_pending=0)
    wait_until(
        lambda: visits[0] not in box.state()["appointments"]["visits"], 15, "the list without it"
    )
    one = api(server, family, "GET", f"/api/appointments/{visits[0]}")
    assert one["status"] == "cancelled"
    assert box.stop() == 0
    box.start()
    box.wait_state("online again", link_state="online", outbox_pending=0)
    actions = server.audit_actions(family, elder["id"])
    assert actions.count("appointment.cancelled") == 1
