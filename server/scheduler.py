"""Periodic server jobs (missed-dose sweeps, SOS escalation…) on APScheduler.

Features declare their sweeps (`server.features.PeriodicJob`) in their `Feature`; each sweep is
a plain function taking the `Runtime`, run on the sweeps' threads (`server.threads`). Sweeps
must be safe to run in several server processes at once: they claim their work in the database,
so each effect happens once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from server.features import PeriodicJob

if TYPE_CHECKING:
    from server.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sweeps:
    """The scheduler of one process and the threads its sweeps run on."""

    scheduler: AsyncIOScheduler
    threads: ThreadPoolExecutor


def start_scheduler(rt: Runtime) -> Sweeps:
    """Start every declared sweep on the running loop (each runs on a sweep thread)."""
    threads = rt.threads.sweep_executor()
    scheduler = AsyncIOScheduler(timezone="UTC", executors={"default": threads})
    for job in rt.wiring.sweeps:
        scale = rt.settings.sweep_interval_scale
        scheduler.add_job(
            _run_safely,
            "interval",
            seconds=max(0.05, job.seconds * scale),
            args=(job, rt),
            id=job.name,
            max_instances=1,
            coalesce=True,
        )
    scheduler.start()
    return Sweeps(scheduler, threads)


async def stop_scheduler(sweeps: Sweeps, timeout: float = 10.0) -> None:
    """Start no more sweeps and let those under way finish (up to ``timeout`` seconds).

    A sweep half done (an SOS escalation, say) is better finished than cut; the wait runs on
    a thread, so the loop keeps serving while it lasts.
    """
    sweeps.scheduler.shutdown(wait=False)  # on the loop: its timer belongs to the loop
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.to_thread(sweeps.threads.shutdown, True), timeout)


def _run_safely(job: PeriodicJob, rt: Runtime) -> None:
    try:
        job.fn(rt)
    except Exception:
        log.exception("periodic job %s failed", job.name)
