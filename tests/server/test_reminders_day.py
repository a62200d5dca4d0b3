"""Today's doses on the family page survive plan changes: an answer given today stays listed
(pause and resume, new times, the plan ended and replaced), and the list matches the TV's."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from protocol import DoseOutcome, PlanStatus, Schedule
from server.models import Elder, MedicationPlan, User
from server.reminders import plans as plans_module
from server.reminders.doses import day_doses, record_outcome
from server.reminders.plans import update_plan
from server.reminders.schemas import PlanCreate, PlanUpdate
from server.runtime import Runtime
from tests.server.test_reminders_sweep import add_plan
from tests.support.world import World

DAY = date(2026, 11, 22)
SHANGHAI = ZoneInfo("Asia/Shanghai")
Row = tuple[str, str]


def at(hour: int, minute: int = 0) -> datetime:
    """``hour:minute`` on DAY in Shanghai (the demo elder's zone), as UTC."""
    return datetime.combine(DAY, time(hour, minute), SHANGHAI).astimezone(UTC)


def paused_then_resumed(rt: Runtime, user: User, elder_id: int, plan_id: int) -> list[Row]:
    change(rt, user, plan_id, at(10), PlanUpdate(status=PlanStatus.PAUSED))
    while_paused = today(rt, elder_id, at(10, 30))
    change(rt, user, plan_id, at(11), PlanUpdate(status=PlanStatus.ACTIVE))
    return while_paused


def new_times(rt: Runtime, user: User, elder_id: int, plan_id: int) -> list[Row]:
    schedule = Schedule(times=(time(8, 30), time(20, 0)), start_date=date(2026, 1, 1))
    change(rt, user, plan_id, at(10), PlanUpdate(schedule=schedule, dose="2 tablets"))
    return [("08:00", "taken")]


def replaced(rt: Runtime, user: User, elder_id: int, plan_id: int) -> list[Row]:
    change(rt, user, plan_id, at(10), PlanUpdate(status=PlanStatus.ENDED))
    body = PlanCreate(
        medicine="Metformin",
        schedule=Schedule(times=(time(8, 0), time(20, 0)), start_date=date(2026, 1, 1)),
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(plans_module, "utcnow", lambda: at(10))
        with rt.db.session() as db:
            plans_module.create_plan(db, db.get(User, user.id), elder_id, body)  # type: ignore[arg-type]
    return [("08:00", "taken")]


def change(rt: Runtime, user: User, plan_id: int, now: datetime, body: PlanUpdate) -> None:
    """The family changes the plan at ``now`` (as the page and the API do)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(plans_module, "utcnow", lambda: now)
        with rt.db.session() as db:
            update_plan(db, db.get(User, user.id), plan_id, body)  # type: ignore[arg-type]


def today(rt: Runtime, elder_id: int, now: datetime) -> list[Row]:
    """(local time, state) of each dose on the family page's "today" list at ``now``."""
    with rt.db.session() as db:
        elder = db.get(Elder, elder_id)
        assert elder is not None
        return [
            (d.scheduled_local.strftime("%H:%M"), d.state) for d in day_doses(db, elder, DAY, now)
        ]


Change = Callable[[Runtime, User, int, int], list[Row]]


@pytest.mark.parametrize("plan_change", [paused_then_resumed, new_times, replaced])
def test_a_plan_change_keeps_todays_taken_dose_on_the_family_page(
    rt: Runtime, world: World, plan_change: Change
) -> None:
    plan_id = add_plan(rt, world.elder_a.id, (time(8, 0), time(20, 0)), at(7))
    with rt.db.session() as db:
        plan = db.get(MedicationPlan, plan_id)
        assert plan is not None
        local = datetime.combine(DAY, time(8, 0))
        record_outcome(db, plan, local, at(8), DoseOutcome.TAKEN, at(8, 1))
    assert today(rt, world.elder_a.id, at(9)) == [("08:00", "taken"), ("20:00", "upcoming")]
    during = plan_change(rt, world.family_a, world.elder_a.id, plan_id)
    assert during == [("08:00", "taken")], "a paused plan owes nothing but keeps its answer"
    assert today(rt, world.elder_a.id, at(12)) == [("08:00", "taken"), ("20:00", "upcoming")]
