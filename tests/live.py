"""Real processes for end-to-end tests: the server under uvicorn, and waiting helpers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import httpx

from tests.error_logs import SERVER_LOGS

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Every wait's timeout is multiplied by this: a loaded 2-core CI machine runs a browser, a
# box and a server at once, and a timeout is only an upper bound (a passing wait is as fast).
TIMEOUT_SCALE = float(os.environ.get("ANXIN_TEST_TIMEOUT_SCALE", "1"))


def scaled(timeout: float) -> float:
    """``timeout`` stretched by ``ANXIN_TEST_TIMEOUT_SCALE``."""
    return timeout * TIMEOUT_SCALE


def wait_for(predicate: Callable[[], T], timeout: float = 10.0, what: str = "condition") -> T:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    timeout = scaled(timeout)
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as err:  # noqa: BLE001 - keep polling until the deadline
            last_error = err
        time.sleep(0.05)  # polling interval, not synchronisation
    raise AssertionError(
        f"timed out after {timeout} s waiting for {what}; last error: {last_error}"
    )


def product_env(**extra: str) -> dict[str, str]:
    """Environment for a product subprocess run from this checkout."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONUNBUFFERED"] = "1"
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
        SERVER_LOGS.started(self.log_path)  # its ERROR lines fail the test (tests/error_logs.py)
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
        wait_for(self._healthy, timeout=30, what=f"server on {self.url}")
        return self

    def _healthy(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"server exited with {self.proc.returncode}: {self.log()}")
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
