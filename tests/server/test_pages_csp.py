"""Every kind of page works in Chromium under its Content-Security-Policy, scripts running,
and another origin cannot make the browser change things through the API with our cookie."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from selenium.webdriver.common.by import By

from server.core.db import Database
from tests.server.test_pages import log_in, submit
from tests.support.browser import chromium, click, reveal
from tests.support.live_server import LiveServer, free_port
from tests.support.waiting import wait_until
from tests.support.world import PASSWORD, World, make_device, make_world

pytestmark = pytest.mark.e2e

# Runs before any script of every document: collects what the policy blocked.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") +
                              " at " + e.sourceFile + ":" + e.lineNumber);
});
"""


@pytest.fixture
def seeded(db_url: str) -> Iterator[tuple[World, str, int]]:
    """The world, a paired box of elder A (token, device id)."""
    database = Database(db_url)
    with database.session() as db:
        world = make_world(db)
        token, device_id = make_device(db, world.elder_a)
    database.dispose()
    yield world, token, device_id


@pytest.fixture
def browser():  # type: ignore[no-untyped-def]
    with chromium(media=True) as driver:
        driver.execute_cdp_cmd(
            "Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_VIOLATIONS}
        )
        yield driver


def violations(driver) -> list[str]:  # type: ignore[no-untyped-def]
    """Violations reported to this page's listener, and any console complaint about a policy."""
    seen = list(driver.execute_script("return window.__cspViolations || ['no recorder'];"))
    page_failed = f"{driver.current_url} - Failed to load resource"  # an error page's status
    for entry in driver.get_log("browser"):
        text = entry["message"]
        if text.startswith(page_failed):
            continue
        if entry["level"] == "SEVERE" or "Content Security Policy" in text or "Policy" in text:
            seen.append(f"console {entry['level']}: {text}")
    return seen


def open_page(driver, url: str, live: bool = True) -> None:  # type: ignore[no-untyped-def]
    driver.get(url)
    if live:  # live.js ran and its WebSocket (connect-src) is open
        wait_until(
            lambda: driver.find_element(By.TAG_NAME, "body").get_attribute("data-live") == "on",
            what=f"live socket on {url}",
        )
    assert violations(driver) == [], url


def raise_sos(server: LiveServer, box_token: str, key: str) -> int:
    resp = httpx.post(
        f"{server.url}/api/box/sensor-events",
        json={"key": key, "kind": "fall"},
        headers={"Authorization": f"Bearer {box_token}"},
    )
    assert resp.status_code == 201, resp.text
    return int(resp.json()["alert_id"])


def alert_status(server: LiveServer, world: World, alert_id: int) -> str:
    with server.login(world.operator_a.email, PASSWORD) as api:
        return str(api.get(f"/api/sos/alerts/{alert_id}").json()["status"])


def test_the_detector_sees_a_violation(browser, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    """Control: an inline style on a page is blocked and reported, so silence means none."""
    open_page(browser, f"{live_server.url}/login", live=False)
    browser.execute_script("document.body.setAttribute('style', 'background: red');")
    found = wait_until(lambda: violations(browser), what="the violation reported")
    assert any("style-src" in v for v in found), found


def test_family_pages_work_under_the_policy(
    browser, live_server: LiveServer, seeded: tuple[World, str, int]
) -> None:  # type: ignore[no-untyped-def]
    world, _, device_id = seeded
    with live_server.login(world.family_a.email, PASSWORD) as api:
        plan = {
            "medicine": "Amlodipine",
            "colour": "#d03030",
            "schedule": {"times": ["08:00"], "start_date": date.today().isoformat()},
        }
        resp = api.post(f"/api/elders/{world.elder_a.id}/medication-plans", json=plan)
        assert resp.status_code == 201, resp.text
    open_page(browser, f"{live_server.url}/login", live=False)
    log_in(browser, live_server, world.family_a.email)
    open_page(browser, f"{live_server.url}/family?lang=en")
    # The medicine's colour is drawn (an SVG fill, not a blocked style="" attribute).
    # (Found afresh on every look: the live page may redraw the section meanwhile.)
    swatch = f"#plan-{resp.json()['id']} .swatch rect"
    wait_until(
        lambda: browser.find_element(By.CSS_SELECTOR, swatch).get_attribute("fill") == "#d03030",
        what="the medicine's colour drawn",
    )
    # Removing the TV asks first (confirm.js, not an onsubmit="" attribute): No keeps it.
    reveal(browser, f"device-{device_id}")  # in the closed "TV boxes" panel
    click(browser, f"#revoke-{device_id}")
    assert "Remove" in browser.switch_to.alert.text or "移除" in browser.switch_to.alert.text
    browser.switch_to.alert.dismiss()
    wait_until(
        lambda: (
            browser.find_element(By.ID, f"device-{device_id}").get_attribute("data-state")
            != "revoked"
        ),
        what="the TV box kept",
    )
    # A page form still posts (form-action 'self') and the redirect lands.
    reveal(browser, f"speech-{world.elder_a.id}")
    submit(browser, f"speech-save-{world.elder_a.id}")
    wait_until(lambda: "done=speech" in browser.current_url, what="speech saved")
    assert violations(browser) == []
    # The family's call page: calls.js's own socket opens, and the camera is allowed here.
    open_page(browser, f"{live_server.url}/family/call/{world.elder_a.id}")
    wait_until(lambda: browser.execute_script("return window.anxinCall.socketReady"), what="socket")
    allowed = browser.execute_script(
        "return ['camera', 'microphone', 'geolocation']"
        ".map(function (f) { return document.featurePolicy.allowsFeature(f); });"
    )
    assert allowed == [True, True, False]
    got = browser.execute_async_script(
        "var done = arguments[0];"
        "navigator.mediaDevices.getUserMedia({video: true, audio: true}).then("
        "  function (s) { s.getTracks().forEach(function (t) { t.stop(); }); done('camera'); },"
        "  function (e) { done(String(e)); });"
    )
    assert got == "camera"
    # An error page is a page too.
    browser.get(f"{live_server.url}/family/call/{world.elder_b.id}")
    assert browser.find_element(By.ID, "error-message").text
    assert violations(browser) == []


def test_doctor_operator_and_admin_pages_work_under_the_policy(
    browser, live_server: LiveServer, seeded: tuple[World, str, int]
) -> None:  # type: ignore[no-untyped-def]
    world, box_token, _ = seeded
    raise_sos(live_server, box_token, "fall-csp-0001")
    log_in(browser, live_server, world.doctor_a.email)
    open_page(browser, f"{live_server.url}/doctor")
    open_page(browser, f"{live_server.url}/doctor/consults")
    wait_until(lambda: browser.execute_script("return window.anxinCall.socketReady"), what="socket")
    assert browser.find_element(By.ID, "queue-rows").text  # calls.js drew the (empty) queue
    assert violations(browser) == []
    for who in (world.operator_a, world.admin):
        browser.delete_all_cookies()
        log_in(browser, live_server, who.email)
        open_page(browser, f"{live_server.url}/operator")
        assert browser.find_elements(By.CSS_SELECTOR, "#sos-board .sos-alert")
        # sos.js ran: the open alert tried to sound (the autoplay policy holds it back).
        wait_until(
            lambda: browser.execute_script("return window.anxinSos && window.anxinSos.blocked"),
            what="sos.js alarm attempt",
        )
        assert violations(browser) == []


class _AttackerPage(BaseHTTPRequestHandler):
    """Another origin on the same host: a page whose form posts to our API."""

    target = ""

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        body = (
            f'<!doctype html><form method="post" action="{self.target}">'
            '<button id="go" type="submit">win a prize</button></form>'
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Quiet."""


@pytest.fixture
def attacker() -> Iterator[tuple[str, type[_AttackerPage]]]:
    handler = type("Handler", (_AttackerPage,), {})
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", handler
    server.shutdown()
    server.server_close()


def test_another_origin_cannot_acknowledge_an_sos_with_our_cookie(
    browser, live_server: LiveServer, seeded: tuple[World, str, int], attacker
) -> None:  # type: ignore[no-untyped-def]
    world, box_token, _ = seeded
    alert_id = raise_sos(live_server, box_token, "fall-csrf-001")
    log_in(browser, live_server, world.operator_a.email)
    wait_until(lambda: browser.current_url.endswith("/operator"), what="operator home")
    page_url, handler = attacker
    # Same host, another port: same site, so SameSite=Lax sends the cookie along.
    handler.target = f"{live_server.url}/api/sos/alerts/{alert_id}/acknowledge"
    browser.get(page_url)
    submit(browser, "go")
    refusal = json.loads(browser.find_element(By.TAG_NAME, "body").text)
    assert refusal.get("code") == "csrf_failed", f"the forged post went through: {refusal}"
    assert alert_status(live_server, world, alert_id) == "open"
    browser.get_log("browser")  # drain: the refused post's 403 is logged there
    # The operator's own page may (Chromium sends our Origin with its fetch).
    open_page(browser, f"{live_server.url}/operator")
    status = browser.execute_async_script(
        "var done = arguments[0];"
        f"fetch('/api/sos/alerts/{alert_id}/acknowledge', {{method: 'POST'}})"
        ".then(function (r) { done(r.status); }, function (e) { done(String(e)); });"
    )
    assert status == 200
    assert alert_status(live_server, world, alert_id) == "acknowledged"
