"""Waiting on conditions with a timeout (polling), never sleeping as synchronisation."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

from tests.live import scaled

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout: float, what: str = "condition") -> T:
    """Poll `predicate` until it returns something truthy; AssertionError after `timeout` s."""
    timeout = scaled(timeout)
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


async def async_wait_until(
    predicate: Callable[[], T], timeout: float, what: str = "condition"
) -> T:
    """Like `wait_until`, for coroutines: polls without blocking the loop."""
    timeout = scaled(timeout)
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.02)
