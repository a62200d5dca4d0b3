"""Registry of live sockets and fan-out of pushes to the boxes and pages that may see them."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Coroutine, Iterable
from typing import Any

from protocol import Message, Revoked, dump_message
from server.ws.connection import CLOSE_REVOKED, Connection

log = logging.getLogger(__name__)


class Hub:
    """Who is connected, by device, pairing request and user; lives on the server's loop."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self._devices: dict[int, set[Connection]] = defaultdict(set)
        self._pairing: dict[int, set[Connection]] = defaultdict(set)
        self._users: dict[int, set[Connection]] = defaultdict(set)
        self._tasks: set[asyncio.Future[object]] = set()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Remember the loop the sockets live on (called at start-up)."""
        self.loop = loop

    def track(self, task: asyncio.Future[object]) -> asyncio.Future[object]:
        """Keep a background task alive until it ends; shutdown waits for it."""
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def drain(self, timeout: float = 5.0) -> None:
        """Wait for background tasks at shutdown, so none is cut off mid-write."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    def register(self, conn: Connection) -> None:
        """Index an authenticated connection."""
        if conn.device_id is not None:
            self._devices[conn.device_id].add(conn)
        if conn.pairing_request_id is not None:
            self._pairing[conn.pairing_request_id].add(conn)
        if conn.user_id is not None:
            self._users[conn.user_id].add(conn)

    def unregister(self, conn: Connection) -> None:
        """Forget a connection under every key it was indexed by."""
        for index, key in (
            (self._devices, conn.device_id),
            (self._pairing, conn.pairing_request_id),
            (self._users, conn.user_id),
        ):
            if key is not None and key in index:
                index[key].discard(conn)
                if not index[key]:
                    del index[key]

    def device_connected(self, device_id: int) -> bool:
        """Whether the box is online now."""
        return bool(self._devices.get(device_id))

    def user_connected(self, user_id: int) -> bool:
        """Whether the user has a page open now."""
        return bool(self._users.get(user_id))

    def connection_count(self) -> int:
        """How many authenticated sockets are open."""
        return sum(len(s) for s in (*self._devices.values(), *self._users.values()))

    async def to_device(self, device_id: int, message: Message) -> int:
        """Send to every socket of one box; returns how many got it."""
        return await _send_all(self._devices.get(device_id, ()), message)

    async def to_pairing(self, request_id: int, message: Message) -> int:
        """Send to a box still waiting on its pairing code."""
        return await _send_all(self._pairing.get(request_id, ()), message)

    async def to_users(self, user_ids: Iterable[int], message: Message) -> int:
        """Send to every open page of these users."""
        conns = [c for uid in user_ids for c in self._users.get(uid, ())]
        return await _send_all(conns, message)

    async def revoke_device(self, device_id: int, reason: str) -> None:
        """Tell a revoked box and cut its connection at once."""
        for conn in list(self._devices.get(device_id, ())):
            await conn.send(Revoked(message=reason))
            await conn.close(CLOSE_REVOKED, "device revoked")
            self.unregister(conn)

    def pairing_secret(self, request_id: int) -> str | None:
        """The secret a waiting box said hello with (kept only in memory)."""
        for conn in self._pairing.get(request_id, ()):
            if conn.pairing_secret:
                return conn.pairing_secret
        return None

    def run_from_thread(self, coro: Coroutine[Any, Any, object], timeout: float = 5.0) -> None:
        """Run a hub coroutine from a worker thread (sync routes) and wait for it."""
        if self.loop is None or not self.loop.is_running():
            coro.close()
            return
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            future.result(timeout)
        except Exception:  # noqa: BLE001 - a failed push must not fail the request
            log.exception("push from a request failed")


async def _send_all(conns: Iterable[Connection], message: Message) -> int:
    targets = list(conns)
    if not targets:
        return 0
    text = dump_message(message)  # once, not once per recipient
    if len(targets) == 1:
        return int(await targets[0].send_encoded(text))
    results = await asyncio.gather(*(c.send_encoded(text) for c in targets))
    return sum(results)
