"""Storing, acknowledging and resolving SOS alerts, and what the pages and API show of them.

Every function here works inside the caller's database session; pushes and e-mails are
done by `server.sos.delivery` after the commit, so nothing is announced that was not stored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from protocol import Role, SosRaise, SosStatus
from server import audit
from server.errors import Conflict, NotFound
from server.models import (
    CareLink,
    Device,
    Elder,
    EmergencyContact,
    ServiceArea,
    SosAlert,
    SosOutcome,
    SosStep,
    SosStepKind,
    User,
    utcnow,
)
from server.permissions import elder_for_sos_action, elder_for_viewing, visible_elders


def add_step(
    db: Session,
    alert: SosAlert,
    kind: SosStepKind,
    detail: str = "",
    *,
    user: User | None = None,
    at: datetime | None = None,
) -> None:
    """Put one step on the alert's timeline (in the current transaction)."""
    db.add(
        SosStep(
            alert_id=alert.id,
            kind=kind,
            level=alert.level,
            at=at or utcnow(),
            actor_user_id=user.id if user else None,
            detail=detail[:500],
        )
    )


def step_facts(**values: Any) -> str:
    """A step's detail as facts, not words: pages put them in the viewer's language."""
    text = json.dumps(values, ensure_ascii=False, separators=(",", ":"))
    if len(text) > 500 and "reached" in values:  # a long family list: keep the first people
        return step_facts(**{**values, "reached": values["reached"][:5], "more": True})
    return text


def alert_of_key(db: Session, device: Device, key: str) -> SosAlert | None:
    """The alert ``device`` already raised with idempotency ``key``, if any."""
    return db.scalar(select(SosAlert).where(SosAlert.device_id == device.id, SosAlert.key == key))


def store_alert(
    db: Session,
    elder: Elder,
    device: Device,
    raised: SosRaise,
    escalate_after: float,
) -> tuple[SosAlert, bool]:
    """Store the SOS once per (device, key); (alert, created). Flushes; the caller commits.

    Boxes and sensors choose their own keys, so the same key from another box is another
    elder's emergency: it must get its own alert, never be taken for a resend.
    """
    existing = alert_of_key(db, device, raised.key)
    if existing is not None:
        return existing, False
    now = utcnow()
    alert = SosAlert(
        key=raised.key,
        elder_id=elder.id,
        device_id=device.id,
        source=raised.source,
        detail=raised.detail,
        status=SosStatus.OPEN,
        raised_at=min(raised.occurred_at, now),
        stored_at=now,
        level=0,
        next_escalation_at=now + timedelta(seconds=escalate_after),
        note="",
    )
    try:
        with db.begin_nested():
            db.add(alert)
            db.flush()
    except IntegrityError:  # this box's same key raced in on another socket or process
        again = alert_of_key(db, device, raised.key)
        assert again is not None
        return again, False
    add_step(
        db, alert, SosStepKind.RAISED, step_facts(source=raised.source.value), at=alert.raised_at
    )
    add_step(
        db, alert, SosStepKind.STORED, step_facts(device=device.name, device_id=device.id), at=now
    )
    audit.record(db, "sos.raised", elder.id, device=device, detail=raised.source.value)
    return alert, True


def alert_for_viewing(db: Session, user: User, alert_id: int) -> SosAlert:
    """The alert, if ``user`` may see its elder; otherwise NotFound."""
    alert = db.get(SosAlert, alert_id)
    if alert is None:
        raise NotFound(f"no SOS alert {alert_id}")
    try:
        elder_for_viewing(db, user, alert.elder_id)
    except NotFound as err:
        raise NotFound(f"no SOS alert {alert_id}") from err
    return alert


def alert_for_action(db: Session, user: User, alert_id: int) -> SosAlert:
    """The alert, if ``user`` may acknowledge or resolve it (see `elder_for_sos_action`)."""
    alert = alert_for_viewing(db, user, alert_id)
    elder_for_sos_action(db, user, alert.elder_id)
    return alert


def acknowledge(db: Session, user: User, alert_id: int) -> tuple[SosAlert, bool]:
    """Take the alert; (alert, True) if this call acknowledged it, False if someone had."""
    alert = alert_for_action(db, user, alert_id)
    now = utcnow()
    taken = db.execute(
        update(SosAlert)
        .where(SosAlert.id == alert.id, SosAlert.status == SosStatus.OPEN)
        .values(
            status=SosStatus.ACKNOWLEDGED,
            acknowledged_at=now,
            acknowledged_by_id=user.id,
            next_escalation_at=None,
        )
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]  # CursorResult of an UPDATE
    db.refresh(alert)
    if taken != 1:
        return alert, False
    add_step(db, alert, SosStepKind.ACKNOWLEDGED, user.name, user=user, at=now)
    audit.record(db, "sos.acknowledged", alert.elder_id, user=user, detail=f"alert {alert.id}")
    return alert, True


def resolve(db: Session, user: User, alert_id: int, outcome: SosOutcome, note: str) -> SosAlert:
    """Close the alert with an outcome and a note (acknowledging it first if nobody had)."""
    alert = alert_for_action(db, user, alert_id)
    if alert.status is SosStatus.RESOLVED:
        raise Conflict("this SOS is already resolved")
    if alert.status is SosStatus.OPEN:
        acknowledge(db, user, alert_id)
    now = utcnow()
    alert.status = SosStatus.RESOLVED
    alert.resolved_at = now
    alert.resolved_by_id = user.id
    alert.outcome = outcome
    alert.note = note[:2000]
    alert.next_escalation_at = None
    add_step(
        db,
        alert,
        SosStepKind.RESOLVED,
        step_facts(outcome=outcome.value, note=note[:300]),
        user=user,
    )
    audit.record(db, "sos.resolved", alert.elder_id, user=user, detail=outcome.value)
    return alert


def acknowledger_for_box(db: Session, alert: SosAlert) -> tuple[str, str, Role | None]:
    """(name, relation, role) of whoever acknowledged, as the elder's TV says it."""
    if alert.acknowledged_by_id is None:
        return "", "", None
    user = db.get(User, alert.acknowledged_by_id)
    if user is None:
        return "", "", None
    relation = db.scalar(
        select(CareLink.relation).where(
            CareLink.user_id == user.id, CareLink.elder_id == alert.elder_id
        )
    )
    return user.name, relation or "", user.role


# -- what pages and the API show ---------------------------------------------------


@dataclass(frozen=True)
class StepView:
    """One line of a timeline."""

    at: datetime
    kind: str
    level: int
    actor: str
    detail: str

    @property
    def facts(self) -> dict[str, Any]:
        """The detail's facts (see `step_facts`); an older free-text detail as ``{"text": …}``."""
        if self.detail.startswith("{"):
            try:
                loaded = json.loads(self.detail)
            except ValueError:
                loaded = None
            if isinstance(loaded, dict):
                return loaded
        return {"text": self.detail} if self.detail else {}


@dataclass(frozen=True)
class AlertView:
    """An alert with everything the board shows about it."""

    alert: SosAlert
    elder: Elder
    contacts: list[EmergencyContact]
    steps: list[StepView]
    acknowledged_by: str
    seconds_to_ack: float | None
    # Staff pages show times in the service area's zone (the elder's when outside an area).
    area_zone: str


def alert_views(db: Session, alerts: list[SosAlert]) -> list[AlertView]:
    """Views of ``alerts`` with their elder, contacts and timeline."""
    if not alerts:
        return []
    ids = [a.id for a in alerts]
    steps = db.scalars(select(SosStep).where(SosStep.alert_id.in_(ids)).order_by(SosStep.at))
    names: dict[int, str] = {uid: name for uid, name in db.execute(select(User.id, User.name))}
    by_alert: dict[int, list[StepView]] = {}
    for step in steps:
        by_alert.setdefault(step.alert_id, []).append(
            StepView(
                at=step.at,
                kind=step.kind.value,
                level=step.level,
                actor=names.get(step.actor_user_id, "") if step.actor_user_id else "",
                detail=step.detail,
            )
        )
    out = []
    for alert in alerts:
        elder = db.get(Elder, alert.elder_id)
        assert elder is not None
        waited = (
            (alert.acknowledged_at - alert.stored_at).total_seconds()
            if alert.acknowledged_at
            else None
        )
        out.append(
            AlertView(
                alert=alert,
                elder=elder,
                contacts=list(elder.contacts),
                steps=by_alert.get(alert.id, []),
                acknowledged_by=names.get(alert.acknowledged_by_id, "")
                if alert.acknowledged_by_id
                else "",
                seconds_to_ack=waited,
                area_zone=_area_zone(db, elder),
            )
        )
    return out


def _area_zone(db: Session, elder: Elder) -> str:
    area = db.get(ServiceArea, elder.service_area_id) if elder.service_area_id else None
    return area.timezone if area is not None else elder.timezone


def visible_alerts(db: Session, user: User, open_only: bool, limit: int = 50) -> list[SosAlert]:
    """Alerts of the elders ``user`` may see, newest first."""
    elder_ids = visible_elders(user).with_only_columns(Elder.id)
    query = select(SosAlert).where(SosAlert.elder_id.in_(elder_ids))
    if open_only:
        query = query.where(SosAlert.status != SosStatus.RESOLVED)
    return list(db.scalars(query.order_by(SosAlert.stored_at.desc()).limit(limit)))


@dataclass(frozen=True)
class MonthStats:
    """Time to acknowledge over one month (UTC)."""

    month: str
    alerts: int
    acknowledged: int
    median_seconds: float | None
    worst_seconds: float | None


def monthly_stats(db: Session, user: User, months: int = 12) -> list[MonthStats]:
    """Time to acknowledge per month for the alerts ``user`` may see, newest month first."""
    since = utcnow() - timedelta(days=31 * months)
    elder_ids = visible_elders(user).with_only_columns(Elder.id)
    rows = db.execute(
        select(SosAlert.stored_at, SosAlert.acknowledged_at).where(
            SosAlert.elder_id.in_(elder_ids), SosAlert.stored_at >= since
        )
    ).all()
    buckets: dict[str, list[float | None]] = {}
    for stored, acked in rows:
        waited = (acked - stored).total_seconds() if acked else None
        buckets.setdefault(stored.strftime("%Y-%m"), []).append(waited)
    out = []
    for month in sorted(buckets, reverse=True):
        values = buckets[month]
        done = sorted(v for v in values if v is not None)
        out.append(
            MonthStats(
                month=month,
                alerts=len(values),
                acknowledged=len(done),
                median_seconds=round(done[len(done) // 2], 1) if done else None,
                worst_seconds=round(done[-1], 1) if done else None,
            )
        )
    return out
