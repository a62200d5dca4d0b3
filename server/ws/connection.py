"""One WebSocket peer: serialised sends, heartbeat bookkeeping, dead-peer detection."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field

from starlette.websockets import WebSocket, WebSocketState

from protocol import ClientKind, Error, ErrorCode, Message, dump_message

log = logging.getLogger(__name__)

CLOSE_REVOKED = 4401
CLOSE_DEAD = 4408
# A peer that has not taken a message in this long has stopped reading (a frozen tab, a stuck
# network): its socket is given up, so that it cannot hold back pushes to everyone else.
SEND_TIMEOUT_S = 10.0


@dataclass(eq=False)
class Connection:
    """A live socket and who is on it once they said hello."""

    ws: WebSocket
    kind: ClientKind
    user_id: int | None = None
    device_id: int | None = None
    elder_id: int | None = None  # the elder a paired box serves
    pairing_request_id: int | None = None
    pairing_secret: str | None = None
    last_heard: float = field(default_factory=time.monotonic)
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    _send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def authenticated(self) -> bool:
        """Whether a hello was accepted on this socket."""
        return (
            self.user_id is not None
            or self.device_id is not None
            or self.pairing_request_id is not None
        )

    def heard(self) -> None:
        """Note that the peer just spoke."""
        self.last_heard = time.monotonic()

    async def send(self, message: Message) -> bool:
        """Send one message; False when the socket is already gone."""
        return await self.send_encoded(dump_message(message))

    async def send_encoded(self, text: str) -> bool:
        """Send a message already encoded (a fan-out encodes once for every recipient)."""
        if self.closed.is_set():
            return False
        async with self._send_lock:
            if self.closed.is_set():  # given up while this send waited for the lock
                return False
            try:
                async with asyncio.timeout(SEND_TIMEOUT_S):
                    await self.ws.send_text(text)
                return True
            except TimeoutError:
                log.warning("%s peer took nothing in %.0f s: given up", self.kind, SEND_TIMEOUT_S)
                self.closed.set()
                return False
            except Exception:  # noqa: BLE001 - a broken socket is just a closed one
                self.closed.set()
                return False

    async def send_error(self, code: ErrorCode, message: str, ref: str | None = None) -> None:
        """Tell the peer what was wrong; the socket stays open."""
        await self.send(Error(code=code, message=message, ref=ref))

    async def close(self, code: int, reason: str = "") -> None:
        """Close the socket once."""
        if self.closed.is_set():
            return
        self.closed.set()
        if self.ws.application_state != WebSocketState.DISCONNECTED:
            with contextlib.suppress(Exception):
                await self.ws.close(code=code, reason=reason)

    async def watch(self, dead_after: float) -> None:
        """Close the socket when the peer has been silent for ``dead_after`` seconds.

        Wakes only when the peer could first be dead, not on a fixed tick: with thousands of
        boxes a 1 s tick (and its `wait_for`) was a visible share of the server's loop. The
        socket's handler cancels this task when the socket ends.
        """
        while not self.closed.is_set():
            silent = time.monotonic() - self.last_heard
            if silent > dead_after:
                log.info("closing silent %s connection after %.1f s", self.kind, silent)
                await self.close(CLOSE_DEAD, "heartbeat timeout")
                return
            await asyncio.sleep(dead_after - silent + 0.05)
