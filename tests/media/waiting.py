"""Polling helper for media tests: wait on a condition with a timeout, never a fixed sleep."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from tests.live import scaled

STEP_TIMEOUT_S = 15.0


async def wait_for(predicate: Callable[[], bool], timeout: float = STEP_TIMEOUT_S) -> None:
    """Poll `predicate` on the loop until true; raise TimeoutError after `timeout` seconds."""

    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), scaled(timeout))
