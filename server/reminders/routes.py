"""Medication plans and doses over the API: plans CRUD, today's doses, adherence, FHIR, alerts."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import select

from protocol.schedule import zone
from server import audit
from server.api.deps import CurrentUser, RuntimeDep, SessionDep
from server.api.responses import answers
from server.ids import RowId
from server.models import DoseRecord, utcnow
from server.permissions import elder_for_viewing
from server.reminders.alert_settings import alert_setting, family_elder, save_alert_setting
from server.reminders.doses import adherence, day_doses
from server.reminders.fhir import bundle
from server.reminders.plans import (
    announce_plans,
    create_plan,
    plan_for_viewing,
    plan_public,
    plans_of,
    update_plan,
)
from server.reminders.schemas import (
    AdherenceDayPublic,
    AlertSettingsPublic,
    AlertSettingsUpdate,
    DosePublic,
    PlanCreate,
    PlanPublic,
    PlanUpdate,
)

router = APIRouter(prefix="/api", tags=["medication"])


@router.get(
    "/elders/{elder_id}/medication-plans",
    response_model=list[PlanPublic],
    responses=answers(401, 404, 422),
)
def list_plans(elder_id: RowId, user: CurrentUser, db: SessionDep) -> list[PlanPublic]:
    """The elder's plans, ended ones included."""
    elder = elder_for_viewing(db, user, elder_id)
    audit.record(db, "medication.plans.read", elder.id, user=user)
    return [plan_public(p) for p in plans_of(db, elder.id)]


@router.post(
    "/elders/{elder_id}/medication-plans",
    response_model=PlanPublic,
    status_code=201,
    responses=answers(400, 401, 403, 404, 422),
)
def add_plan(
    elder_id: RowId, body: PlanCreate, user: CurrentUser, db: SessionDep, rt: RuntimeDep
) -> PlanPublic:
    """Create a plan (family, the elder's clinic doctor, admin); the box hears of it at once."""
    plan = create_plan(db, user, elder_id, body)
    db.commit()
    elder = elder_for_viewing(db, user, elder_id)
    announce_plans(db, rt.hub, elder)
    return plan_public(plan)


@router.get(
    "/medication-plans/{plan_id}", response_model=PlanPublic, responses=answers(401, 404, 422)
)
def read_plan(plan_id: RowId, user: CurrentUser, db: SessionDep) -> PlanPublic:
    """One plan."""
    plan = plan_for_viewing(db, user, plan_id)
    audit.record(db, "medication.plan.read", plan.elder_id, user=user)
    return plan_public(plan)


@router.patch(
    "/medication-plans/{plan_id}",
    response_model=PlanPublic,
    responses=answers(400, 401, 403, 404, 409, 422),
)
def change_plan(
    plan_id: RowId, body: PlanUpdate, user: CurrentUser, db: SessionDep, rt: RuntimeDep
) -> PlanPublic:
    """Edit, pause (``status: paused``), resume or end a plan."""
    plan = update_plan(db, user, plan_id, body)
    db.commit()
    announce_plans(db, rt.hub, elder_for_viewing(db, user, plan.elder_id))
    return plan_public(plan)


@router.get(
    "/elders/{elder_id}/doses", response_model=list[DosePublic], responses=answers(401, 404, 422)
)
def list_doses(
    elder_id: RowId,
    user: CurrentUser,
    db: SessionDep,
    day: Annotated[date | None, Query(description="local date; default today")] = None,
) -> list[DosePublic]:
    """Every dose of one local day with its state."""
    elder = elder_for_viewing(db, user, elder_id)
    now = utcnow()
    audit.record(db, "medication.doses.read", elder.id, user=user)
    return day_doses(db, elder, day or now.astimezone(zone(elder.timezone)).date(), now)


@router.get(
    "/elders/{elder_id}/adherence",
    response_model=list[dict[str, Any]],
    responses=answers(401, 404, 422),
)
def read_adherence(
    elder_id: RowId,
    user: CurrentUser,
    db: SessionDep,
    days: Annotated[int, Query(ge=1, le=90)] = 28,
) -> list[dict[str, Any]]:
    """Doses due and taken per local day for the last ``days`` days."""
    elder = elder_for_viewing(db, user, elder_id)
    audit.record(db, "medication.adherence.read", elder.id, user=user)
    rows: list[AdherenceDayPublic] = adherence(db, elder, utcnow(), days)
    return [{**r.model_dump(mode="json"), "percent": r.percent} for r in rows]


@router.get("/elders/{elder_id}/fhir/medication", responses=answers(401, 404, 422))
def export_fhir(elder_id: RowId, user: CurrentUser, db: SessionDep) -> dict[str, Any]:
    """FHIR R4 Bundle: MedicationRequest per plan, MedicationStatement per answered dose."""
    elder = elder_for_viewing(db, user, elder_id)
    audit.record(db, "medication.fhir.exported", elder.id, user=user)
    records = list(
        db.scalars(
            select(DoseRecord).where(DoseRecord.elder_id == elder.id).order_by(DoseRecord.id)
        )
    )
    return bundle(elder, plans_of(db, elder.id), records)


@router.get(
    "/elders/{elder_id}/reminder-alerts",
    response_model=AlertSettingsPublic,
    responses=answers(401, 403, 404, 422),
)
def read_alerts(elder_id: RowId, user: CurrentUser, db: SessionDep) -> AlertSettingsPublic:
    """The caller's missed-dose alert choice for this elder (family only)."""
    elder = family_elder(db, user, elder_id)
    row = alert_setting(db, user.id, elder.id)
    return AlertSettingsPublic(
        user_id=user.id,
        elder_id=elder.id,
        email_missed=row.email_missed if row else True,
        live_missed=row.live_missed if row else True,
    )


@router.put(
    "/elders/{elder_id}/reminder-alerts",
    response_model=AlertSettingsPublic,
    responses=answers(400, 401, 403, 404, 422),
)
def save_alerts(
    elder_id: RowId, body: AlertSettingsUpdate, user: CurrentUser, db: SessionDep
) -> AlertSettingsPublic:
    """Choose which missed-dose alerts the caller gets for this elder (family only)."""
    elder = family_elder(db, user, elder_id)
    save_alert_setting(db, user.id, elder.id, body)
    return AlertSettingsPublic(user_id=user.id, elder_id=elder.id, **body.model_dump())
