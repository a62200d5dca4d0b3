"""Giving the C heap's free memory back to the OS while the box idles.

glibc's malloc returns memory to the OS only from the top of its heap. Start-up (Kivy's first
frames, where Mesa compiles its shaders; font loading; imports) and every burst after it (a
reminder, a call) free many megabytes in the middle of the heap, behind blocks still in use;
those pages stay resident for good. ``malloc_trim(0)`` hands them back (5–15 MB on an idle
box after start-up, measured with bench/reminders.py). It walks the free lists in about a
millisecond, so the box runs it a few seconds after its window is up and then twice a minute.
On a C library without ``malloc_trim`` (musl, macOS) this does nothing.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
from functools import cache
from typing import Any

log = logging.getLogger(__name__)

FIRST_TRIM_SECONDS = 5.0
TRIM_EVERY_SECONDS = 30.0


@cache
def _malloc_trim() -> Any:
    name = ctypes.util.find_library("c")
    try:
        trim = ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        trim = None
    if trim is not None:
        trim.argtypes = [ctypes.c_size_t]
        trim.restype = ctypes.c_int
    return trim


def release_free_heap() -> bool:
    """Return the heap's free pages to the OS; False if the C library cannot."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


async def trim_heap_while_running(
    first: float = FIRST_TRIM_SECONDS, every: float = TRIM_EVERY_SECONDS
) -> None:
    """Release free heap `first` seconds from now, then every `every` seconds, until cancelled."""
    await asyncio.sleep(first)
    if not release_free_heap():
        log.info("no malloc_trim in this C library: freed heap stays with the process")
        return
    while True:
        await asyncio.sleep(every)
        release_free_heap()
