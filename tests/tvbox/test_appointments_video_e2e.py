"""A booked video visit end to end: the doctor (Chromium, fake camera) presses "Start video
visit" on the day list, the real TV box says the doctor is ready, the elder does not answer
and the doctor's page says so; the doctor rings again, OK on the remote joins, media flows.

Runs in its own loopback-only network namespace (`netns`): ICE runs here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By

from server.appointments.demo import seed_appointments
from tests.support.box import BoxProcess
from tests.support.browser import chromium, click, save
from tests.support.call_world import (
    DOCTOR,
    FAMILY,
    CallWorld,
    call_state,
    js,
    paired_box,
    start_world,
)
from tests.support.live_server import SHOTS
from tests.support.waiting import wait_until
from tests.tvbox.test_call_e2e import MEDIA_TIMEOUT, media_flowing
from tvbox.ui.keys import KEYCODE_FOR, RemoteAction

pytestmark = [pytest.mark.e2e, pytest.mark.netns]
RING_SECONDS = 8  # the server ends an unanswered ring after this long


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Iterator[CallWorld]:
    live = start_world(
        db_url,
        tmp_path / "server",
        seeds=[seed_appointments],
        ANXIN_CALL_RING_TIMEOUT_SECONDS=str(RING_SECONDS),
    )
    yield live
    live.server.stop()


@pytest.fixture
def box(world: CallWorld, tmp_path: Path) -> Iterator[BoxProcess]:
    process = paired_box(world, tmp_path / "box")
    yield process
    process.stop()


def book_video_visit(world: CallWorld) -> dict[str, Any]:
    """The family books the elder's next free video visit."""
    family = world.server.login(FAMILY.email, FAMILY.password)
    slots = family.get("/api/appointments/slots", params={"kind": "video"}).json()
    for slot in slots:
        body = {
            "slot_id": slot["id"],
            "elder_id": world.elder_id,
            "kind": "video",
            "idempotency_key": f"video-e2e-{slot['id']}",
        }
        made = family.post("/api/appointments", json=body)
        if made.status_code == 201:
            return {**made.json(), "day": slot["local_start"][:10]}
    raise AssertionError(f"no video slot could be booked: {slots[:3]}")


def page_words(driver: Any) -> str:
    return str(driver.find_element(By.ID, "call-status").text)


def test_the_doctor_rings_from_the_day_list_no_answer_then_ok_joins(
    world: CallWorld, box: BoxProcess
) -> None:
    server = world.server
    visit = book_video_visit(world)
    with chromium(lang="en", media=True) as doctor:
        doctor.get(server.url + "/login?lang=en")
        doctor.find_element(By.NAME, "email").send_keys(DOCTOR.email)
        doctor.find_element(By.NAME, "password").send_keys(DOCTOR.password)
        doctor.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        wait_until(lambda: "/login" not in doctor.current_url, 15, "log-in")
        doctor.get(f"{server.url}/clinic?day={visit['day']}")
        # The list is live (it may redraw): find the button afresh for each look.
        label = wait_until(
            lambda: doctor.find_element(By.ID, f"video-{visit['id']}").text, 15, "the button"
        )
        assert label == "Start video visit"
        click(doctor, f"#video-{visit['id']}")
        wait_until(
            lambda: f"/clinic/video/{visit['id']}" in doctor.current_url, 15, "the call page"
        )

        # The page rings the TV once its socket is up; the TV says the doctor is ready.
        ringing = box.wait_state("the TV ringing", timeout=15, screen="call")
        assert ringing["call"]["phase"] == "ringing" and ringing["call"]["kind"] == "consult"
        wait_until(
            lambda: any("已经准备好给您视频看诊了" in s for s in box.state()["spoken"]),
            10,
            "the TV saying the doctor is ready",
        )
        assert any("张伟医生" in s for s in box.state()["spoken"])
        wait_until(lambda: js(doctor, "window.anxinCall.state") == "ringing", 10, "page ringing")
        assert "Ringing 王秀英's TV" in page_words(doctor)
        assert not doctor.find_element(By.ID, "start-call").is_displayed()
        box.screenshot(SHOTS / "video-visit-ready-zh.png")
        save(doctor, SHOTS, "video-visit-ringing")

        # Nobody presses OK: the page says so and offers to ring again; the TV goes home.
        wait_until(
            lambda: js(doctor, "window.anxinCall.ended") == "unanswered",
            RING_SECONDS + 15,
            "the page told of no answer",
        )
        assert page_words(doctor) == "王秀英 did not answer. You can ring again."
        again = doctor.find_element(By.ID, "start-call")
        assert again.is_displayed() and again.text == "Ring again"
        assert not doctor.find_element(By.CSS_SELECTOR, ".call-videos").is_displayed()
        box.wait_state("the TV home after the unanswered ring", screen="home")
        save(doctor, SHOTS, "video-visit-unanswered")

        # Ring again; this time OK on the remote joins and video flows both ways.
        again.click()
        wait_until(lambda: call_state(box)["phase"] == "ringing", 15, "ringing again")
        box.press(KEYCODE_FOR[RemoteAction.OK])
        wait_until(lambda: media_flowing(box, doctor), MEDIA_TIMEOUT, "video on both ends")
        assert js(doctor, "window.anxinCall.state") == "connected"
        assert js(doctor, "window.anxinCall.visitRings") == 2
        assert call_state(box)["phase"] == "in_call"
        wait_until(lambda: doctor.find_element(By.ID, "record-name").text, 10, "the record")
        box.screenshot(SHOTS / "video-visit-in-call-box.png")
        save(doctor, SHOTS, "video-visit-in-call-doctor")
        doctor.find_element(By.ID, "hang-up").click()
        ended = box.wait_state("the TV home after the doctor hung up", screen="home")
        assert ended["call"]["last_end"] == "hung_up"
