"""The demo server for box tests (``tests.live.LiveServer`` running ``server demo``) and the
family's API calls a test makes against it (claim a code, revoke a box, edit the elder)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from tests.live import ROOT as REPO
from tests.live import LiveServer, free_port

if TYPE_CHECKING:
    from tests.tvbox.box_process import BoxProcess

FAMILY_LOGIN = ("family1@demo.anxin", "demo-family-1")
SHOTS = REPO / "artifacts" / "screenshots"

__all__ = ["FAMILY_LOGIN", "REPO", "SHOTS", "DemoServer", "free_port", "paired_box"]


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


def paired_box(box: BoxProcess, server: DemoServer) -> tuple[str, dict[str, Any]]:
    """Start the box and pair it as the demo family would; (family token, elder record)."""
    box.start()
    code = box.wait_state("a pairing code", link_state="pairing")["pairing_code"]
    family = server.login()
    elder = server.elders(family)[0]
    server.claim(family, code, elder["id"])
    box.wait_state("home, online", screen="home", link_state="online")
    return family, elder
