"""Every thread pool of the server, owned by the runtime (``rt.threads``), and the thread policy.

Thread policy:

- **The loop** (one asyncio loop, the server's) runs the sockets, ``async def`` routes and
  socket handlers, and every write to a socket. Nothing that blocks runs on it: no
  SQLAlchemy session, no SMTP, no password hash, no file or network wait.
- **Database work of a request** runs on the request threads: routes that touch the
  database are plain ``def`` and FastAPI runs them on Starlette's thread pool (anyio's
  default limiter, 40 threads).
  Socket handlers of pages and of boxes' occasional messages, and the presence pushes, use the
  same pool through `Threads.in_request_thread`.
- **Box sockets' database work** (hello, the state sent on connect) runs on the box threads
  (`Threads.in_box_thread`): after a restart thousands of boxes say hello at once, and in the
  request pool their lookups contended for the GIL and churned SQLite connections.
- **SOS intake** runs on the SOS threads (`Threads.in_sos_thread`) so it never queues behind
  hellos; on SQLite one thread takes the writes in turn (one writer at a time anyway).
- **Sweeps** run on the sweeps' threads (`Threads.sweep_executor`, one pool per scheduler run),
  so a sweep under way at shutdown finishes instead of being cancelled.
- **Password checks** run on their own few threads (`Threads.password_checks`), gated by
  `server.password_checks.PasswordCheckGate`, which bounds their CPU and memory.
- **Shutdown chores** (the last flush of last-seen times, waiting for the sweeps' pool) use
  ``asyncio.to_thread``: the pools above may already be closing.
- **Pushes**: ``rt.hub.push(coro)`` is the one push call safe from anywhere, any thread, loop
  or worker; it never blocks the caller (see `server.ws.hub`). Coroutines already on the loop
  may also ``await`` the hub's ``to_*`` sends directly.

The pools are made when first used and shut down with the runtime (`Threads.close`, at the
end of the app's lifespan); a runtime used again afterwards makes fresh ones.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from apscheduler.executors.pool import ThreadPoolExecutor as SweepExecutor
from starlette.concurrency import run_in_threadpool

T = TypeVar("T")

BOX_THREADS = 4
SOS_THREADS = 4
SWEEP_THREADS = 4


class Threads:
    """The pools of one server process (see the module docstring for what runs where)."""

    def __init__(self, password_threads: int, sqlite: bool) -> None:
        self._password_threads = password_threads
        self._sqlite = sqlite
        self._pools: dict[str, ThreadPoolExecutor] = {}

    def _pool(self, name: str, size: int) -> ThreadPoolExecutor:
        pool = self._pools.get(name)
        if pool is None:
            pool = self._pools[name] = ThreadPoolExecutor(size, thread_name_prefix=name)
        return pool

    @property
    def password_checks(self) -> Executor:
        """The threads that hash passwords (a few: each check takes ~19 MiB and a core)."""
        return self._pool("password-check", self._password_threads)

    async def in_box_thread(self, fn: Callable[..., T], *args: Any) -> T:
        """Run blocking database work of a box socket on the box threads."""
        pool = self._pool("box-db", BOX_THREADS)
        return await asyncio.get_running_loop().run_in_executor(pool, partial(fn, *args))

    async def in_sos_thread(self, fn: Callable[..., T], *args: Any) -> T:
        """Run blocking SOS work on the SOS threads (one thread on SQLite: one writer)."""
        # SQLite has one writer at a time: parallel SOS writers only wait in its busy handler,
        # which sleeps up to 100 ms between tries (measured: most SOS thread time went there
        # at 2,000 boxes). One thread takes them in turn, with no such sleeps.
        pool = self._pool("sos", 1 if self._sqlite else SOS_THREADS)
        return await asyncio.get_running_loop().run_in_executor(pool, partial(fn, *args))

    async def in_request_thread(self, fn: Callable[..., T], *args: Any) -> T:
        """Run blocking work on the request threads (Starlette's pool)."""
        return await run_in_threadpool(fn, *args)

    def sweep_executor(self) -> SweepExecutor:
        """A fresh pool for one run of the scheduler (shut down by `stop_scheduler`)."""
        # Not the loop's default executor: at shutdown the asyncio executor cancels the job
        # under way (and logs it as a failed job), where a thread pool lets it finish.
        return SweepExecutor(max_workers=SWEEP_THREADS)

    def close(self) -> None:
        """Shut the pools down without waiting; the next use makes new ones."""
        pools, self._pools = self._pools, {}
        for pool in pools.values():
            pool.shutdown(wait=False)
