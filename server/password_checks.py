"""A bounded queue for password checks, so that a log-in flood cannot take the server down.

Each argon2 check takes ~19 MiB and most of a core for tens of milliseconds. Unbounded, 80
concurrent log-ins ran 40 checks at once (one per worker thread of the shared pool) and took
the server from 146 MB to 2.4 GB while `/healthz` waited seconds for a thread.

Here the checks run on their own ``concurrent`` threads (``rt.threads.password_checks``). That
bounds the CPU they take, and also the memory: glibc gives each thread that allocates a 19 MiB
buffer an arena that keeps it, so 40 threads checking in turn kept ~40 such buffers.

Log-ins wait for a turn on the event loop (a coroutine, no thread, no database connection) for
at most ``wait_seconds``, at most ``queue`` of them; beyond either bound the answer is 503 with
``Retry-After``. Waiting rather than refusing at once matters: a flooding client that is
refused at once comes straight back, and a thousand refusals a second kept the event loop busy
enough to slow `/healthz` and SOS delivery.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from functools import partial
from typing import ParamSpec, TypeVar

from server.errors import ServerBusy

P = ParamSpec("P")
T = TypeVar("T")
RETRY_AFTER_SECONDS = 2.0
BUSY_MESSAGE = "the server is busy checking passwords; try again shortly"


class PasswordCheckGate:
    """``concurrent`` password checks at once; ``queue`` more wait ``wait_seconds`` at most.

    Used from the event loop only (its counters and semaphore are not thread-safe).
    """

    def __init__(
        self,
        concurrent: int,
        queue: int,
        wait_seconds: float,
        threads: Callable[[], Executor] | None = None,
    ) -> None:
        if threads is None:
            own = ThreadPoolExecutor(concurrent, thread_name_prefix="password-check")
            threads = lambda: own  # noqa: E731
        self._threads = threads
        self._turns: asyncio.Semaphore | None = None  # made on the loop that uses it
        self._concurrent = concurrent
        self.queue = queue
        self.wait_seconds = wait_seconds
        self.waiting = 0

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args)`` on a password-check thread once it is our turn; else `ServerBusy`."""
        if self._turns is None:
            self._turns = asyncio.Semaphore(self._concurrent)
        if self.waiting >= self.queue and self._turns.locked():
            raise ServerBusy(BUSY_MESSAGE, RETRY_AFTER_SECONDS)
        self.waiting += 1
        try:
            async with asyncio.timeout(self.wait_seconds):
                await self._turns.acquire()
        except TimeoutError:
            raise ServerBusy(BUSY_MESSAGE, RETRY_AFTER_SECONDS) from None
        finally:
            self.waiting -= 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._threads(), partial(fn, *args, **kwargs))
        finally:
            self._turns.release()
