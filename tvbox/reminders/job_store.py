"""`SqliteJobStore`: APScheduler's persistent job store on the stdlib ``sqlite3``.

APScheduler's own ``SQLAlchemyJobStore`` would bring SQLAlchemy into the box (~11 MB of
resident memory, 80-odd modules) for one three-column table. This store keeps the same
table (``apscheduler_jobs``: id, next_run_time as a UTC timestamp, the pickled job state),
so job files written by earlier versions of the box are read as they are.
"""

from __future__ import annotations

import logging
import pickle
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

from apscheduler.job import Job
from apscheduler.jobstores.base import BaseJobStore, ConflictingIdError, JobLookupError
from apscheduler.util import datetime_to_utc_timestamp, utc_timestamp_to_datetime

log = logging.getLogger(__name__)

# Job targets are stored by reference: wake-ups stored before the reminders became a
# feature folder name the old module, and must still restore on a box that upgrades.
_MOVED_FUNCS = {"tvbox.reminder_clock:wake": "tvbox.reminders.clock:wake"}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS apscheduler_jobs (
    id            VARCHAR(191) NOT NULL PRIMARY KEY,
    next_run_time FLOAT,
    job_state     BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_apscheduler_jobs_next_run_time
    ON apscheduler_jobs (next_run_time);
"""


class SqliteJobStore(BaseJobStore):  # type: ignore[misc]
    """Jobs in one SQLite file; each change is committed at once (autocommit)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self._db: sqlite3.Connection | None = None

    @property
    def db(self) -> sqlite3.Connection:
        """The open connection (the store must have been started)."""
        if self._db is None:
            raise RuntimeError("the job store is not started")
        return self._db

    def start(self, scheduler: Any, alias: str) -> None:
        """Open the file and create the table if needed."""
        super().start(scheduler, alias)
        # APScheduler serialises job store calls under its own lock, but they may come
        # from any thread (add_job from a worker, shutdown from a signal handler).
        self._db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        self._db.executescript(_SCHEMA)

    def shutdown(self) -> None:
        """Close the file."""
        if self._db is not None:
            self._db.close()
            self._db = None

    def lookup_job(self, job_id: str) -> Job | None:
        """The job called `job_id`, or None."""
        row = self.db.execute(
            "SELECT job_state FROM apscheduler_jobs WHERE id = ?", (job_id,)
        ).fetchone()
        return self._reconstitute(row[0]) if row else None

    def get_due_jobs(self, now: datetime) -> list[Job]:
        """Jobs whose next run time is `now` or earlier, soonest first."""
        return self._jobs("WHERE next_run_time <= ?", (datetime_to_utc_timestamp(now),))

    def get_next_run_time(self) -> datetime | None:
        """The earliest next run time of any job."""
        row = self.db.execute(
            "SELECT next_run_time FROM apscheduler_jobs WHERE next_run_time IS NOT NULL "
            "ORDER BY next_run_time LIMIT 1"
        ).fetchone()
        return utc_timestamp_to_datetime(row[0]) if row else None

    def get_all_jobs(self) -> list[Job]:
        """Every job, soonest first, paused ones last."""
        jobs = self._jobs()
        self._fix_paused_jobs_sorting(jobs)
        return jobs

    def add_job(self, job: Job) -> None:
        """Store a new job; ConflictingIdError if its id is taken."""
        try:
            self.db.execute(
                "INSERT INTO apscheduler_jobs (id, next_run_time, job_state) VALUES (?, ?, ?)",
                (job.id, datetime_to_utc_timestamp(job.next_run_time), self._state(job)),
            )
        except sqlite3.IntegrityError as err:
            raise ConflictingIdError(job.id) from err

    def update_job(self, job: Job) -> None:
        """Replace a stored job; JobLookupError if there is none."""
        cursor = self.db.execute(
            "UPDATE apscheduler_jobs SET next_run_time = ?, job_state = ? WHERE id = ?",
            (datetime_to_utc_timestamp(job.next_run_time), self._state(job), job.id),
        )
        if cursor.rowcount == 0:
            raise JobLookupError(job.id)

    def remove_job(self, job_id: str) -> None:
        """Delete a job; JobLookupError if there is none."""
        cursor = self.db.execute("DELETE FROM apscheduler_jobs WHERE id = ?", (job_id,))
        if cursor.rowcount == 0:
            raise JobLookupError(job_id)

    def remove_all_jobs(self) -> None:
        """Delete every job."""
        self.db.execute("DELETE FROM apscheduler_jobs")

    @staticmethod
    def _state(job: Job) -> bytes:
        return pickle.dumps(job.__getstate__(), pickle.HIGHEST_PROTOCOL)

    def _reconstitute(self, job_state: bytes) -> Job:
        state = pickle.loads(job_state)
        state["func"] = _MOVED_FUNCS.get(state.get("func"), state.get("func"))
        state["jobstore"] = self
        job = Job.__new__(Job)
        job.__setstate__(state)
        job._scheduler = self._scheduler
        job._jobstore_alias = self._alias
        return job

    def _jobs(self, where: str = "", params: tuple[float, ...] = ()) -> list[Job]:
        rows = self.db.execute(
            f"SELECT id, job_state FROM apscheduler_jobs {where} ORDER BY next_run_time", params
        ).fetchall()
        jobs, failed = [], []
        for job_id, job_state in rows:
            try:
                jobs.append(self._reconstitute(job_state))
            except Exception:
                log.exception("unable to restore job %r: removing it", job_id)
                failed.append((job_id,))
        if failed:
            self.db.executemany("DELETE FROM apscheduler_jobs WHERE id = ?", failed)
        return jobs

    def __repr__(self) -> str:
        return f"<SqliteJobStore {self.path}>"
