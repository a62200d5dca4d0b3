"""Medication reminders with a real box process and a real server: fire, answer, offline,
restart mid-outage, exactly one record on the server.

Plans are created through the API with dose times a few seconds ahead (the API and protocol
carry seconds; the family form is minute-granular), so no test waits real minutes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.support.box import BoxProcess, paired_box
from tests.support.live_server import SHOTS, DemoServer
from tests.support.waiting import wait_until
from tvbox.ui.keys import KEYCODE_FOR, RemoteAction

pytestmark = pytest.mark.e2e


@pytest.fixture
def box_lang() -> str:
    return "en"


def api(server: DemoServer, token: str, method: str, path: str, **kw: Any) -> Any:
    resp = httpx.request(
        method, server.url + path, headers={"Authorization": f"Bearer {token}"}, timeout=10, **kw
    )
    assert resp.status_code < 300, resp.text
    return resp.json()


def local_times(elder: dict[str, Any], *seconds_ahead: float) -> list[str]:
    tz = ZoneInfo(elder["timezone"])
    now = datetime.now(UTC)
    return [(now + timedelta(seconds=s)).astimezone(tz).strftime("%H:%M:%S") for s in seconds_ahead]


def add_plan(
    server: DemoServer, token: str, elder: dict[str, Any], medicine: str, times: list[str]
) -> dict[str, Any]:
    today = datetime.now(UTC).astimezone(ZoneInfo(elder["timezone"])).date().isoformat()
    body = {
        "medicine": medicine,
        "strength": "5 mg",
        "dose": "1 tablet",
        "instructions": "after meals",
        "appearance": "small white round",
        "colour": "#3a7bd5",
        "schedule": {"times": times, "start_date": today},
    }
    return dict(
        api(server, token, "POST", f"/api/elders/{elder['id']}/medication-plans", json=body)
    )


def doses(server: DemoServer, token: str, elder_id: int, plan_id: int) -> list[dict[str, Any]]:
    rows = api(server, token, "GET", f"/api/elders/{elder_id}/doses")
    return [d for d in rows if d["plan_id"] == plan_id]


def test_dose_fires_on_the_box_is_confirmed_with_ok_and_the_family_sees_it(
    box: BoxProcess, server: DemoServer
) -> None:
    family, elder = paired_box(box, server)
    box.press(KEYCODE_FOR[RemoteAction.BLUE])  # something else is on screen
    (at,) = local_times(elder, 6)
    plan = add_plan(server, family, elder, "Amlodipine", [at])
    shown = box.wait_state("the reminder", timeout=30, screen="reminder")
    assert [r["medicine"] for r in shown["reminder"]] == ["Amlodipine"]
    assert any("Amlodipine" in s for s in shown["spoken"])
    box.screenshot(SHOTS / "reminders-box-reminder-zh.png")
    after = box.press(KEYCODE_FOR[RemoteAction.OK])
    assert after["screen"] == "settings", "the reminder gives back what was showing"
    wait_until(
        lambda: [d["state"] for d in doses(server, family, elder["id"], plan["id"])] == ["taken"],
        20,
        "the server to record the dose as taken",
    )
    box.press(KEYCODE_FOR[RemoteAction.BACK])
    box.press(KEYCODE_FOR[RemoteAction.DIGIT_2])
    tile = box.wait_state("medicines screen", screen="medicines")
    assert tile["medicines"] == [{"time": at[:5], "medicine": "Amlodipine", "state": "taken"}]
    box.screenshot(SHOTS / "reminders-box-medicines-zh.png")


def test_offline_doses_fire_are_answered_and_reach_the_server_once_even_across_a_restart(
    box: BoxProcess, server: DemoServer
) -> None:
    family, elder = paired_box(box, server)
    first, second = local_times(elder, 12, 40)
    plan = add_plan(server, family, elder, "Metformin", [first, second])
    wait_until(lambda: plan["id"] in box.state()["plans"], 15, "the plan on the box")
    server.stop()
    box.wait_state("offline", link_state="offline")
    box.wait_state("first dose, offline", timeout=30, screen="reminder")
    assert box.press(KEYCODE_FOR[RemoteAction.OK])["outbox_pending"] == 1
    # The box restarts in the middle of the outage; the answer and the plan survive it.
    assert box.stop() == 0
    again = box.start()
    assert again["outbox_pending"] == 1 and again["screen"] == "home"
    box.wait_state("second dose after restart, offline", timeout=45, screen="reminder")
    assert box.press(KEYCODE_FOR[RemoteAction.OK])["outbox_pending"] == 2
    server.start()
    box.wait_state("reconnected and flushed", timeout=30, link_state="online", outbox_pending=0)
    rows = doses(server, family, elder["id"], plan["id"])
    assert [d["state"] for d in rows] == ["taken", "taken"]
    # Reconnect again: nothing is recorded twice.
    assert box.stop() == 0
    box.start()
    box.wait_state("online again", link_state="online", outbox_pending=0)
    audit = api(server, family, "GET", f"/api/elders/{elder['id']}/audit")
    assert [a["action"] for a in audit].count("medication.dose.taken") == 2


def test_pause_and_resume_keep_the_taken_dose_on_the_tv_and_the_family_page(
    box: BoxProcess, server: DemoServer
) -> None:
    family, elder = paired_box(box, server)
    first, second = local_times(elder, 6, 600)
    if second < first:
        pytest.skip("the second dose would fall after local midnight")
    plan = add_plan(server, family, elder, "Amlodipine", [first, second])
    box.wait_state("the first dose", timeout=30, screen="reminder")
    box.press(KEYCODE_FOR[RemoteAction.OK])
    wait_until(
        lambda: (
            [d["state"] for d in doses(server, family, elder["id"], plan["id"])]
            == ["taken", "upcoming"]
        ),
        20,
        "the server to record the first dose as taken",
    )
    taken = {"time": first[:5], "medicine": "Amlodipine", "state": "taken"}
    upcoming = {"time": second[:5], "medicine": "Amlodipine", "state": "upcoming"}

    api(server, family, "PATCH", f"/api/medication-plans/{plan['id']}", json={"status": "paused"})
    box.wait_state("paused: only the answered dose is listed", medicines=[taken])
    assert [d["state"] for d in doses(server, family, elder["id"], plan["id"])] == ["taken"]

    api(server, family, "PATCH", f"/api/medication-plans/{plan['id']}", json={"status": "active"})
    state = box.wait_state("resumed: both doses listed", medicines=[taken, upcoming])
    assert state["screen"] == "home", "a resumed plan does not ring for the answered dose"
    assert [d["state"] for d in doses(server, family, elder["id"], plan["id"])] == [
        "taken",
        "upcoming",
    ]
    said = box.press(KEYCODE_FOR[RemoteAction.DIGIT_2])["spoken"][-1]  # the Medicines tile
    assert "已吃 1 次，共 2 次" in said, said  # the demo elder hears Chinese: "taken 1 of 2"
