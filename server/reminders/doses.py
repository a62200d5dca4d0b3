"""What became of each dose: answers from the box, and the day and adherence views.

A dose is (plan id, scheduled local date-time). Its record is created by the first of: the
box's answer, or the missed-dose sweep. A later "taken" or "skipped" from the box overrides
"missed" (the elder took it late); nothing overrides "taken" or "skipped".
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from protocol import DoseAnswer, DoseOutcome, PlanStatus
from protocol.reminders import FINAL_OUTCOMES
from protocol.schedule import doses_between, local_day_bounds, zone
from server import audit
from server.accounts import elder_of
from server.models import Device, DoseRecord, Elder, MedicationPlan
from server.push import elder_audience
from server.reminders.plans import plans_of, schedule_of
from server.reminders.schemas import AdherenceDayPublic, DosePublic
from server.runtime import Runtime

log = logging.getLogger(__name__)


def local_text(local: datetime) -> str:
    """The stored form of a local dose time (second precision, no zone)."""
    return local.replace(tzinfo=None, microsecond=0).isoformat()


def merge_outcome(current: DoseOutcome, new: DoseOutcome) -> DoseOutcome:
    """The outcome after ``new`` is reported for a dose that is ``current``."""
    if current in FINAL_OUTCOMES:
        return current
    if new in FINAL_OUTCOMES:
        return new
    if DoseOutcome.MISSED in (current, new):
        return DoseOutcome.MISSED
    return DoseOutcome.SNOOZED


def record_outcome(
    db: Session,
    plan: MedicationPlan,
    local: datetime,
    at: datetime,
    outcome: DoseOutcome,
    answered_at: datetime | None,
    device_id: int | None = None,
) -> DoseRecord:
    """Create or merge the record of one dose (safe against a concurrent insert)."""
    key = local_text(local)
    for _attempt in range(2):
        row = db.scalar(
            select(DoseRecord).where(
                DoseRecord.plan_id == plan.id, DoseRecord.scheduled_local == key
            )
        )
        if row is None:
            row = DoseRecord(
                plan_id=plan.id,
                elder_id=plan.elder_id,
                scheduled_local=key,
                scheduled_at=at,
                outcome=outcome,
                answered_at=answered_at,
                device_id=device_id,
                snoozes=1 if outcome is DoseOutcome.SNOOZED else 0,
            )
            try:
                with db.begin_nested():
                    db.add(row)
            except IntegrityError:
                continue  # the sweep (or another socket) inserted it first: merge instead
            return row
        merged = merge_outcome(row.outcome, outcome)
        if outcome is DoseOutcome.SNOOZED:
            row.snoozes += 1
        if merged is not row.outcome:
            row.outcome = merged
            if merged in FINAL_OUTCOMES:
                row.answered_at = answered_at
                row.device_id = device_id
        return row
    raise RuntimeError("dose record insert kept conflicting")


def apply_answer(
    rt: Runtime, device_id: int, message: DoseAnswer
) -> tuple[bool, int | None, set[int]]:
    """Store one dose answer exactly once: (duplicate, elder id, users to tell)."""
    with rt.db.session() as db:
        device = db.get(Device, device_id)
        assert device is not None
        elder = elder_of(db, device)
        if not audit.first_receipt(db, device_id, message.key, message.type):
            return True, elder.id, set()
        plan = db.get(MedicationPlan, message.plan_id)
        if plan is None or plan.elder_id != elder.id:
            # Acked all the same: a box must not resend an answer about a deleted plan forever.
            log.warning("dose answer for unknown plan %s from box %s", message.plan_id, device_id)
            return False, None, set()
        record_outcome(
            db,
            plan,
            message.scheduled_local,
            message.scheduled_at,
            message.outcome,
            message.occurred_at,
            device_id,
        )
        audit.record(
            db,
            f"medication.dose.{message.outcome.value}",
            elder.id,
            device=device,
            detail=f"plan {plan.id} at {local_text(message.scheduled_local)}",
        )
        users, _ = elder_audience(db, elder)
        return False, elder.id, users


def owed_since(plan: MedicationPlan) -> datetime:
    """The instant from which an active plan's doses are owed: its start, last resume or new
    times (the box uses the plan's ``updated_at`` with the same second of tolerance)."""
    return plan.active_since - timedelta(seconds=1)


def day_doses(db: Session, elder: Elder, day: date, now: datetime) -> list[DosePublic]:
    """Every dose of local ``day`` with its state (taken, missed… or due/upcoming).

    The same list as the TV's: the doses active plans owe (not those of a pause, nor those
    before a plan began or got new times), and every dose already recorded, whatever
    became of its plan since (paused, given new times, ended and replaced): an answer given
    today stays on today's list.
    """
    begin, after = local_day_bounds(day, elder.timezone)
    plans = {p.id: p for p in plans_of(db, elder.id)}
    active = [p for p in plans.values() if p.status is PlanStatus.ACTIVE]
    slots = doses_between([(p.id, schedule_of(p)) for p in active], elder.timezone, begin, after)
    records = {
        (r.plan_id, r.scheduled_local): r
        for r in db.scalars(
            select(DoseRecord).where(
                DoseRecord.elder_id == elder.id,
                DoseRecord.scheduled_at >= begin,
                DoseRecord.scheduled_at < after,
            )
        )
    }
    doses: dict[tuple[int, str], tuple[datetime, datetime]] = {
        (s.plan_id, local_text(s.local)): (s.at, s.local)
        for s in slots
        if s.at >= owed_since(plans[s.plan_id])
    }
    for key, known in records.items():
        local = datetime.fromisoformat(known.scheduled_local)  # naive, like a slot's
        doses.setdefault(key, (known.scheduled_at, local))
    out = []
    for (plan_id, local_key), (at, local) in sorted(
        doses.items(), key=lambda kv: (kv[1][0], plans[kv[0][0]].medicine)
    ):
        plan = plans[plan_id]
        record = records.get((plan_id, local_key))
        if record is not None:
            state, answered = record.outcome.value, record.answered_at
        else:
            state, answered = ("due" if at <= now else "upcoming"), None
        out.append(
            DosePublic(
                plan_id=plan.id,
                medicine=plan.medicine,
                scheduled_local=local,
                scheduled_at=at,
                state=state,
                answered_at=answered,
            )
        )
    return out


def adherence(db: Session, elder: Elder, now: datetime, days: int = 28) -> list[AdherenceDayPublic]:
    """Per local day of the last ``days`` days (today included): doses due so far and taken."""
    tz = zone(elder.timezone)
    today = now.astimezone(tz).date()
    first = today - timedelta(days=days - 1)
    begin, _ = local_day_bounds(first, elder.timezone)
    plans = plans_of(db, elder.id)
    slots = doses_between([(p.id, schedule_of(p)) for p in plans], elder.timezone, begin, now)
    active_since = {p.id: p.created_at for p in plans}
    due: dict[date, int] = defaultdict(int)
    for slot in slots:
        if slot.at >= active_since[slot.plan_id]:
            due[slot.local.date()] += 1
    taken: dict[date, int] = defaultdict(int)
    rows = db.execute(
        select(DoseRecord.scheduled_local).where(
            DoseRecord.elder_id == elder.id,
            DoseRecord.scheduled_at >= begin,
            DoseRecord.outcome == DoseOutcome.TAKEN,
        )
    )
    for (local,) in rows:
        taken[datetime.fromisoformat(local).date()] += 1
    return [
        AdherenceDayPublic(day=d, due=due[d], taken=min(taken[d], due[d]) if due[d] else taken[d])
        for d in (first + timedelta(days=i) for i in range(days))
    ]
