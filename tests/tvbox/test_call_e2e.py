"""Video calls end to end: a real box process (Kivy offscreen, synthetic media), a live
server, and the doctor's / family's page in Chromium with a fake camera and microphone.

Each test runs in its own loopback-only network namespace (`netns`): ICE runs here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from tests.support.box import BoxProcess
from tests.support.browser import click, save
from tests.support.call_world import (
    DOCTOR,
    FAMILY,
    STRANGER,
    CallWorld,
    Signaling,
    browser_page,
    call_state,
    js,
    paired_box,
    start_world,
)
from tests.support.live_server import SHOTS
from tests.support.waiting import wait_until
from tvbox.ui.keys import KEYCODE_FOR, RemoteAction

pytestmark = [pytest.mark.e2e, pytest.mark.netns]
MEDIA_TIMEOUT = 30.0


def key(box: BoxProcess, action: RemoteAction) -> None:
    box.press(KEYCODE_FOR[action])


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Iterator[CallWorld]:
    live = start_world(db_url, tmp_path / "server", ANXIN_CALL_AUTO_ANSWER_AFTER_SECONDS="2")
    yield live
    live.server.stop()


@pytest.fixture
def box(world: CallWorld, tmp_path: Path) -> Iterator[BoxProcess]:
    process = paired_box(world, tmp_path / "box")
    yield process
    process.stop()


def media_flowing(box: BoxProcess, driver: object) -> bool:
    media = call_state(box)["media"]
    page = js(driver, "window.anxinCall")
    assert page["state"] != "ended", f"the page ended the call: {page}"
    return (
        media.get("video_frames_received", 0) > 15
        and media.get("video_frames_rendered", 0) > 5
        and js(driver, "window.anxinCall.framesDecoded") > 15
    )


def request_consult(box: BoxProcess, driver: object) -> int:
    """The elder presses "See a doctor" (tile 1); the request reaches the doctor's queue."""
    key(box, RemoteAction.DIGIT_1)
    queued = box.wait_state("queued", timeout=15, screen="call")
    wait_until(lambda: call_state(box)["phase"] == "queued", 15, "a place in the queue")
    call_id = int(call_state(box)["call_id"])
    wait_until(
        lambda: js(driver, f"!!document.getElementById('join-{call_id}')"), 15, "the queue row"
    )
    assert queued["screen"] == "call"
    return call_id


def test_consult_cancel_join_media_hang_up_both_sides(world: CallWorld, box: BoxProcess) -> None:
    server = world.server
    rival = Signaling(server, world.doctor2_email)
    stranger = Signaling(server, STRANGER.email, STRANGER.password)
    with browser_page(server, DOCTOR.email, DOCTOR.password, "/doctor/consults") as doctor:
        # 1. Cancel while queued: Back asks first, OK confirms; the doctors' queues empty.
        call_id = request_consult(box, doctor)
        snap = call_state(box)
        assert snap["position"] == 1 and snap["expected_wait_s"] > 0
        spoken = box.state()["spoken"]
        assert any("正在呼叫医生" in s and "第 1 位" in s for s in spoken), spoken
        assert rival.next("consult_queue")["entries"][0]["call_id"] == call_id
        box.screenshot(SHOTS / "consult-queued-zh.png")
        key(box, RemoteAction.BACK)
        assert call_state(box)["phase"] == "confirm_cancel"
        key(box, RemoteAction.OK)
        done = box.wait_state("home after cancel", screen="home")
        assert done["call"]["last_end"] == "cancelled"
        wait_until(lambda: js(doctor, "window.anxinCall.queue.length") == 0, 10, "queue emptied")
        assert rival.next("consult_queue")["entries"] == []

        # 2. A new request; this doctor joins, the second doctor is refused.
        call_id = request_consult(box, doctor)
        assert rival.next("consult_queue")["entries"][0]["call_id"] == call_id
        click(doctor, f"#join-{call_id}")
        assert rival.next("consult_queue")["entries"] == []  # it left the rival's queue
        rival.send({"type": "call_join", "call_id": call_id, "id": "late"})
        refused = rival.next("error")
        assert refused["code"] == "conflict" and refused["ref"] == "late"

        wait_until(lambda: media_flowing(box, doctor), MEDIA_TIMEOUT, "video decoded on both ends")
        assert (snap := call_state(box))["phase"] == "in_call", snap
        assert js(doctor, "window.anxinCall.state") == "connected"
        first_ms = js(doctor, "window.anxinCall.joinToFirstFrameMs")
        assert first_ms is not None and first_ms > 0
        # The record beside the video: care notes and the week's medication adherence.
        wait_until(
            lambda: "高血压" in doctor.find_element(By.ID, "record-notes").text, 10, "record"
        )
        wait_until(lambda: doctor.find_element(By.ID, "record-adherence").text, 10, "adherence")
        box.screenshot(SHOTS / "consult-in-call-box.png")
        save(doctor, SHOTS, "consult-in-call-doctor")

        # 3. Someone outside the call can neither inject nor hear signaling.
        stranger.send({"type": "call_offer", "call_id": call_id, "sdp": "v=0\r\n", "id": "x"})
        assert stranger.next("error")["code"] == "not_found"
        rival.send({"type": "call_hang_up", "call_id": call_id, "id": "y"})
        assert rival.next("error")["code"] == "not_found"
        assert not {"call_offer", "call_answer", "call_start"} & set(
            stranger.received_only_after_probe()
        )
        assert (snap := call_state(box))["phase"] == "in_call", snap

        # 4. The doctor writes notes; the elder hangs up (Back, then OK).
        doctor.find_element(By.ID, "consult-notes").send_keys("BP 150/90, continue amlodipine")
        doctor.find_element(By.ID, "save-notes").click()
        wait_until(lambda: js(doctor, "window.anxinCall.notesSaved") == 1, 5, "notes sent")
        key(box, RemoteAction.BACK)
        assert call_state(box)["phase"] == "confirm_hang_up"
        box.screenshot(SHOTS / "consult-hang-up-confirm-zh.png")
        key(box, RemoteAction.OK)
        ended = box.wait_state("home after hang-up", screen="home")
        assert ended["call"]["last_end"] == "hung_up"
        assert any("通话已结束" in s for s in ended["spoken"]), ended["spoken"]
        wait_until(lambda: js(doctor, "window.anxinCall.ended") == "hung_up", 10, "page ended")

        # 5. Another consult; this time the doctor hangs up.
        call_id2 = request_consult(box, doctor)
        click(doctor, f"#join-{call_id2}")
        wait_until(lambda: media_flowing(box, doctor), MEDIA_TIMEOUT, "second call's media")
        doctor.find_element(By.ID, "hang-up").click()
        after = box.wait_state("home after the doctor hung up", screen="home")
        assert after["call"]["last_end"] == "hung_up"

    token = server.login(DOCTOR.email, DOCTOR.password)
    record = token.get(f"/api/calls/{call_id}").json()
    assert record["notes"] == "BP 150/90, continue amlodipine"
    assert record["answered_at"] and record["ended_at"]
    fhir = token.get(f"/api/calls/{call_id}/fhir").json()
    assert fhir["class"]["code"] == "VR" and fhir["status"] == "finished"
    rival.close()
    stranger.close()


def test_family_call_decline_answer_and_auto_answer(world: CallWorld, box: BoxProcess) -> None:
    server = world.server
    path = f"/family/call/{world.elder_id}"
    with browser_page(server, FAMILY.email, FAMILY.password, path) as family:
        # Decline: the box rings full screen with the caller's name spoken; Back declines.
        family.find_element(By.ID, "start-call").click()
        ringing = box.wait_state("ringing", timeout=15, screen="call")
        assert ringing["call"]["phase"] == "ringing" and ringing["call"]["peer"] == "李娜"
        assert any("李娜 来电" in s for s in ringing["spoken"]), ringing["spoken"]
        box.screenshot(SHOTS / "family-ringing-zh.png")
        key(box, RemoteAction.BACK)
        wait_until(lambda: js(family, "window.anxinCall.ended") == "declined", 10, "declined")
        assert box.state()["screen"] == "home"

        # Answer with OK: media both ways, then the family hangs up.
        family.find_element(By.ID, "start-call").click()
        wait_until(lambda: call_state(box)["phase"] == "ringing", 15, "ringing again")
        key(box, RemoteAction.OK)
        wait_until(lambda: media_flowing(box, family), MEDIA_TIMEOUT, "family call media")
        save(family, SHOTS, "family-in-call-page")
        family.find_element(By.ID, "hang-up").click()
        box.wait_state("home after the family hung up", screen="home")

        # Auto-answer, set by the family: the box answers by itself with a spoken notice.
        client = server.login(FAMILY.email, FAMILY.password)
        resp = client.put(
            f"/api/elders/{world.elder_id}/call-preference", json={"auto_answer": True}
        )
        assert resp.status_code == 200
        family.find_element(By.ID, "start-call").click()
        ringing = box.wait_state("auto-answer ringing", timeout=15, screen="call")
        assert ringing["call"]["auto_answer"] is True
        assert any("自动接听" in s for s in box.state()["spoken"])
        wait_until(lambda: media_flowing(box, family), MEDIA_TIMEOUT, "auto-answered call media")
        assert (snap := call_state(box))["phase"] == "in_call", snap
