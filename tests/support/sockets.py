"""Protocol messages over the app's in-process test sockets (Starlette's TestClient)."""

from __future__ import annotations

from typing import Any

from starlette.testclient import WebSocketTestSession

from protocol import dump_message, parse_message


def send(ws: WebSocketTestSession, message: Any) -> None:
    """Send one protocol message on a test socket."""
    ws.send_text(dump_message(message))


def recv(ws: WebSocketTestSession) -> Any:
    """Receive one protocol message from a test socket."""
    return parse_message(ws.receive_text())
