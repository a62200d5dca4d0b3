"""`Hub.push`: one call from any thread, never waiting, in order per thread, failures logged."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest

from server.ws.hub import Hub


@pytest.fixture
async def hub() -> Hub:
    bound = Hub()
    bound.bind(asyncio.get_running_loop())
    return bound


async def test_a_push_from_the_loop_returns_before_it_runs(hub: Hub) -> None:
    release, done = asyncio.Event(), asyncio.Event()

    async def push() -> None:
        await release.wait()
        done.set()

    hub.push(push())  # a wait here would never end: the push needs this very loop
    release.set()
    await asyncio.wait_for(done.wait(), 5)


async def test_a_worker_never_waits_and_its_pushes_keep_their_order(hub: Hub) -> None:
    release = asyncio.Event()
    order: list[str] = []

    async def first() -> None:
        await release.wait()  # held back: the second push must wait for it
        order.append("first")

    async def second() -> None:
        order.append("second")

    def worker() -> None:
        hub.push(first())
        hub.push(second())

    thread = threading.Thread(target=worker)
    thread.start()
    await asyncio.to_thread(thread.join, 5)
    assert not thread.is_alive(), "the worker waited for its pushes"
    # The loop has started both pushes by now (FIFO callbacks), yet neither has finished.
    assert order == []
    release.set()
    await asyncio.wait_for(hub.drain(), 5)
    assert order == ["first", "second"]


@pytest.mark.expect_error_log("^a push failed$")
async def test_a_failed_push_is_logged_and_the_next_one_still_runs(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    ran = asyncio.Event()

    async def broken() -> None:
        raise RuntimeError("socket table corrupted")

    async def fine() -> None:
        ran.set()

    hub.push(broken())
    hub.push(fine())
    await asyncio.wait_for(ran.wait(), 5)
    await hub.drain()
    failed = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage() for r in failed] == ["a push failed"]
    assert "socket table corrupted" in caplog.text


async def test_a_push_without_a_running_loop_is_dropped() -> None:
    async def push() -> None:
        raise AssertionError("must not run")

    Hub().push(push())  # nothing bound: closed quietly, no "never awaited" warning


class _Peer:
    """A socket's far end: takes messages, or (``reading=False``) never takes one."""

    def __init__(self, reading: bool) -> None:
        self.reading = reading
        self.got: list[str] = []

    async def send_text(self, text: str) -> None:
        if not self.reading:
            await asyncio.Event().wait()  # a frozen tab: the send never completes
        self.got.append(text)


async def test_a_peer_that_stops_reading_is_given_up_and_holds_back_nobody(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    from protocol import ClientKind, Heartbeat
    from server.ws import connection

    monkeypatch.setattr(connection, "SEND_TIMEOUT_S", 0.2)
    frozen, alive = _Peer(reading=False), _Peer(reading=True)
    conns = [connection.Connection(ws=p, kind=ClientKind.WEB, user_id=7) for p in (frozen, alive)]  # type: ignore[arg-type]
    for conn in conns:
        hub.register(conn)
    sent = await asyncio.wait_for(hub.to_users({7}, Heartbeat()), 5)
    assert sent == 1 and len(alive.got) == 1, "the reading page got the push"
    assert conns[0].closed.is_set(), "the frozen page's socket was given up"
    # Later pushes no longer wait for the frozen page at all.
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await hub.to_users({7}, Heartbeat()) == 1
    assert loop.time() - started < 0.1 and len(alive.got) == 2
