"""A tiny HTTP API on 127.0.0.1 for tests now and local sensors later.

- ``GET /state``        → JSON snapshot of the app (screen, focus, link state, code, ...)
- ``POST /screenshot``  ``{"path": "..."}`` → saves a PNG of the screen, answers ``{"path": ...}``
- ``POST /key``         ``{"keycode": 274}`` → the same path as a remote key press
- ``POST /sensor``      ``{"kind": "fall", "detail": "..."}`` → a local sensor (fall detector,
  bed or door sensor) raises an SOS; the TV shows its cancel window first

Plain asyncio streams: one request per connection, small JSON bodies only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024


class LocalApi:
    """Serves the local API on ``127.0.0.1:port`` until `close()`."""

    def __init__(
        self,
        port: int,
        state: Callable[[], dict[str, Any]],
        screenshot: Callable[[str], Awaitable[str]],
        press: Callable[[int], None],
        sensor: Callable[[str, str], None] | None = None,
    ) -> None:
        self.port = port
        self.state = state
        self.screenshot = screenshot
        self.press = press
        self.sensor = sensor
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        """Start listening."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("local API on http://127.0.0.1:%d", self.port)

    async def close(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            status, payload = await asyncio.wait_for(self._answer(reader), timeout=30)
        except (TimeoutError, ValueError, asyncio.IncompleteReadError) as err:
            status, payload = 400, {"detail": f"bad request: {err}"}
        except Exception as err:  # report, don't kill the box
            log.exception("local API request failed")
            status, payload = 500, {"detail": str(err)}
        body = json.dumps(payload, ensure_ascii=False).encode()
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 500: "Error"}.get(status, "")
        writer.write(
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()

    async def _answer(self, reader: asyncio.StreamReader) -> tuple[int, dict[str, Any]]:
        request_line = (await reader.readline()).decode("latin-1").split()
        if len(request_line) < 2:
            raise ValueError("no request line")
        method, path = request_line[0], request_line[1]
        length = 0
        while True:
            line = (await reader.readline()).decode("latin-1").strip()
            if not line:
                break
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        if length > MAX_BODY_BYTES:
            raise ValueError("body too large")
        body = json.loads(await reader.readexactly(length)) if length else {}
        if method == "GET" and path == "/state":
            return 200, self.state()
        if method == "POST" and path == "/screenshot":
            return 200, {"path": await self.screenshot(str(body["path"]))}
        if method == "POST" and path == "/key":
            self.press(int(body["keycode"]))
            return 200, self.state()
        if method == "POST" and path == "/sensor" and self.sensor is not None:
            kind = body.get("kind")
            if not isinstance(kind, str) or not 0 < len(kind) <= 60:
                raise ValueError("a sensor event needs a 'kind' of 1-60 characters")
            self.sensor(kind, str(body.get("detail", ""))[:120])
            return 200, self.state()
        return 404, {"detail": f"no route {method} {path}"}
