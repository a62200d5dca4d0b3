"""Sliding-window rate limits against guessing passwords and pairing codes."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

from server.errors import RateLimited


class RateLimiter:
    """At most ``limit`` attempts per ``window`` seconds for each key.

    Kept in process memory: one server process guards its own door. Several processes
    behind a balancer each enforce the limit, which still bounds guessing.
    """

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def check(self, key: str, what: str) -> None:
        """Raise `RateLimited` when ``key`` has used up its attempts."""
        now = time.monotonic()
        with self._lock:
            hits = self._hits[key]
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                retry = max(1.0, hits[0] + self.window - now)
                raise RateLimited(f"too many {what} attempts; try again in {retry:.0f} s", retry)

    def hit(self, key: str, what: str) -> None:
        """Count one attempt for ``key``; raise `RateLimited` when over the limit."""
        self.check(key, what)
        with self._lock:
            self._hits[key].append(time.monotonic())

    def reset(self, key: str) -> None:
        """Forget the attempts of ``key`` (after a success)."""
        with self._lock:
            self._hits.pop(key, None)
