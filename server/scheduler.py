"""Periodic server jobs (missed-dose sweeps, SOS escalation…) on APScheduler.

Feature modules register a sweep with `@periodic(seconds)`; each sweep is a plain function
taking the `Runtime`, run in a worker thread. Sweeps must be safe to run in several server
processes at once: they claim their work in the database, so each effect happens once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler

if TYPE_CHECKING:
    from server.runtime import Runtime

log = logging.getLogger(__name__)
Sweep = Callable[["Runtime"], None]


@dataclass(frozen=True)
class PeriodicJob:
    """A sweep and how often it runs."""

    name: str
    seconds: float
    fn: Sweep


PERIODIC_JOBS: list[PeriodicJob] = []


def periodic(seconds: float) -> Callable[[Sweep], Sweep]:
    """Register ``fn(rt)`` to run every ``seconds`` while the server runs."""

    def decorate(fn: Sweep) -> Sweep:
        PERIODIC_JOBS.append(PeriodicJob(f"{fn.__module__}.{fn.__name__}", seconds, fn))
        return fn

    return decorate


def start_scheduler(rt: Runtime) -> AsyncIOScheduler:
    """Start every registered sweep on the running loop."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    for job in PERIODIC_JOBS:
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
    return scheduler


def _run_safely(job: PeriodicJob, rt: Runtime) -> None:
    try:
        job.fn(rt)
    except Exception:
        log.exception("periodic job %s failed", job.name)
