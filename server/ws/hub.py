"""Registry of live sockets and fan-out of pushes to the boxes and pages that may see them.

How pushes work (the thread policy of the whole server, which pool runs what, is in
`server.threads`):

- Sockets live on one event loop, the server's (bound at start-up). Only that loop writes to
  them. Coroutines already on the loop may ``await`` the hub's ``to_*`` sends directly.
- Everything else pushes with ``Hub.push(coro)``, from any thread: the loop's own (a socket
  handler, an ``async def`` route) or a worker (a plain ``def`` route, a sweep, an SOS or box
  thread). It never blocks the caller: on the loop it starts a task; from a worker it hands the
  coroutine to the loop and returns at once. A request thread does not wait for delivery: the
  box protocol's acks (and the box's re-fetch on reconnect) are what guarantee a box hears,
  and pushes to pages are best-effort. Waiting would only hold a request thread, and, from the
  loop's own thread, freeze the whole server until the wait timed out.
- Pushes made by one thread run in the order it made them, each after the previous one has
  finished, so a recipient never sees a later change before an earlier one.
- A push that fails is logged (it is a server bug, so at ERROR) and never fails the caller.
  Shutdown waits for pushes still running (``drain``); pushes made after the loop stopped are
  dropped.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import defaultdict
from collections.abc import Coroutine, Iterable
from typing import Any

from protocol import Message, Revoked, RevokeReason, dump_message
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
        # The last push of each thread (by thread id), which its next push waits for; only
        # ever touched on the loop.
        self._last_push: dict[int, asyncio.Task[None]] = {}

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

    def devices_online(self) -> int:
        """How many boxes are online now (read from any thread: one ``len`` of a dict)."""
        return len(self._devices)

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

    async def revoke_device(
        self, device_id: int, message: str, reason: RevokeReason = RevokeReason.UNPAIRED
    ) -> None:
        """Tell a revoked box (and why) and cut its connection at once."""
        for conn in list(self._devices.get(device_id, ())):
            await conn.send(Revoked(message=message, reason=reason))
            await conn.close(CLOSE_REVOKED, "device revoked")
            self.unregister(conn)

    async def close_user(self, user_id: int, reason: str) -> int:
        """Close every open page socket of a person (deactivated, logged out everywhere)."""
        conns = list(self._users.get(user_id, ()))
        for conn in conns:
            await conn.close(CLOSE_REVOKED, reason)
            self.unregister(conn)
        return len(conns)

    def pairing_secret(self, request_id: int) -> str | None:
        """The secret a waiting box said hello with (kept only in memory)."""
        for conn in self._pairing.get(request_id, ()):
            if conn.pairing_secret:
                return conn.pairing_secret
        return None

    def push(self, coro: Coroutine[Any, Any, object]) -> None:
        """Run a push coroutine on the loop, from any thread, without waiting for it.

        Pushes made by one thread run in the order they were made (see the module docstring).
        """
        loop = self.loop
        if loop is None or loop.is_closed() or not loop.is_running():
            coro.close()  # no sockets to push to
            return
        sender = threading.get_ident()
        if _running_loop() is loop:
            self._start(coro, sender)
            return
        try:
            loop.call_soon_threadsafe(self._start, coro, sender)
        except RuntimeError:  # the loop closed since the check above
            coro.close()

    def _start(self, coro: Coroutine[Any, Any, object], sender: int) -> None:
        assert self.loop is not None
        task = self.loop.create_task(_after(self._last_push.get(sender), coro))
        self._last_push[sender] = task
        self.track(task)  # type: ignore[arg-type]  # a Task is a Future
        task.add_done_callback(lambda done: self._push_done(sender, done))

    def _push_done(self, sender: int, task: asyncio.Task[None]) -> None:
        if self._last_push.get(sender) is task:
            del self._last_push[sender]
        if task.cancelled():
            return
        err = task.exception()
        if err is not None:
            log.error("a push failed", exc_info=err)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


async def _after(previous: asyncio.Task[None] | None, coro: Coroutine[Any, Any, object]) -> None:
    """Run ``coro`` once ``previous`` (the same thread's last push) has finished."""
    try:
        if previous is not None and not previous.done():
            await asyncio.wait({previous})
    except BaseException:
        coro.close()  # cancelled before it started: no "never awaited" warning
        raise
    await coro


async def _send_all(conns: Iterable[Connection], message: Message) -> int:
    targets = list(conns)
    if not targets:
        return 0
    text = dump_message(message)  # once, not once per recipient
    if len(targets) == 1:
        return int(await targets[0].send_encoded(text))
    results = await asyncio.gather(*(c.send_encoded(text) for c in targets))
    return sum(results)
