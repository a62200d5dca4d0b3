"""Sliding-window rate limits against guessing passwords and pairing codes, in bounded memory."""

from __future__ import annotations

import ipaddress
import threading
import time
from collections import OrderedDict, deque

from server.errors import RateLimited


class RateLimiter:
    """At most ``limit`` attempts per ``window`` seconds for each key.

    Kept in process memory: one server process guards its own door. Several processes
    behind a balancer each enforce the limit, which still bounds guessing.

    Memory is bounded: at most ``max_keys`` keys are remembered, each with at most
    ``limit`` timestamps. A key whose attempts have all expired is forgotten when next
    seen; past ``max_keys`` the key attempted least recently is forgotten first. A flood
    of made-up keys (random e-mails) therefore costs a fixed amount of memory, and the
    keys it pushes out are the quiet ones, not those being hammered right now.
    """

    def __init__(self, limit: int, window: float = 60.0, max_keys: int = 10_000) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many keys are remembered right now."""
        return len(self._hits)

    def _live_hits(self, key: str, now: float) -> deque[float] | None:
        hits = self._hits.get(key)
        if hits is None:
            return None
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if not hits:
            del self._hits[key]
            return None
        return hits

    def _refuse_if_full(self, hits: deque[float] | None, now: float, what: str) -> None:
        if hits is not None and len(hits) >= self.limit:
            retry = max(1.0, hits[0] + self.window - now)
            raise RateLimited(f"too many {what} attempts; try again in {retry:.0f} s", retry)

    def check(self, key: str, what: str) -> None:
        """Raise `RateLimited` when ``key`` has used up its attempts (counts nothing)."""
        now = time.monotonic()
        with self._lock:
            self._refuse_if_full(self._live_hits(key, now), now, what)

    def hit(self, key: str, what: str) -> None:
        """Count one attempt for ``key``; raise `RateLimited` (not counting it) when over."""
        now = time.monotonic()
        with self._lock:
            hits = self._live_hits(key, now)
            self._refuse_if_full(hits, now, what)
            if hits is None:
                while len(self._hits) >= self.max_keys:
                    self._hits.popitem(last=False)
                hits = self._hits[key] = deque(maxlen=self.limit)
            else:
                self._hits.move_to_end(key)
            hits.append(now)

    def forget_one(self, key: str) -> None:
        """Take back the latest attempt of ``key`` (it turned out to be a success)."""
        with self._lock:
            hits = self._hits.get(key)
            if hits:
                hits.pop()
                if not hits:
                    del self._hits[key]

    def reset(self, key: str) -> None:
        """Forget the attempts of ``key`` (after a success)."""
        with self._lock:
            self._hits.pop(key, None)


def address_bucket(host: str) -> str:
    """The key of a client address for per-address limits.

    An IPv6 host usually holds a whole /64, so every address in it counts as one;
    anything that is not an IP address (a test client's name) is its own key.
    """
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host
    if ip.version == 6 and ip.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip.ipv4_mapped or ip) if ip.version == 6 else str(ip)
