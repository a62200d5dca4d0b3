"""The real server for end-to-end tests: an `anxin-server` process on a free port (`LiveServer`),
the same running ``server demo`` (`DemoServer`) and the family's API calls a test makes on it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support.error_logs import SERVER_LOGS
from tests.support.waiting import GaveUp, wait_until

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"
FAMILY_LOGIN = ("family1@demo.anxin", "demo-family-1")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def product_env(**extra: str) -> dict[str, str]:
    """Environment for a product subprocess run from this checkout."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    # Tests talk only to loopback: pages' maps get no tiles from the internet.
    env["ANXIN_MAP_TILE_URL"] = ""
    env.update(extra)
    return env


@dataclass
class LiveServer:
    """An `anxin-server` process on a free port."""

    db_url: str
    data_dir: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        """Base URL of the server."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        """Base WebSocket URL of the server."""
        return f"ws://127.0.0.1:{self.port}"

    def start(self, command: str = "run") -> LiveServer:
        """Start the process and wait until /healthz answers."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.data_dir / f"server-{self.port}.log"
        # Its ERROR lines fail the test (tests/support/error_logs.py).
        SERVER_LOGS.started(self.log_path)
        env = product_env(
            ANXIN_DATABASE_URL=self.db_url,
            ANXIN_DATA_DIR=str(self.data_dir),
            ANXIN_ENV="development",
            ANXIN_PUBLIC_BASE_URL=self.url,
            **self.extra_env,
        )
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server", command, "--port", str(self.port), "--no-box"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_until(self._healthy, timeout=30, what=f"server on {self.url}")
        return self

    def _healthy(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise GaveUp(f"server exited with {self.proc.returncode}: {self.log()}")
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL)."""
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def log(self) -> str:
        """What the server printed so far (tail)."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text("utf-8", "replace")[-4000:]

    def login(self, email: str, password: str) -> httpx.Client:
        """An API client logged in as ``email``."""
        resp = httpx.post(f"{self.url}/api/auth/login", json={"email": email, "password": password})
        resp.raise_for_status()
        token = resp.json()["access_token"]
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {token}"})


class DemoServer:
    """A server process seeded with the demo world; can be stopped and started again."""

    def __init__(self, db_url: str, data_dir: Path, heartbeat_s: float = 2.0, **env: str) -> None:
        self.process = LiveServer(
            db_url=db_url,
            data_dir=data_dir,
            extra_env={"ANXIN_WS_HEARTBEAT_SECONDS": str(heartbeat_s), **env},
        )

    @property
    def url(self) -> str:
        """Base URL of the server."""
        return self.process.url

    def start(self) -> None:
        """Start (or restart, same port and database) and wait until /healthz answers."""
        self.process.start("demo")

    def stop(self) -> None:
        """Stop the server process."""
        self.process.stop()

    # -- the family's API calls -------------------------------------------

    def login(self, login: tuple[str, str] = FAMILY_LOGIN) -> str:
        """Log in; the bearer token."""
        response = httpx.post(
            self.url + "/api/auth/login", json={"email": login[0], "password": login[1]}, timeout=10
        )
        response.raise_for_status()
        return str(response.json()["access_token"])

    def _call(self, method: str, path: str, token: str, **kwargs: Any) -> httpx.Response:
        response = httpx.request(
            method,
            self.url + path,
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
            **kwargs,
        )
        response.raise_for_status()
        return response

    def elders(self, token: str) -> list[dict[str, Any]]:
        """The elders this user may see."""
        data = self._call("GET", "/api/elders", token).json()
        return list(data["items"] if isinstance(data, dict) and "items" in data else data)

    def claim(self, token: str, code: str, elder_id: int) -> int:
        """Enter the TV's code as the family would; the new device id."""
        body = {"code": code, "elder_id": elder_id}
        return int(self._call("POST", "/api/pairing/claim", token, json=body).json()["device_id"])

    def revoke(self, token: str, device_id: int) -> None:
        """Revoke a TV box as the family would."""
        self._call("DELETE", f"/api/devices/{device_id}", token)

    def elder(self, token: str, elder_id: int) -> dict[str, Any]:
        """One elder's record."""
        return dict(self._call("GET", f"/api/elders/{elder_id}", token).json())

    def update_elder(self, token: str, elder_id: int, **fields: Any) -> dict[str, Any]:
        """Change an elder's record (name, lang, timezone)."""
        return dict(self._call("PATCH", f"/api/elders/{elder_id}", token, json=fields).json())

    def audit_actions(self, token: str, elder_id: int) -> list[str]:
        """Actions in the elder's audit log, newest first."""
        rows = self._call("GET", f"/api/elders/{elder_id}/audit", token).json()
        return [str(row["action"]) for row in rows]

    def devices(self, token: str, elder_id: int) -> list[dict[str, Any]]:
        """The elder's TV boxes."""
        return list(self._call("GET", f"/api/elders/{elder_id}/devices", token).json())
