"""The reminder clock: real APScheduler wake-ups on a persistent SQLite job store."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from protocol import ElderInfo, Lang, MedPlans, PlanInfo, Schedule
from tests.support.viewmodels import RecordingSpeaker
from tests.support.waiting import async_wait_until
from tvbox.box import AppViewModel, Screen
from tvbox.context import Clock as BoxClock
from tvbox.events import ServerMessage
from tvbox.outbox import Outbox
from tvbox.reminders.clock import ReminderClock
from tvbox.store import BoxStore

ELDER = ElderInfo(id=1, name="王秀英", lang=Lang.EN, timezone="Asia/Shanghai")


def stored_job_ids(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return [row[0] for row in db.execute("SELECT id FROM apscheduler_jobs ORDER BY id")]


def test_a_dose_wakes_the_box_on_time_and_jobs_persist(
    store: BoxStore, speaker: RecordingSpeaker, tmp_path: Path
) -> None:
    store.save_pairing(7, "token-7", ELDER)
    vm = AppViewModel(store, Outbox(store), speaker, Lang.EN)
    jobs = tmp_path / "reminder_jobs.sqlite3"
    tz = ZoneInfo(ELDER.timezone)
    due = datetime.now(UTC) + timedelta(seconds=1.5)
    later = due + timedelta(hours=2)
    local, local_later = due.astimezone(tz), later.astimezone(tz)
    plan = PlanInfo(
        id=1,
        medicine="Amlodipine",
        schedule=Schedule(
            times=(
                local.time().replace(tzinfo=None, microsecond=0),
                local_later.time().replace(tzinfo=None, microsecond=0),
            ),
            start_date=local.date(),
        ),
        updated_at=datetime.now(UTC) - timedelta(seconds=5),
    )

    async def scenario() -> tuple[int, float]:
        clock = ReminderClock(vm.reminder_control, jobs)
        clock.start()
        try:
            vm.handle_link_event(ServerMessage(MedPlans(elder_id=1, plans=[plan])))
            assert len(stored_job_ids(jobs)) >= 2, "upcoming doses are stored jobs"
            await asyncio.wait_for(
                async_wait_until(lambda: vm.screen is Screen.REMINDER, 10, "the reminder"), 15
            )
            late = (datetime.now(UTC) - due.replace(microsecond=0)).total_seconds()
            return clock.wakes, late
        finally:
            clock.stop()

    wakes, late = asyncio.run(scenario())
    assert wakes >= 1, "the scheduler's wake-up job showed it (not only the slow tick)"
    assert late < 1.0
    # After a stop the stored jobs are still there for the next start.
    ids = stored_job_ids(jobs)
    assert any(later.replace(microsecond=0).isoformat()[:16] in i for i in ids), ids


def test_a_wake_up_due_but_not_yet_run_survives_a_resync(
    store: BoxStore, speaker: RecordingSpeaker, tmp_path: Path
) -> None:
    # On a busy box the loop may handle a key (a snooze re-plans the wake-ups) after a dose's
    # time but before the scheduler's timer: that dose's wake-up must still fire at once,
    # not wait for the 15 s tick.
    ahead = [timedelta(0)]
    store.save_pairing(7, "token-7", ELDER)
    box_clock = BoxClock(now=lambda: datetime.now(UTC) + ahead[0])
    vm = AppViewModel(store, Outbox(store), speaker, Lang.EN, clock=box_clock)
    tz = ZoneInfo(ELDER.timezone)
    due = (datetime.now(UTC) + timedelta(seconds=2)).replace(microsecond=0)
    local = due.astimezone(tz)
    plan = PlanInfo(
        id=1,
        medicine="Metformin",
        schedule=Schedule(times=(local.time().replace(tzinfo=None),), start_date=local.date()),
        updated_at=datetime.now(UTC) - timedelta(seconds=5),
    )

    async def scenario() -> int:
        clock = ReminderClock(vm.reminder_control, tmp_path / "reminder_jobs.sqlite3")
        clock.start()
        try:
            vm.handle_link_event(ServerMessage(MedPlans(elder_id=1, plans=[plan])))
            assert vm.screen is not Screen.REMINDER
            # The box's own clock has passed the dose; the scheduler has not had its turn.
            ahead[0] = due + timedelta(milliseconds=500) - datetime.now(UTC)
            clock.resync()
            await asyncio.wait_for(
                async_wait_until(lambda: vm.screen is Screen.REMINDER, 20, "the reminder"), 90
            )
            return clock.wakes
        finally:
            clock.stop()

    assert asyncio.run(scenario()) >= 1, "shown by its wake-up, not 15 s late by the tick"
