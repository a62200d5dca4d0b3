"""SOS end to end: a real box process, a real server, the operator board in Chromium.

Red key → the board shows the alert and sounds → Acknowledge → the TV shows and speaks who
answered. Then: an SOS raised while the server is down is delivered exactly once later.
"""

from __future__ import annotations

import httpx
import pytest
from selenium.webdriver.common.by import By

from tests.support.box import BoxProcess, paired_box
from tests.support.browser import chromium, click
from tests.support.live_server import SHOTS, DemoServer
from tests.support.waiting import wait_until
from tvbox.ui.keys import KEYCODE_FOR, RemoteAction

OPERATOR = ("operator@demo.anxin", "demo-operator")
AUTOPLAY = ("--autoplay-policy=no-user-gesture-required",)
pytestmark = pytest.mark.e2e


def alerts(server: DemoServer) -> list[dict[str, object]]:
    token = server.login(OPERATOR)
    response = httpx.get(
        server.url + "/api/sos/alerts",
        params={"open_only": "false"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    response.raise_for_status()
    return list(response.json())


def test_red_key_board_acknowledge_and_delivery_after_an_outage(
    box: BoxProcess, server: DemoServer
) -> None:
    paired_box(box, server)
    with chromium("zh", extra_flags=AUTOPLAY) as page:
        page.get(f"{server.url}/login?lang=zh")
        page.find_element(By.ID, "email").send_keys(OPERATOR[0])
        page.find_element(By.ID, "password").send_keys(OPERATOR[1])
        page.find_element(By.ID, "login-submit").click()
        wait_until(
            lambda: page.find_element(By.TAG_NAME, "body").get_attribute("data-live") == "on",
            20,
            "the board's live socket",
        )
        assert page.find_elements(By.ID, "sos-none"), "no alert before the red key"

        # The red key: the TV says help is being called, the board shows it and sounds.
        sent = box.press(KEYCODE_FOR[RemoteAction.RED])
        assert sent["screen"] == "sos"
        box.wait_state("delivered", outbox_pending=0)
        card = wait_until(
            lambda: page.find_elements(By.CSS_SELECTOR, ".sos-alert[data-status='open']"),
            15,
            "the alert on the board",
        )[0]
        assert "王秀英" in card.text and "李娜" in card.text  # elder and ordered contacts
        sounds = wait_until(
            lambda: int(page.execute_script("return window.anxinSos.sounds") or 0),
            10,
            "the alarm sound",
        )
        assert sounds >= 1
        page.save_screenshot(str(SHOTS / "sos-board-open-zh.png"))
        box.screenshot(SHOTS / "sos-tv-sending-zh.png")

        # Acknowledge on the board: the TV shows and speaks who answered.
        alert_id = card.get_attribute("data-alert-id")
        click(page, f"#sos-ack-{alert_id}")
        acked = wait_until(
            lambda: (s := box.state())["sos"]["phase"] == "acknowledged" and s, 15, "ack on TV"
        )
        said = "服务中心的刘芳已经看到您的呼叫。马上有人来帮您。"
        assert acked["sos"]["body"] == said
        assert said in acked["spoken"]
        box.screenshot(SHOTS / "sos-tv-acknowledged-zh.png")
        wait_until(lambda: page.find_elements(By.ID, f"sos-acked-{alert_id}"), 15, "ack shown")
        page.save_screenshot(str(SHOTS / "sos-board-acknowledged-zh.png"))

        # Resolve with an outcome: the TV goes home, the board lists it with its time to ack.
        page.find_element(By.ID, f"sos-note-{alert_id}").send_keys("测试")
        click(page, f"#sos-resolve-{alert_id}")
        box.wait_state("home after resolve", 15, screen="home")
        wait_until(lambda: page.find_elements(By.ID, f"sos-closed-{alert_id}"), 15, "resolved")

    # Server down: the red key stores the SOS, the TV says plainly it is not sent yet ...
    server.stop()
    box.wait_state("offline", link_state="offline")
    pending = box.press(KEYCODE_FOR[RemoteAction.RED])
    assert pending["outbox_pending"] == 1 and pending["sos"]["phase"] == "sending"
    assert "还没有发出去" in pending["sos"]["body"]
    # ... and keeps trying: when the server returns it arrives exactly once.
    server.start()
    box.wait_state("delivered after the outage", 30, outbox_pending=0, link_state="online")
    assert box.state()["sos"]["phase"] == "delivered"
    rows = alerts(server)
    assert len(rows) == 2 and sorted(r["status"] for r in rows) == ["open", "resolved"]


def test_a_local_sensor_raises_an_sos_after_the_cancel_window(
    box: BoxProcess, server: DemoServer
) -> None:
    paired_box(box, server)
    response = httpx.post(box.api + "/sensor", json={"kind": "fall"}, timeout=10)
    assert response.status_code == 200
    assert response.json()["sos"]["phase"] == "countdown"
    box.screenshot(SHOTS / "sos-tv-countdown-zh.png")
    # The default window is 10 s; nobody cancels, so it goes.
    state = wait_until(
        lambda: (s := box.state())["sos"]["phase"] == "delivered" and s, 30, "sensor SOS sent"
    )
    assert state["sos"]["source"] == "sensor"
    [row] = alerts(server)
    assert row["source"] == "sensor" and row["detail"] == "fall"
    bad = httpx.post(box.api + "/sensor", json={"kind": ""}, timeout=10)
    assert bad.status_code == 400
