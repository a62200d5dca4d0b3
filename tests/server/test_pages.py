"""The web pages in real Chromium against a live server: log-in, family, doctor, operator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from websockets.sync.client import connect

from protocol import (
    ClientKind,
    Hello,
    MedPlans,
    Paired,
    Revoked,
    Welcome,
    dump_message,
    parse_message,
)
from tests.support.browser import chromium, click, reveal, save
from tests.support.live_server import LiveServer
from tests.support.waiting import scaled, wait_until
from tests.support.world import PASSWORD, World

pytestmark = pytest.mark.e2e


@pytest.fixture
def browser():  # type: ignore[no-untyped-def]
    with chromium() as driver:
        yield driver


def log_in(driver, server: LiveServer, email: str, password: str = PASSWORD) -> None:  # type: ignore[no-untyped-def]
    driver.get(f"{server.url}/login")
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "password").send_keys(password)
    submit(driver, "login-submit")


def submit(driver, button_id: str) -> None:  # type: ignore[no-untyped-def]
    """Click a button that posts a form and wait until the next page has replaced this one."""
    old = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.ID, button_id).click()
    WebDriverWait(driver, scaled(15)).until(lambda _: _replaced(old))
    # The next page may still be arriving: wait until it has been read to its end.
    WebDriverWait(driver, scaled(15)).until(
        lambda _: driver.execute_script("return document.readyState") == "complete"
    )


def _replaced(element) -> bool:  # type: ignore[no-untyped-def]
    """Whether ``element``'s page is gone. Chromium may answer a look at a node of the page
    being replaced with "Node with given id does not belong to the document" rather than a
    stale-element error: both mean the same."""
    try:
        element.is_enabled()
    except WebDriverException:  # StaleElementReferenceException is one
        return True
    return False


def text(driver) -> str:  # type: ignore[no-untyped-def]
    return driver.find_element(By.TAG_NAME, "body").text


class Box:
    """A protocol-level box on a real socket (the TV app itself is tested in tests/tvbox)."""

    def __init__(self, server: LiveServer) -> None:
        import httpx

        self.server = server
        req = httpx.post(f"{server.url}/api/pairing/requests", json={}).json()
        self.code = req["code"]
        self.secret = req["pairing_secret"]
        self.stack = ExitStack()
        self.open()
        self.send(Hello(client=ClientKind.BOX, pairing_secret=self.secret))
        assert isinstance(self.recv(), Welcome)

    def open(self) -> None:
        self.ws = self.stack.enter_context(connect(f"{self.server.ws_url}/ws/box", open_timeout=5))

    def send(self, message) -> None:  # type: ignore[no-untyped-def]
        self.ws.send(dump_message(message))

    def recv(self):  # type: ignore[no-untyped-def]
        return parse_message(self.ws.recv(timeout=10))

    def close(self) -> None:
        self.stack.close()


@pytest.fixture
def box(live_server: LiveServer) -> Iterator[Box]:
    b = Box(live_server)
    yield b
    b.close()


def test_login_errors_then_family_home(
    browser, live_server: LiveServer, seeded: World, screenshots
) -> None:  # type: ignore[no-untyped-def]
    log_in(browser, live_server, seeded.family_a.email, "wrong password")
    error = browser.find_element(By.ID, "login-error")
    assert "Wrong e-mail or password" in error.text or "邮箱或密码错误" in error.text
    save(browser, screenshots, "web-login-error")
    log_in(browser, live_server, seeded.family_a.email)
    wait_until(lambda: browser.current_url.endswith("/family"), what="family home")
    assert seeded.elder_a.name in text(browser)
    assert seeded.elder_b.name not in text(browser)
    cookie = browser.get_cookie("anxin_session")
    assert cookie is not None and cookie["httpOnly"] is True


def test_family_pairs_and_revokes_a_box_live(
    browser,
    live_server: LiveServer,
    seeded: World,
    box: Box,
    screenshots,  # type: ignore[no-untyped-def]
) -> None:
    log_in(browser, live_server, seeded.family_a.email)
    browser.get(f"{live_server.url}/family?lang=en")
    wait_until(
        lambda: browser.find_element(By.TAG_NAME, "body").get_attribute("data-live") == "on",
        what="live socket",
    )
    browser.find_element(By.ID, "pair-code").send_keys(box.code[:3] + " " + box.code[3:])
    save(browser, screenshots, "web-family-pair-form")
    submit(browser, "pair-submit")
    paired = box.recv()
    assert isinstance(paired, Paired) and paired.elder.name == seeded.elder_a.name
    wait_until(lambda: "paired" in browser.find_element(By.ID, "notice").text, what="paired notice")
    # The live region may be redrawn by the "changed" push at any moment: find it afresh.
    wait_until(
        lambda: (
            browser.find_element(By.ID, f"device-{paired.device_id}").get_attribute("data-state")
            == "offline"
        ),
        what="paired device shown offline",
    )
    # The box reconnects with its token: the page turns it "online" without a reload.
    box.close()
    box.open()
    box.send(Hello(client=ClientKind.BOX, device_token=paired.device_token))
    assert isinstance(box.recv(), Welcome)
    assert isinstance(box.recv(), MedPlans)  # the state sent on connect
    wait_until(
        lambda: (
            browser.find_element(By.ID, f"device-{paired.device_id}").get_attribute("data-state")
            == "online"
        ),
        what="device shown online live",
    )
    reveal(browser, f"device-{paired.device_id}")  # in the closed "TV boxes" panel
    save(browser, screenshots, "web-family-paired")
    click(browser, f"#revoke-{paired.device_id}")
    browser.switch_to.alert.accept()
    assert isinstance(box.recv(), Revoked)
    wait_until(
        lambda: (
            browser.find_element(By.ID, f"device-{paired.device_id}").get_attribute("data-state")
            == "revoked"
        ),
        what="device shown revoked",
    )
    save(browser, screenshots, "web-family-revoked")


def test_wrong_code_on_the_form_is_explained(
    browser, live_server: LiveServer, seeded: World, box: Box
) -> None:  # type: ignore[no-untyped-def]
    log_in(browser, live_server, seeded.family_a.email)
    browser.get(f"{live_server.url}/family?lang=zh")
    wrong = "000000" if box.code != "000000" else "111111"
    browser.find_element(By.ID, "pair-code").send_keys(wrong)
    submit(browser, "pair-submit")
    wait_until(
        lambda: "code" in browser.find_element(By.ID, "pair-error").text,
        what="wrong code explained",
    )
    browser.execute_script("document.getElementById('pair-code').removeAttribute('pattern')")
    field = browser.find_element(By.ID, "pair-code")
    field.clear()
    field.send_keys("12ab")
    submit(browser, "pair-submit")
    wait_until(
        lambda: "6 位数字" in browser.find_element(By.ID, "pair-error").text,
        what="digits asked for",
    )


def test_family_page_switches_language(
    browser, live_server: LiveServer, seeded: World, screenshots
) -> None:  # type: ignore[no-untyped-def]
    log_in(browser, live_server, seeded.family_a.email)
    browser.get(f"{live_server.url}/family?lang=zh")
    assert "我的家人" in text(browser)
    save(browser, screenshots, "web-family-zh")
    browser.find_element(By.ID, "switch-lang").click()
    wait_until(lambda: "My family" in text(browser), what="English page")
    browser.get(f"{live_server.url}/family")
    assert "My family" in text(browser), "the choice is remembered"


def test_doctor_and_operator_homes(
    browser, live_server: LiveServer, seeded: World, screenshots
) -> None:  # type: ignore[no-untyped-def]
    log_in(browser, live_server, seeded.doctor_a.email)
    wait_until(lambda: browser.current_url.endswith("/doctor"), what="doctor home")
    wait_until(lambda: browser.find_elements(By.CSS_SELECTOR, ".elder"), what="doctor's elders")
    assert seeded.elder_a.name in text(browser) and seeded.elder_b.name not in text(browser)
    save(browser, screenshots, "web-doctor-home")
    browser.delete_all_cookies()
    log_in(browser, live_server, seeded.operator_a.email)
    wait_until(lambda: browser.current_url.endswith("/operator"), what="operator home")
    marks = wait_until(
        lambda: browser.find_elements(By.CSS_SELECTOR, "#area-map .mark-elder"), what="map marks"
    )
    assert len(marks) == 1
    assert seeded.elder_a.name in text(browser) and seeded.elder_b.name not in text(browser)
    save(browser, screenshots, "web-operator-home")
    logs = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert logs == [], json.dumps(logs)


def test_live_updates_never_wipe_what_someone_is_typing(
    browser,
    live_server: LiveServer,
    seeded: World,  # type: ignore[no-untyped-def]
) -> None:
    log_in(browser, live_server, seeded.family_a.email)
    browser.get(f"{live_server.url}/family?lang=en")
    body = browser.find_element(By.TAG_NAME, "body")
    wait_until(lambda: body.get_attribute("data-live") == "on", what="live socket")
    before = int(body.get_attribute("data-live-updates"))
    reveal(browser, f"panel-about-{seeded.elder_a.id}")  # where the address is
    reveal(browser, f"med-form-{seeded.elder_a.id}")  # the form, in its closed panels
    form = browser.find_element(By.ID, f"med-form-{seeded.elder_a.id}")  # inside a live region
    field = form.find_element(By.NAME, "medicine")
    field.send_keys("Amlo")
    admin = live_server.login(seeded.admin.email, PASSWORD)
    resp = admin.patch(f"/api/elders/{seeded.elder_a.id}", json={"address": "8 Live Road"})
    assert resp.status_code == 200
    wait_until(lambda: int(body.get_attribute("data-live-updates")) > before, what="a live refresh")
    wait_until(lambda: "8 Live Road" in text(browser), what="the new address shown")
    assert field.get_attribute("value") == "Amlo", "half-typed input survives a live refresh"


def test_family_sets_how_the_tv_speaks(
    browser, live_server: LiveServer, seeded: World, screenshots
) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.support.ui import Select

    log_in(browser, live_server, seeded.family_a.email)
    browser.get(f"{live_server.url}/family?lang=en")
    elder = seeded.elder_a.id
    reveal(browser, f"speech-{elder}")  # in its closed panel
    Select(browser.find_element(By.ID, f"speech-rate-{elder}")).select_by_visible_text("Slower")
    Select(browser.find_element(By.ID, f"speech-volume-{elder}")).select_by_visible_text("Medium")
    submit(browser, f"speech-save-{elder}")
    notice = browser.find_element(By.ID, "notice").text
    assert notice == "Saved. The TV speaks this way from now on."
    reveal(browser, f"speech-{elder}")
    rate = Select(browser.find_element(By.ID, f"speech-rate-{elder}"))
    volume = Select(browser.find_element(By.ID, f"speech-volume-{elder}"))
    assert rate.first_selected_option.text == "Slower"
    assert volume.first_selected_option.text == "Medium"
    browser.execute_script(
        "document.getElementById(arguments[0]).scrollIntoView()", f"speech-{elder}"
    )
    save(browser, screenshots, "web-family-speech-en")
