"""Real parts for call end-to-end tests: a seeded live server, a paired box process with
synthetic media, Chromium pages logged in, and a bare protocol client for other users."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from selenium.webdriver.common.by import By
from sqlalchemy.orm import Session
from websockets.sync.client import ClientConnection, connect

from protocol import Role
from server.core.db import Database
from server.demo import DEMO_LOGINS, seed_demo
from server.models import Elder, User
from tests.support.box import BoxProcess
from tests.support.browser import chromium
from tests.support.live_server import LiveServer
from tests.support.waiting import scaled, wait_until
from tests.support.world import PASSWORD, make_user

DOCTOR = next(d for d in DEMO_LOGINS if d.role is Role.DOCTOR)
FAMILY = next(d for d in DEMO_LOGINS if d.email.startswith("family1"))
STRANGER = next(d for d in DEMO_LOGINS if d.email.startswith("family2"))
BOX_MEDIA_ENV = {
    "ANXIN_MEDIA_LOOPBACK_ONLY": "1",  # loopback-only namespace: host candidates on 127.0.0.1
    "ANXIN_MEDIA_USE_DEVICES": "0",  # synthetic camera and microphone
    "ANXIN_MEDIA_AUDIO_OUTPUT_DEVICE": "null",
}


@dataclass
class CallWorld:
    """The demo world plus a second doctor of the same clinic."""

    server: LiveServer
    elder_id: int
    doctor2_email: str


def start_world(
    db_url: str,
    data_dir: Path,
    seeds: Iterable[Callable[[Session], None]] = (),
    **env: str,
) -> CallWorld:
    """Seed the demo world (and a second doctor; ``seeds``: features' demo additions), then
    start the server on it."""
    database = Database(db_url)
    with database.session() as db:
        seed_demo(db, seeds)
        db.flush()
        elder = db.query(Elder).filter(Elder.name == "王秀英").one()
        doctor = db.query(User).filter(User.email == DOCTOR.email).one()
        doctor2 = make_user(db, Role.DOCTOR, clinic_id=doctor.clinic_id)
        world = (elder.id, doctor2.email)
    database.dispose()
    server = LiveServer(
        db_url=db_url,
        data_dir=data_dir,
        extra_env={"ANXIN_WS_HEARTBEAT_SECONDS": "2", **env},
    )
    server.start()
    return CallWorld(server=server, elder_id=world[0], doctor2_email=world[1])


def token_of(server: LiveServer, email: str, password: str) -> str:
    """A bearer token for ``email``."""
    resp = httpx.post(
        server.url + "/api/auth/login", json={"email": email, "password": password}, timeout=10
    )
    resp.raise_for_status()
    return str(resp.json()["access_token"])


def paired_box(world: CallWorld, data_dir: Path) -> BoxProcess:
    """A box process with synthetic media, paired with the elder by the family."""
    box = BoxProcess(data_dir, world.server.url, **BOX_MEDIA_ENV)
    box.start()
    code = box.wait_state("a pairing code", link_state="pairing")["pairing_code"]
    token = token_of(world.server, FAMILY.email, FAMILY.password)
    resp = httpx.post(
        world.server.url + "/api/pairing/claim",
        json={"code": code, "elder_id": world.elder_id},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    resp.raise_for_status()
    box.wait_state("online at home", screen="home", link_state="online")
    return box


class Signaling:
    """A logged-in user's bare `/ws/web` socket speaking the protocol (no browser)."""

    def __init__(self, server: LiveServer, email: str, password: str = PASSWORD) -> None:
        token = token_of(server, email, password)
        # Entered like a context manager (websockets 17 warns otherwise); close() exits it.
        self.ws: ClientConnection = connect(server.ws_url + "/ws/web", open_timeout=10).__enter__()
        self._send_lock = threading.Lock()
        self._closed = threading.Event()
        self.send({"type": "hello", "client": "web", "token": token})
        assert self.next("welcome")["type"] == "welcome"
        # Like a real page, keep the socket alive while the test is busy elsewhere.
        threading.Thread(target=self._beat, name="signaling-heartbeat", daemon=True).start()

    def _beat(self) -> None:
        while not self._closed.wait(5.0):
            try:
                self.send({"type": "heartbeat"})
            except Exception:  # noqa: BLE001 - the socket closed under us: stop beating
                return

    def send(self, message: dict[str, Any]) -> None:
        """Send one message."""
        with self._send_lock:
            self.ws.send(json.dumps(message))

    def next(self, kind: str, timeout: float = 10.0) -> dict[str, Any]:
        """The next message of type ``kind`` (others are skipped)."""
        timeout = scaled(timeout)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {kind!r} message within {timeout} s")
            message = json.loads(self.ws.recv(timeout=left))
            if message["type"] == kind:
                return message

    def received_only_after_probe(self) -> list[str]:
        """Types of everything that arrives before the echo of a heartbeat probe."""
        self.send({"type": "heartbeat", "id": "probe"})
        seen = []
        while True:
            message = json.loads(self.ws.recv(timeout=10))
            if message["type"] == "heartbeat" and message.get("id") == "probe":
                return seen
            seen.append(message["type"])

    def close(self) -> None:
        """Close the socket."""
        self._closed.set()
        self.ws.__exit__(None, None, None)


@contextmanager
def browser_page(server: LiveServer, email: str, password: str, path: str) -> Iterator[Any]:
    """Chromium with fake camera/microphone, logged in as ``email``, showing ``path``."""
    with chromium(lang="en", media=True) as driver:
        driver.get(server.url + "/login?lang=en")
        driver.find_element(By.NAME, "email").send_keys(email)
        driver.find_element(By.NAME, "password").send_keys(password)
        driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        wait_until(lambda: "/login" not in driver.current_url, 15, "log-in")
        driver.get(server.url + path)
        wait_until(
            lambda: driver.execute_script(
                "return window.anxinCall && window.anxinCall.socketReady"
            ),
            15,
            "the page's call socket",
        )
        yield driver


def js(driver: Any, expression: str) -> Any:
    """Evaluate ``expression`` in the page."""
    return driver.execute_script(f"return {expression};")


def call_state(box: BoxProcess) -> dict[str, Any]:
    """The box's call snapshot."""
    return dict(box.state()["call"])
