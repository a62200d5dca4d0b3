"""A real ``python -m tvbox`` process (offscreen) and its local API, for end-to-end tests, and
pairing it with the demo elder as the family would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.support.live_server import ROOT as REPO
from tests.support.live_server import DemoServer, free_port
from tests.support.waiting import GaveUp, wait_until


class BoxProcess:
    """One TV box process with its own data directory; can be stopped and started again."""

    def __init__(
        self,
        data_dir: Path,
        server_url: str,
        lang: str = "zh",
        launcher: tuple[str, ...] = ("-m", "tvbox"),
        **extra_env: str,
    ) -> None:
        self.extra_env = extra_env
        self.launcher = launcher  # interpreter arguments before the box's own options
        self.data_dir = data_dir
        self.server_url = server_url
        self.lang = lang
        self.port = free_port()
        self.api = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / "box.log"
        self.speech_dir = data_dir / "speech"

    def start(self, timeout: float = 60.0) -> dict[str, Any]:
        """Start the box and wait for its local API; the first state it reports."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "SDL_VIDEODRIVER": "offscreen",
            "KIVY_NO_ARGS": "1",
            "PYTHONPATH": str(REPO),
            "ANXIN_BOX_SPEECH_OUTPUT": "wav",  # real espeak-ng speech, kept as WAV files
            "ANXIN_BOX_SPEECH_DIR": str(self.speech_dir),
            "ANXIN_BOX_RECONNECT_INITIAL_SECONDS": "0.2",
            "ANXIN_BOX_RECONNECT_MAX_SECONDS": "1",
            # Voice commands load a ~600 MB model: only the voice tests turn them on.
            "ANXIN_BOX_VOICE_MODEL": "off",
            **self.extra_env,
        }
        env.pop("DISPLAY", None)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                *self.launcher,
                "--server",
                self.server_url,
                "--data-dir",
                str(self.data_dir),
                "--lang",
                self.lang,
                "--local-api-port",
                str(self.port),
                "--size",
                "1920x1080",
            ],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        return wait_until(self._first_state, timeout, "the box's local API")

    def _first_state(self) -> dict[str, Any] | None:
        assert self.process is not None
        if self.process.poll() is not None:
            raise GaveUp(f"box exited: {self.log_path.read_text()[-4000:]}")
        try:
            return self.state()
        except httpx.HTTPError:
            return None

    def spoken_wavs(self, lang: str) -> list[Path]:
        """WAV files the box has spoken so far in `lang`, oldest first."""
        return sorted(self.speech_dir.glob(f"*-{lang}.wav"))

    @property
    def alive(self) -> bool:
        """Whether the process is still running."""
        return self.process is not None and self.process.poll() is None

    def state(self) -> dict[str, Any]:
        """GET /state."""
        response = httpx.get(self.api + "/state", timeout=10)
        response.raise_for_status()
        return dict(response.json())

    def wait_state(self, what: str, timeout: float = 30.0, **expected: Any) -> dict[str, Any]:
        """Poll /state until every `expected` field has its value; the matching state."""

        def matches() -> dict[str, Any] | None:
            state = self.state()
            return state if all(state.get(k) == v for k, v in expected.items()) else None

        return wait_until(matches, timeout, what)

    def press(self, keycode: int) -> dict[str, Any]:
        """A remote key press through the app's real key handler; the state after it."""
        response = httpx.post(self.api + "/key", json={"keycode": keycode}, timeout=10)
        response.raise_for_status()
        return dict(response.json())

    def screenshot(self, path: Path) -> Path:
        """Save what the TV shows now."""
        response = httpx.post(self.api + "/screenshot", json={"path": str(path)}, timeout=30)
        response.raise_for_status()
        return Path(response.json()["path"])

    def stop(self) -> int:
        """SIGTERM the box as the OS would on shutdown; its exit code."""
        if self.process is None:
            return 0
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait(timeout=20)
        self.process = None
        return code


def paired_box(box: BoxProcess, server: DemoServer) -> tuple[str, dict[str, Any]]:
    """Start the box and pair it as the demo family would; (family token, elder record)."""
    box.start()
    code = box.wait_state("a pairing code", link_state="pairing")["pairing_code"]
    family = server.login()
    elder = server.elders(family)[0]
    server.claim(family, code, elder["id"])
    box.wait_state("home, online", screen="home", link_state="online")
    return family, elder
