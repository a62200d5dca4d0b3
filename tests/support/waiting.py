"""Waiting on a condition with a timeout, by polling: the one way tests wait for something.

Every timeout is stretched by ``ANXIN_TEST_TIMEOUT_SCALE``: a loaded 2-core CI machine runs a
browser, a box and a server at once, and a timeout is only an upper bound (a passing wait is as
fast). A predicate may raise while the thing it watches is not ready yet (a socket not yet
listening, a page element redrawn under us): the wait goes on, and its last error is reported
if time runs out. A predicate that knows the wait is hopeless (the process it waits on has
exited) raises `GaveUp`, which ends the wait at once.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

TIMEOUT_SCALE = float(os.environ.get("ANXIN_TEST_TIMEOUT_SCALE", "1"))
# Polling intervals, not synchronisation: short enough that a passing wait costs nothing.
_SYNC_INTERVAL_S = 0.05
_ASYNC_INTERVAL_S = 0.02


class GaveUp(AssertionError):
    """Raised by a predicate when waiting longer cannot help; passed through at once."""


def scaled(timeout: float) -> float:
    """``timeout`` stretched by ``ANXIN_TEST_TIMEOUT_SCALE``."""
    return timeout * TIMEOUT_SCALE


def _poll(predicate: Callable[[], T | None]) -> tuple[T | None, Exception | None]:
    try:
        return predicate(), None
    except GaveUp:
        raise
    except Exception as err:  # noqa: BLE001 - not ready yet: keep polling until the deadline
        return None, err


def _timed_out(timeout: float, what: str, last_error: Exception | None) -> AssertionError:
    reason = f"; last error: {last_error!r}" if last_error is not None else ""
    return AssertionError(f"timed out after {timeout} s waiting for {what}{reason}")


def wait_until(
    predicate: Callable[[], T | None], timeout: float = 10.0, what: str = "condition"
) -> T:
    """Poll ``predicate`` until it returns something truthy, and return that; AssertionError
    after ``timeout`` seconds (scaled)."""
    timeout = scaled(timeout)
    deadline = time.monotonic() + timeout
    while True:
        value, last_error = _poll(predicate)
        if value:
            return value
        if time.monotonic() > deadline:
            raise _timed_out(timeout, what, last_error)
        time.sleep(_SYNC_INTERVAL_S)


async def async_wait_until(
    predicate: Callable[[], T | None], timeout: float = 10.0, what: str = "condition"
) -> T:
    """Like `wait_until`, inside a coroutine: polls without blocking the loop."""
    timeout = scaled(timeout)
    deadline = time.monotonic() + timeout
    while True:
        value, last_error = _poll(predicate)
        if value:
            return value
        if time.monotonic() > deadline:
            raise _timed_out(timeout, what, last_error)
        await asyncio.sleep(_ASYNC_INTERVAL_S)
