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
