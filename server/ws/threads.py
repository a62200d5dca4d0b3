"""Worker threads for the database work of box sockets (hello, state sent on connect).

After a restart every box says hello within seconds. In the shared request pool (40
threads) those lookups contended for the GIL and churned SQLite connections (each new one
runs its PRAGMAs with a cold page cache); a few dedicated threads do the same work faster
and leave the request pool to pages and the API.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

T = TypeVar("T")

BOX_THREADS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="box-db")


async def in_box_thread(fn: Callable[..., T], *args: Any) -> T:
    """Run blocking database work of a box socket on the box threads."""
    return await asyncio.get_running_loop().run_in_executor(BOX_THREADS, partial(fn, *args))
