"""SOS over HTTP: alerts (list, read, acknowledge, call, resolve), monthly figures, sensor
events, and the daily check-in rule."""

from __future__ import annotations

from fastapi import APIRouter, Query

from protocol import SosRaise, SosSource
from server import audit
from server.api.deps import CurrentDevice, CurrentUser, RuntimeDep, SessionDep
from server.api.responses import answers
from server.calls.sos_link import start_sos_call
from server.ids import RowId
from server.models import SosStepKind
from server.permissions import elder_for_viewing
from server.sos.alerts import (
    acknowledge,
    add_step,
    alert_for_action,
    alert_for_viewing,
    alert_views,
    monthly_stats,
    resolve,
    visible_alerts,
)
from server.sos.check_in import push_rule, rule_of, set_rule
from server.sos.delivery import after_change
from server.sos.intake import take_sos
from server.sos.schemas import (
    CheckInPublic,
    CheckInUpdate,
    MonthStatsPublic,
    SensorEventCreate,
    SensorEventPublic,
    SosAlertPublic,
    SosResolveUpdate,
)

router = APIRouter(tags=["sos"])


@router.get("/api/sos/alerts", response_model=list[SosAlertPublic], responses=answers(401, 422))
def list_alerts(
    user: CurrentUser, db: SessionDep, open_only: bool = Query(default=True)
) -> list[SosAlertPublic]:
    """Alerts of the elders the caller may see, newest first (open ones by default)."""
    alerts = visible_alerts(db, user, open_only)
    return [SosAlertPublic.from_view(v) for v in alert_views(db, alerts)]


@router.get(
    "/api/sos/alerts/{alert_id}", response_model=SosAlertPublic, responses=answers(401, 404, 422)
)
def read_alert(alert_id: RowId, user: CurrentUser, db: SessionDep) -> SosAlertPublic:
    """One alert with the elder's contacts and the timeline; the read is audited."""
    alert = alert_for_viewing(db, user, alert_id)
    audit.record(db, "sos.read", alert.elder_id, user=user, detail=f"alert {alert.id}")
    return SosAlertPublic.from_view(alert_views(db, [alert])[0])


@router.post(
    "/api/sos/alerts/{alert_id}/acknowledge",
    response_model=SosAlertPublic,
    responses=answers(401, 403, 404, 422),
)
def acknowledge_alert(
    alert_id: RowId, user: CurrentUser, db: SessionDep, rt: RuntimeDep
) -> SosAlertPublic:
    """Take the alert: escalation stops and the elder's TV says who answered."""
    alert, taken = acknowledge(db, user, alert_id)
    db.commit()
    if taken:
        after_change(rt, alert.id)
    return SosAlertPublic.from_view(alert_views(db, [alert])[0])


@router.post(
    "/api/sos/alerts/{alert_id}/resolve",
    response_model=SosAlertPublic,
    responses=answers(400, 401, 403, 404, 409, 422),
)
def resolve_alert(
    alert_id: RowId, body: SosResolveUpdate, user: CurrentUser, db: SessionDep, rt: RuntimeDep
) -> SosAlertPublic:
    """Close the alert with an outcome and a note."""
    alert = resolve(db, user, alert_id, body.outcome, body.note)
    db.commit()
    after_change(rt, alert.id)
    return SosAlertPublic.from_view(alert_views(db, [alert])[0])


@router.post("/api/sos/alerts/{alert_id}/call", responses=answers(401, 403, 404, 409, 422))
def call_about_alert(
    alert_id: RowId, user: CurrentUser, db: SessionDep, rt: RuntimeDep
) -> dict[str, str]:
    """Start a video call to the elder's box (answered automatically)."""
    alert = alert_for_action(db, user, alert_id)
    url = start_sos_call(alert)
    add_step(db, alert, SosStepKind.CALL_STARTED, user.name, user=user)
    return {"call_url": url}


@router.get("/api/sos/stats", response_model=list[MonthStatsPublic], responses=answers(401))
def sos_stats(user: CurrentUser, db: SessionDep) -> list[MonthStatsPublic]:
    """Time to acknowledge per month over the alerts the caller may see."""
    return [MonthStatsPublic.from_stats(s) for s in monthly_stats(db, user)]


@router.post(
    "/api/box/sensor-events",
    response_model=SensorEventPublic,
    status_code=201,
    responses=answers(400, 401, 422),
)
async def sensor_event(
    body: SensorEventCreate, device: CurrentDevice, rt: RuntimeDep
) -> SensorEventPublic:
    """A sensor reports an emergency with the box's token: an SOS, once per (box, key)."""
    raised = SosRaise(
        key=body.key, source=SosSource.SENSOR, detail=f"{body.kind} {body.detail}".strip()
    )
    alert_id, created = await take_sos(rt, device.id, raised)
    return SensorEventPublic(alert_id=alert_id, duplicate=not created)


@router.get(
    "/api/sos/check-in/{elder_id}", response_model=CheckInPublic, responses=answers(401, 404, 422)
)
def read_check_in(elder_id: RowId, user: CurrentUser, db: SessionDep) -> CheckInPublic:
    """The elder's daily check-in time."""
    elder = elder_for_viewing(db, user, elder_id)
    row = rule_of(db, elder.id)
    return CheckInPublic(elder_id=elder.id, time_local=row.local_time if row else None)


@router.put(
    "/api/sos/check-in/{elder_id}",
    response_model=CheckInPublic,
    responses=answers(400, 401, 403, 404, 422),
)
def update_check_in(
    elder_id: RowId, body: CheckInUpdate, user: CurrentUser, db: SessionDep, rt: RuntimeDep
) -> CheckInPublic:
    """Set or clear the daily check-in time; the elder's boxes hear of it at once."""
    devices = set_rule(db, user, elder_id, body.time_local)
    db.commit()
    push_rule(rt, devices, body.time_local)
    return CheckInPublic(elder_id=elder_id, time_local=body.time_local)
