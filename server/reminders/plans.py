"""Creating and changing medication plans, and telling boxes and pages about it.

`create_plan` is the one way a plan is made, whoever makes it (family on the page, a doctor's
prescription from the consult feature, an admin through the API); it records ``created_by``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol import MedPlans, PlanInfo, PlanStatus, Schedule, Topic
from server import audit
from server.errors import Conflict, NotFound
from server.models import Elder, MedicationPlan, User, utcnow
from server.permissions import elder_for_medication, elder_for_viewing
from server.push import elder_audience, push_change
from server.reminders.schemas import PlanCreate, PlanPublic, PlanUpdate
from server.ws.hub import Hub


def schedule_of(plan: MedicationPlan) -> Schedule:
    """The plan's schedule as the shared protocol model."""
    return Schedule.model_validate_json(plan.schedule)


def _shared_fields(plan: MedicationPlan) -> dict[str, Any]:
    """What the API and the box both know of a plan."""
    return {
        "id": plan.id,
        "medicine": plan.medicine,
        "strength": plan.strength,
        "dose": plan.dose,
        "instructions": plan.instructions,
        "appearance": plan.appearance,
        "colour": plan.colour,
        "schedule": schedule_of(plan),
        "window_minutes": plan.window_minutes,
        "status": plan.status,
        "updated_at": plan.updated_at,
    }


def plan_public(plan: MedicationPlan) -> PlanPublic:
    """The API view of a plan."""
    return PlanPublic(
        **_shared_fields(plan),
        elder_id=plan.elder_id,
        created_by_id=plan.created_by_id,
        created_at=plan.created_at,
    )


def plan_info(plan: MedicationPlan) -> PlanInfo:
    """The plan as the box knows it."""
    return PlanInfo(**_shared_fields(plan))


def plans_of(db: Session, elder_id: int, *, include_ended: bool = True) -> list[MedicationPlan]:
    """The elder's plans, oldest first."""
    query = select(MedicationPlan).where(MedicationPlan.elder_id == elder_id)
    if not include_ended:
        query = query.where(MedicationPlan.status != PlanStatus.ENDED)
    return list(db.scalars(query.order_by(MedicationPlan.id)))


def box_plans(db: Session, elder_id: int) -> MedPlans:
    """The message that brings a box up to date with the elder's plans."""
    plans = plans_of(db, elder_id, include_ended=False)
    return MedPlans(elder_id=elder_id, plans=[plan_info(p) for p in plans])


def create_plan(db: Session, user: User, elder_id: int, body: PlanCreate) -> MedicationPlan:
    """Create a plan for an elder the caller may treat (family, clinic doctor, admin)."""
    elder = elder_for_medication(db, user, elder_id)
    now = utcnow()
    plan = MedicationPlan(
        elder_id=elder.id,
        medicine=body.medicine,
        strength=body.strength,
        dose=body.dose,
        instructions=body.instructions,
        appearance=body.appearance,
        colour=body.colour,
        schedule=body.schedule.model_dump_json(),
        window_minutes=body.window_minutes,
        status=PlanStatus.ACTIVE,
        active_since=now,
        created_by_id=user.id,
        created_at=now,
        updated_at=now,
    )
    db.add(plan)
    db.flush()
    audit.record(db, "medication.plan.created", elder.id, user=user, detail=f"plan {plan.id}")
    return plan


def plan_for_viewing(db: Session, user: User, plan_id: int) -> MedicationPlan:
    """A plan of an elder the caller may see; NotFound otherwise (hiding existence)."""
    plan = db.get(MedicationPlan, plan_id)
    if plan is None:
        raise NotFound(f"no medication plan {plan_id} that you can see")
    try:
        elder_for_viewing(db, user, plan.elder_id)
    except NotFound as err:
        raise NotFound(f"no medication plan {plan_id} that you can see") from err
    return plan


def update_plan(db: Session, user: User, plan_id: int, body: PlanUpdate) -> MedicationPlan:
    """Change, pause, resume or end a plan; an ended plan cannot come back."""
    plan = plan_for_viewing(db, user, plan_id)
    elder_for_medication(db, user, plan.elder_id)
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    if plan.status is PlanStatus.ENDED and changes:
        raise Conflict("this plan has ended; create a new one instead")
    now = utcnow()
    for name, value in changes.items():
        if name == "schedule":
            plan.schedule = body.schedule.model_dump_json() if body.schedule else plan.schedule
            plan.active_since = now
        elif name == "status":
            if value is PlanStatus.ACTIVE and plan.status is not PlanStatus.ACTIVE:
                plan.active_since = now  # doses during a pause are not "missed"
            plan.status = value
        else:
            setattr(plan, name, value)
    plan.updated_at = now
    db.flush()
    audit.record(
        db,
        "medication.plan.updated",
        plan.elder_id,
        user=user,
        detail=f"plan {plan.id}: {','.join(sorted(changes))}",
    )
    return plan


def announce_plans(db: Session, hub: Hub, elder: Elder) -> None:
    """Send boxes the new plan list and tell pages to refresh (from any thread, never waits)."""
    users, devices = elder_audience(db, elder)
    message = box_plans(db, elder.id)
    data: dict[str, Any] = {"plans": len(message.plans)}

    async def push() -> None:
        for device_id in devices:
            await hub.to_device(device_id, message)
        await push_change(hub, Topic.MEDICATION, elder.id, data, users)

    hub.push(push())
