"""A bounded queue for password checks, so that a log-in flood cannot take the server down.

Each argon2 check takes ~19 MiB and most of a core for tens of milliseconds. Unbounded, 80
concurrent log-ins ran 40 checks at once (one per worker thread) and took the server from
146 MB to 2.4 GB while `/healthz` waited seconds for a thread. Here at most ``concurrent``
checks run at once, at most ``queue`` more wait for their turn, and any log-in beyond that
is answered 503 with ``Retry-After`` at once, holding no thread, no memory and no database
connection.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from server.errors import ServerBusy

# Long enough for the whole queue to drain at ~0.1 s per check on a loaded 2-core box.
WAIT_SECONDS = 10.0
RETRY_AFTER_SECONDS = 2.0


class PasswordCheckGate:
    """At most ``concurrent`` password checks at once and ``queue`` waiting for a turn."""

    def __init__(self, concurrent: int, queue: int, wait_seconds: float = WAIT_SECONDS) -> None:
        self._turns = threading.BoundedSemaphore(concurrent)
        self._capacity = concurrent + queue
        self._admitted = 0
        self._lock = threading.Lock()
        self.wait_seconds = wait_seconds

    @property
    def admitted(self) -> int:
        """Checks running or waiting right now."""
        return self._admitted

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Hold one check's turn (blocking this worker thread); `ServerBusy` when full."""
        with self._lock:
            if self._admitted >= self._capacity:
                raise ServerBusy(
                    "the server is busy checking passwords; try again shortly", RETRY_AFTER_SECONDS
                )
            self._admitted += 1
        try:
            if not self._turns.acquire(timeout=self.wait_seconds):
                raise ServerBusy(
                    "the server is busy checking passwords; try again shortly",
                    RETRY_AFTER_SECONDS,
                )
            try:
                yield
            finally:
                self._turns.release()
        finally:
            with self._lock:
                self._admitted -= 1
