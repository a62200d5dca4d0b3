"""The box's APScheduler job store on stdlib sqlite3: jobs survive a restart, and files written
by APScheduler's SQLAlchemy store (earlier boxes) are read as they are."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.jobstores.base import ConflictingIdError, JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from tests.support.waiting import async_wait_until
from tvbox.reminders.job_store import SqliteJobStore

FIRED: list[str] = []


def fired(name: str) -> None:
    """Job target (stored by reference, so module-level)."""
    FIRED.append(name)


def ids(store: SqliteJobStore) -> list[str]:
    return [job.id for job in store.get_all_jobs()]


def scheduler_on(store: object) -> AsyncIOScheduler:
    return AsyncIOScheduler(jobstores={"default": store}, timezone=UTC)


def test_jobs_persist_in_order_and_errors_are_apschedulers(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite3"
    soon = datetime.now(UTC) + timedelta(hours=1)

    async def first_run() -> None:
        scheduler = scheduler_on(SqliteJobStore(path))
        scheduler.start(paused=True)
        for i, hours in enumerate((3, 1, 2)):
            scheduler.add_job(
                f"{__name__}:fired",
                "date",
                run_date=soon + timedelta(hours=hours),
                args=[f"dose{i}"],
                id=f"dose{i}",
            )
        with pytest.raises(ConflictingIdError):
            scheduler.add_job(f"{__name__}:fired", "date", run_date=soon, args=["x"], id="dose0")
        scheduler.reschedule_job("dose0", trigger="date", run_date=soon)
        scheduler.remove_job("dose2")
        with pytest.raises(JobLookupError):
            scheduler.remove_job("dose2")
        scheduler.shutdown(wait=False)

    asyncio.run(first_run())

    store = SqliteJobStore(path)
    store.start(None, "default")
    try:
        assert ids(store) == ["dose0", "dose1"]
        assert abs(store.get_next_run_time() - soon) < timedelta(milliseconds=1)
        assert store.lookup_job("dose1") is not None and store.lookup_job("nope") is None
        assert [j.id for j in store.get_due_jobs(soon + timedelta(minutes=1))] == ["dose0"]
        store.remove_all_jobs()
        assert ids(store) == [] and store.get_next_run_time() is None
    finally:
        store.shutdown()


def test_a_due_job_fires_from_the_file(tmp_path: Path) -> None:
    FIRED.clear()

    async def scenario() -> None:
        scheduler = scheduler_on(SqliteJobStore(tmp_path / "jobs.sqlite3"))
        scheduler.start()
        try:
            scheduler.add_job(
                f"{__name__}:fired",
                "date",
                args=["now"],
                run_date=datetime.now(UTC) + timedelta(seconds=0.2),
            )
            await async_wait_until(lambda: FIRED, 10, "the job to fire")
        finally:
            scheduler.shutdown(wait=False)

    asyncio.run(scenario())
    assert FIRED == ["now"]


def test_reads_jobs_written_by_the_sqlalchemy_store_of_earlier_boxes(tmp_path: Path) -> None:
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    path = tmp_path / "reminder_jobs.sqlite3"
    at = datetime.now(UTC) + timedelta(hours=5)

    async def old_box() -> None:
        old = SQLAlchemyJobStore(url=f"sqlite:///{path}")
        scheduler = scheduler_on(old)
        scheduler.start(paused=True)
        scheduler.add_job(f"{__name__}:fired", "date", run_date=at, args=["old"], id="wake:old")
        scheduler.shutdown(wait=False)

    asyncio.run(old_box())
    store = SqliteJobStore(path)
    store.start(None, "default")
    try:
        job = store.lookup_job("wake:old")
        assert job is not None and abs(job.next_run_time - at) < timedelta(milliseconds=1)
        assert abs(store.get_next_run_time() - at) < timedelta(milliseconds=1)
    finally:
        store.shutdown()


def test_wake_ups_stored_before_the_feature_folder_still_restore(tmp_path: Path) -> None:
    # Boxes that stored wake-ups as `tvbox.reminder_clock:wake` upgrade to a box where the
    # module is `tvbox.reminders.clock`: their jobs restore instead of being dropped.
    import pickle
    import sqlite3

    from tvbox.reminders import clock

    path = tmp_path / "jobs.sqlite3"
    at = datetime.now(UTC) + timedelta(hours=1)

    async def store_one() -> None:
        scheduler = scheduler_on(SqliteJobStore(path))
        scheduler.start(paused=True)
        scheduler.add_job("tvbox.reminders.clock:wake", "date", run_date=at, id="wake:1")
        scheduler.shutdown(wait=False)

    asyncio.run(store_one())
    with sqlite3.connect(path) as db:
        (blob,) = db.execute("SELECT job_state FROM apscheduler_jobs").fetchone()
        state = pickle.loads(blob)
        state["func"] = "tvbox.reminder_clock:wake"
        db.execute("UPDATE apscheduler_jobs SET job_state = ?", (pickle.dumps(state),))
    store = SqliteJobStore(path)
    store.start(None, "default")
    try:
        (job,) = store.get_all_jobs()
        assert job.func is clock.wake
    finally:
        store.shutdown()
