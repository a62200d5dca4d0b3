"""The real parts the consult benchmark drives, started through the product's own entry points:
the demo server (``python -m server demo``), a TV box (``python -m tvbox``, Kivy offscreen,
synthetic camera and tone) paired through the family's pairing API and read through its local
API, and the doctor's page in Debian's headless Chromium with its fake camera.

Benchmarks do not import ``tests/``: what they share with the end-to-end tests is the product
(its command lines, settings and APIs), not the tests' helpers.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx

from bench.sos import free_port, wait_healthy

REPO_ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")
BOX_MEDIA_ENV = {
    "ANXIN_MEDIA_LOOPBACK_ONLY": "1",  # loopback-only namespace: host candidates on 127.0.0.1
    "ANXIN_MEDIA_USE_DEVICES": "0",  # synthetic camera and microphone
    "ANXIN_MEDIA_AUDIO_OUTPUT_DEVICE": "null",
}
CHROMIUM_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--no-first-run", "--disable-background-networking", "--window-size=1280,1000",
    "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection", "--disable-features=WebRtcHideLocalIpsWithMdns",
)  # fmt: skip


def poll(predicate: Callable[[], T], timeout: float, what: str = "condition") -> T:
    """Poll ``predicate`` until it returns something truthy; RuntimeError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as err:  # noqa: BLE001 - a page or API not ready yet: poll again
            last_error = err
        if time.monotonic() > deadline:
            raise RuntimeError(f"no {what} after {timeout} s; last error: {last_error!r}")
        time.sleep(0.05)  # polling interval of a measurement script


def _child_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PYTHONUNBUFFERED": "1", **extra}


class DemoServer:
    """``python -m server demo`` on a free port over ``db_url``."""

    def __init__(self, db_url: str, data_dir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        env = _child_env(
            ANXIN_DATABASE_URL=db_url,
            ANXIN_DATA_DIR=str(data_dir),
            ANXIN_ENV="development",
            ANXIN_PUBLIC_BASE_URL=self.url,
            ANXIN_WS_HEARTBEAT_SECONDS="2",
        )
        with (data_dir / "server.log").open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "server", "demo", "--port", str(self.port), "--no-box"],
                cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        wait_healthy(self.process, self.port, data_dir)

    def token(self, email: str, password: str) -> str:
        """A bearer token for ``email``."""
        body = {"email": email, "password": password}
        response = httpx.post(self.url + "/api/auth/login", json=body, timeout=10)
        response.raise_for_status()
        return str(response.json()["access_token"])

    def stop(self) -> None:
        """Terminate the server and reap it."""
        self.process.terminate()
        self.process.wait(timeout=20)


class Box:
    """A ``python -m tvbox`` process with synthetic media, driven through its local API."""

    def __init__(self, server_url: str, data_dir: Path) -> None:
        self.api = f"http://127.0.0.1:{free_port()}"
        data_dir.mkdir(parents=True, exist_ok=True)
        env = _child_env(
            SDL_VIDEODRIVER="offscreen",
            KIVY_NO_ARGS="1",
            KIVY_HOME=str(data_dir / "kivy"),
            ANXIN_BOX_SPEECH_OUTPUT="wav",
            ANXIN_BOX_SPEECH_DIR=str(data_dir / "speech"),
            ANXIN_BOX_VOICE_MODEL="off",
            **BOX_MEDIA_ENV,
        )
        env.pop("DISPLAY", None)
        argv = [
            sys.executable, "-m", "tvbox", "--server", server_url, "--data-dir", str(data_dir),
            "--lang", "zh", "--local-api-port", self.api.rsplit(":", 1)[1], "--size", "1920x1080",
        ]  # fmt: skip
        with (data_dir / "box.log").open("ab") as log:
            self.process = subprocess.Popen(
                argv, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        poll(self._answering, 60, "local API of the box")

    def _answering(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"box exited with {self.process.returncode}")
        try:
            return httpx.get(self.api + "/state", timeout=2).is_success
        except httpx.HTTPError:
            return False

    def state(self) -> dict[str, Any]:
        """The box's state snapshot (GET /state)."""
        response = httpx.get(self.api + "/state", timeout=10)
        response.raise_for_status()
        return dict(response.json())

    def call(self) -> dict[str, Any]:
        """The box's call snapshot."""
        return dict(self.state()["call"])

    def press(self, keycode: int) -> None:
        """A remote key press through the app's real key handler."""
        httpx.post(self.api + "/key", json={"keycode": keycode}, timeout=10).raise_for_status()

    def stop(self) -> None:
        """SIGTERM the box as the OS would on shutdown, and reap it."""
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=20)


def pair(box: Box, server: DemoServer, family_email: str, family_password: str) -> None:
    """Enter the code the box shows as the demo family would, for their first elder."""
    code = poll(lambda: box.state().get("pairing_code"), 30, "pairing code")
    headers = {"Authorization": f"Bearer {server.token(family_email, family_password)}"}
    elders = httpx.get(server.url + "/api/elders", headers=headers, timeout=10).json()
    elder_id = (elders["items"] if isinstance(elders, dict) else elders)[0]["id"]
    body = {"code": code, "elder_id": elder_id}
    httpx.post(
        server.url + "/api/pairing/claim", json=body, headers=headers, timeout=10
    ).raise_for_status()
    poll(
        lambda: box.state().get("screen") == "home" and box.state().get("link_state") == "online",
        30,
        "box online at home",
    )


@contextmanager
def doctor_page(server: DemoServer, email: str, password: str, path: str) -> Iterator[Any]:
    """Headless Chromium with a fake camera, logged in as ``email``, showing ``path``."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must download nothing
    profile = tempfile.mkdtemp(prefix="anxin-bench-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--lang=en"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        driver.get(server.url + "/login?lang=en")
        driver.find_element(By.NAME, "email").send_keys(email)
        driver.find_element(By.NAME, "password").send_keys(password)
        driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        poll(lambda: "/login" not in driver.current_url, 15, "log-in")
        driver.get(server.url + path)
        ready = "return window.anxinCall && window.anxinCall.socketReady"
        poll(lambda: driver.execute_script(ready), 15, "the page's call socket")
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def js(driver: Any, expression: str) -> Any:
    """Evaluate ``expression`` in the page."""
    return driver.execute_script(f"return {expression};")
