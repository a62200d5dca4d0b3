"""When the box wakes for medicines: APScheduler on a persistent job store in its own SQLite file.

Each upcoming dose (and each snooze end) is a ``date`` job in ``<data_dir>/reminder_jobs.sqlite3``
whose id is its instant, so reminders fire on time with the network down and the jobs survive a
restart. The plans in the box store are the source of truth: at start and on every plan change
the jobs are re-derived from them (`resync`), and `ReminderController.check_reminders` settles doses
whose time passed while the box was off (shown within the grace window, missed after it).

A slow ``tick`` job (in memory) repeats the spoken reminder every 5 minutes, re-plans the
horizon, and is a safety net should a wake-up ever be dropped.
"""

from __future__ import annotations

import logging
from datetime import UTC, timedelta
from pathlib import Path

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from tvbox.reminders.controller import ReminderController
from tvbox.reminders.job_store import SqliteJobStore

log = logging.getLogger(__name__)
HORIZON = timedelta(hours=36)
TICK_SECONDS = 15.0
_ACTIVE: ReminderClock | None = None


async def wake() -> None:
    """Job target (stored by reference, so it must be module-level): a dose may be due now."""
    if _ACTIVE is not None:
        _ACTIVE.wake()


class ReminderClock:
    """Owns the scheduler; calls the reminders' controller when a dose may be due."""

    def __init__(
        self, control: ReminderController, jobs_path: Path, horizon: timedelta = HORIZON
    ) -> None:
        self.control = control
        self.jobs_path = jobs_path
        self.horizon = horizon
        self.scheduler: AsyncIOScheduler | None = None
        self.wakes = 0

    def start(self) -> None:
        """Start on the running loop (call from inside it)."""
        global _ACTIVE
        _ACTIVE = self
        self.jobs_path.parent.mkdir(parents=True, exist_ok=True)
        self.scheduler = AsyncIOScheduler(
            jobstores={
                "default": SqliteJobStore(self.jobs_path),
                "memory": MemoryJobStore(),
            },
            timezone=UTC,
        )
        self.scheduler.start()
        self.scheduler.add_job(
            self._tick,
            "interval",
            seconds=TICK_SECONDS,
            id="tick",
            jobstore="memory",
            # The safety net runs however late a busy loop gets to it (APScheduler's
            # default would skip a run more than 1 s late).
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )
        self.resync()
        self.control.watch_plans(self.resync)

    def stop(self) -> None:
        """Stop the scheduler; persisted jobs stay for the next start."""
        global _ACTIVE
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if _ACTIVE is self:
            _ACTIVE = None

    def resync(self) -> None:
        """Replace the stored wake-ups with those the current plans call for."""
        if self.scheduler is None:
            return
        now = self.control.now()
        wakeups = self.control.reminders.wakeups(now, self.horizon)
        wanted = {f"wake:{t.isoformat()}": t for t in wakeups}
        for job in self.scheduler.get_jobs(jobstore="default"):
            # A wake-up already due has not run yet only because the loop was busy (a key
            # handled first, a slow frame): it must still run, so it is never dropped here.
            due = job.next_run_time is not None and job.next_run_time <= now
            if job.id not in wanted and not due:
                job.remove()
        have = {job.id for job in self.scheduler.get_jobs(jobstore="default")}
        grace = int(self.control.reminders.grace.total_seconds())
        for job_id, at in wanted.items():
            if job_id not in have:
                self.scheduler.add_job(
                    "tvbox.reminders.clock:wake",
                    "date",
                    run_date=at,
                    id=job_id,
                    misfire_grace_time=grace,
                    coalesce=True,
                    replace_existing=True,
                )

    def wake(self) -> None:
        """A wake-up job fired: show what is due."""
        self.wakes += 1
        self.control.check_reminders()

    async def _tick(self) -> None:
        self.control.check_reminders()
        self.control.repeat_reminder_if_due()
        self.resync()
