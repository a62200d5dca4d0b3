"""Real Chromium against a live server: invite a relative, accept on a phone, the account page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.server.test_pages import log_in, submit, text
from tests.support.browser import chromium, click, save
from tests.support.live_server import LiveServer
from tests.support.smtp import smtp_server
from tests.support.waiting import wait_until
from tests.support.world import World

pytestmark = pytest.mark.e2e
DESKTOP, PHONE = (1280, 900), (390, 844)
NEW = "lantern otter morning 64"


def test_invite_accept_on_a_phone_and_the_account_page(
    db_url: str, seeded: World, tmp_path: Path, screenshots: Path
) -> None:
    with smtp_server() as (mailbox, port):
        server = LiveServer(
            db_url=db_url,
            data_dir=tmp_path / "server",
            extra_env={"ANXIN_SMTP_HOST": "127.0.0.1", "ANXIN_SMTP_PORT": str(port)},
        )
        server.start()
        try:
            with chromium() as daughter:
                daughter.set_window_size(*DESKTOP)
                log_in(daughter, server, seeded.family_a.email)
                daughter.get(f"{server.url}/family?lang=en")
                click(daughter, f"#family-link-{seeded.elder_a.id}")  # live: redrawn
                wait_until(lambda: "Family of 王秀英" in text(daughter), what="family page")
                daughter.find_element(By.ID, "invite-email").send_keys("brother@example.org")
                Select(daughter.find_element(By.ID, "invite-relation")).select_by_value("son")
                Select(daughter.find_element(By.ID, "invite-lang")).select_by_value("en")
                submit(daughter, "invite-submit")
                wait_until(lambda: "brother@example.org" in text(daughter), what="pending")
                save(daughter, screenshots, "accounts-family-desktop")
                daughter.set_window_size(*PHONE)
                save(daughter, screenshots, "accounts-family-phone")
            [mail] = mailbox.wait(1)
            found = re.search(r"(http://\S+/invite/[^\s?]+)", mail.get_content())
            assert found
            url = found.group(1)
            with chromium() as brother:
                brother.set_window_size(*DESKTOP)
                brother.get(f"{url}?lang=en")
                assert "invites you to follow 王秀英" in text(brother)
                save(brother, screenshots, "accounts-accept-desktop")
                brother.set_window_size(*PHONE)
                save(brother, screenshots, "accounts-accept-phone")
                brother.find_element(By.ID, "accept-name").send_keys("Wang Qiang")
                brother.find_element(By.ID, "accept-password").send_keys(NEW)
                brother.find_element(By.ID, "accept-repeat").send_keys(NEW)
                Select(brother.find_element(By.ID, "accept-lang")).select_by_value("en")
                submit(brother, "accept-submit")
                wait_until(lambda: brother.current_url.endswith("/family"), what="family home")
                assert "王秀英" in text(brother)
                assert seeded.elder_b.name not in text(brother)
                brother.find_element(By.ID, "nav-account").click()
                wait_until(lambda: "Your sessions" in text(brother), what="account page")
                assert "brother@example.org" in text(brother)
                assert "This device" in text(brother)
                save(brother, screenshots, "accounts-account-phone")
                brother.set_window_size(*DESKTOP)
                save(brother, screenshots, "accounts-account-desktop")
                # a wrong current password is shown next to the form
                brother.find_element(By.ID, "current-password").send_keys("not it at all")
                brother.find_element(By.ID, "new-password").send_keys(NEW + "2")
                brother.find_element(By.ID, "repeat-password").send_keys(NEW + "2")
                submit(brother, "password-submit")
                error = brother.find_element(By.ID, "password-error").text
                assert "current password is not right" in error
        finally:
            server.stop()


def test_setup_forgot_and_refused_link_pages(live_server: LiveServer, screenshots: Path) -> None:
    with chromium() as browser:
        browser.set_window_size(*PHONE)
        browser.get(f"{live_server.url}/?lang=en")
        wait_until(lambda: browser.current_url.endswith("/setup"), what="set-up page")
        save(browser, screenshots, "accounts-setup-phone")
        browser.set_window_size(*DESKTOP)
        save(browser, screenshots, "accounts-setup-desktop")
        browser.find_element(By.ID, "setup-name").send_keys("Zhang Min")
        browser.find_element(By.ID, "setup-email").send_keys("chief@example.org")
        browser.find_element(By.ID, "setup-password").send_keys(NEW)
        browser.find_element(By.ID, "setup-repeat").send_keys(NEW + "x")
        submit(browser, "setup-submit")
        assert "not the same" in browser.find_element(By.ID, "setup-error").text
        save(browser, screenshots, "accounts-setup-error-desktop")
        browser.find_element(By.ID, "setup-password").send_keys(NEW)
        browser.find_element(By.ID, "setup-repeat").send_keys(NEW)
        submit(browser, "setup-submit")
        wait_until(lambda: browser.current_url.endswith("/admin"), what="administration")
        assert browser.get_cookie("anxin_session") is not None
        browser.delete_all_cookies()
        browser.get(f"{live_server.url}/login?lang=en")
        browser.find_element(By.ID, "forgot-link").click()
        wait_until(lambda: "/forgot-password" in browser.current_url, what="forgot page")
        save(browser, screenshots, "accounts-forgot-desktop")
        browser.find_element(By.ID, "forgot-email").send_keys("chief@example.org")
        submit(browser, "forgot-submit")
        assert "If an account exists" in browser.find_element(By.ID, "forgot-sent").text
        browser.set_window_size(*PHONE)
        save(browser, screenshots, "accounts-forgot-sent-phone")
        browser.get(f"{live_server.url}/reset-password/abc.def?lang=en")
        assert "damaged" in browser.find_element(By.ID, "link-refused").text
        save(browser, screenshots, "accounts-reset-refused-phone")
