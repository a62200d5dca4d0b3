"""The elder calls the family end to end: a real box process (Kivy offscreen, synthetic
media), a live server, and the family page in Chromium with a fake camera and microphone.

Family tile on the box → the family page rings (banner + ring tone) → Answer opens the call
page → video both ways → hang up; a call nobody answers becomes a missed call; when another
family member answers first, the page's banner says who and goes away.
Each test runs in its own loopback-only network namespace (`netns`): ICE runs here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By

from protocol import Role
from server.core.db import Database
from server.models import Elder
from tests.support.box import BoxProcess
from tests.support.browser import chromium, click, reveal, save
from tests.support.call_world import (
    FAMILY,
    CallWorld,
    Signaling,
    call_state,
    js,
    paired_box,
    start_world,
)
from tests.support.live_server import SHOTS, LiveServer
from tests.support.waiting import wait_until
from tests.support.world import link, make_user
from tvbox.ui.keys import KEYCODE_FOR, RemoteAction

pytestmark = [pytest.mark.e2e, pytest.mark.netns]
MEDIA_TIMEOUT = 30.0
AUTOPLAY = ("--autoplay-policy=no-user-gesture-required",)


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Iterator[CallWorld]:
    live = start_world(db_url, tmp_path / "server", ANXIN_CALL_RING_TIMEOUT_SECONDS="8")
    yield live
    live.server.stop()


@pytest.fixture
def box(world: CallWorld, tmp_path: Path) -> Iterator[BoxProcess]:
    process = paired_box(world, tmp_path / "box")
    yield process
    process.stop()


@contextmanager
def family_page(server: LiveServer, lang: str = "zh") -> Iterator[Any]:
    """Chromium logged in as the elder's daughter, on the family page with its socket live."""
    with chromium(lang=lang, media=True, extra_flags=AUTOPLAY) as driver:
        driver.set_window_size(1280, 900)
        driver.get(server.url + f"/login?lang={lang}")
        driver.find_element(By.NAME, "email").send_keys(FAMILY.email)
        driver.find_element(By.NAME, "password").send_keys(FAMILY.password)
        driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        wait_until(lambda: "/login" not in driver.current_url, 15, "log-in")
        driver.get(server.url + "/family")
        wait_until(lambda: js(driver, "document.body.dataset.live") == "on", 15, "live socket")
        yield driver


def banner_up(driver: Any) -> bool:
    return bool(js(driver, "!document.getElementById('incoming-call').hidden"))


def remote_video_playing(driver: Any) -> bool:
    return bool(
        js(
            driver,
            "(function(v){return !!v && !v.paused && v.readyState >= 2 && v.videoWidth > 0})"
            "(document.getElementById('remote-video'))",
        )
    )


def media_flowing(box: BoxProcess, driver: Any) -> bool:
    media = call_state(box)["media"]
    page = js(driver, "window.anxinCall")
    assert page is not None and page["state"] != "ended", f"the page ended the call: {page}"
    return (
        media.get("video_frames_received", 0) > 15
        and media.get("video_frames_rendered", 0) > 5
        and page["framesDecoded"] > 15
        and remote_video_playing(driver)
    )


def test_family_tile_rings_the_family_page_answer_video_both_ways_hang_up(
    world: CallWorld, box: BoxProcess
) -> None:
    with family_page(world.server) as page:
        # One press on the Family tile (tile 5): no choices, the TV says what it is doing.
        box.press(KEYCODE_FOR[RemoteAction.DIGIT_5])
        calling = box.wait_state("calling the family", timeout=15, screen="call")
        wait_until(lambda: call_state(box)["call_id"] is not None, 15, "the server's call id")
        assert call_state(box)["phase"] == "family_calling" and call_state(box)["rung"] == 1
        assert any("正在呼叫家人" in s for s in box.state()["spoken"]), calling["spoken"]

        # The family page rings: a large banner naming the elder, Answer and Decline, a tone.
        wait_until(lambda: banner_up(page), 15, "the incoming-call banner")
        title = page.find_element(By.ID, "incoming-title").text
        assert title == "王秀英来电"
        assert page.find_element(By.ID, "incoming-answer").text == "接听"
        assert page.find_element(By.ID, "incoming-decline").text == "拒绝"
        wait_until(lambda: js(page, "window.anxinRing.rings") >= 1, 10, "the ring tone")
        box.screenshot(SHOTS / "family-calling-zh.png")
        save(page, SHOTS, "family-incoming-call-banner-zh")

        # Answer: the call page opens and connects with the same media path as every call.
        click(page, "#incoming-answer")
        wait_until(lambda: "/family/call/" in page.current_url, 10, "the call page")
        wait_until(lambda: media_flowing(box, page), MEDIA_TIMEOUT, "video both ways")
        assert call_state(box)["phase"] == "in_call" and call_state(box)["peer"] == "李娜"
        assert js(page, "window.anxinCall.state") == "connected"
        assert "?answer=" not in page.current_url  # a reload does not answer again
        box.screenshot(SHOTS / "family-call-from-tv-in-call-box.png")
        save(page, SHOTS, "family-call-from-tv-in-call-page")

        click(page, "#hang-up")
        after = box.wait_state("home after the family hung up", screen="home")
        assert after["call"]["last_end"] == "hung_up"
        # The page says it in words, not "(hung_up)".
        wait_until(
            lambda: page.find_element(By.ID, "call-status").text in ("You hung up.", "您已挂断。"),
            10,
            "the ending in words",
        )


def test_unanswered_call_tells_the_elder_and_lists_a_missed_call(
    world: CallWorld, box: BoxProcess
) -> None:
    with family_page(world.server, lang="en") as page:
        box.press(KEYCODE_FOR[RemoteAction.DIGIT_5])
        wait_until(lambda: banner_up(page), 15, "the incoming-call banner")
        # Nobody answers within the (shortened) ring timeout.
        home = box.wait_state("home after nobody answered", timeout=30, screen="home")
        assert home["call"]["last_end"] == "unanswered"
        assert any("我们已经告诉他们" in s for s in home["spoken"]), home["spoken"]
        wait_until(
            lambda: js(page, "window.anxinRing.outcome") == "Missed call from 王秀英",
            10,
            "the banner to stop ringing",
        )
        wait_until(
            lambda: js(page, "!!document.querySelector('.missed-call')"), 10, "the missed call"
        )
        # On top of the home, a banner to call back; the list in the closed calls panel.
        banner = wait_until(
            lambda: js(page, "(document.querySelector('#urgent .banner-call') || {}).innerText"),
            10,
            "the missed-call banner",
        )
        assert "王秀英 called and nobody answered" in banner and "Call back" in banner
        reveal(page, "missed-calls")
        text = page.find_element(By.ID, "missed-calls").text
        assert "Missed call from 王秀英" in text and "Call back" in text
        wait_until(lambda: not banner_up(page), 10, "the banner to go away")
        js(page, "document.getElementById('missed-calls').scrollIntoView()")
        save(page, SHOTS, "family-missed-call-en")


def test_another_family_member_answers_first_and_the_banner_says_who(
    world: CallWorld, box: BoxProcess, db_url: str
) -> None:
    database = Database(db_url)
    with database.session() as db:
        elder = db.get(Elder, world.elder_id)
        assert elder is not None
        son = make_user(db, Role.FAMILY, name="王强")
        link(db, son, elder, "son")
        son_email = son.email
    database.dispose()
    brother = Signaling(world.server, son_email)
    with family_page(world.server, lang="en") as page:
        box.press(KEYCODE_FOR[RemoteAction.DIGIT_5])
        incoming = brother.next("call_incoming", timeout=15)
        wait_until(lambda: banner_up(page), 15, "the incoming-call banner")
        wait_until(lambda: call_state(box)["rung"] == 2, 10, "both family members rung")
        brother.send({"type": "call_accept", "call_id": incoming["call_id"]})
        assert brother.next("call_start")["role"] == "offerer"
        wait_until(
            lambda: js(page, "window.anxinRing.outcome") == "Answered by 王强",
            10,
            "the banner to say who answered",
        )
        wait_until(lambda: not banner_up(page), 10, "the banner to go away")
        assert call_state(box)["peer"] == "王强"
        brother.send({"type": "call_hang_up", "call_id": incoming["call_id"]})
        box.wait_state("home after the son hung up", screen="home")
        assert not page.find_elements(By.CSS_SELECTOR, ".missed-call")  # answered, not missed
    brother.close()
