"""The SOS part of an elder's record (the doctor's ``/doctor/elders/{id}``): every alert,
newest first, with how it ended and who acknowledged and resolved it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Elder, SosAlert, User

TEMPLATE = "sos/_record.html"
RECORD_ALERTS = 50  # the newest; an elder with more has a care problem the list will not hide


@dataclass(frozen=True)
class RecordAlert:
    """One alert as the record lists it."""

    alert: SosAlert
    acknowledged_by: str
    resolved_by: str


def record_section(db: Session, rt: Any, user: User, elders: list[Elder]) -> dict[str, Any]:
    """The newest alerts of the record's one elder, with the names of who handled them."""
    (elder,) = elders
    alerts = list(
        db.scalars(
            select(SosAlert)
            .where(SosAlert.elder_id == elder.id)
            .order_by(SosAlert.raised_at.desc(), SosAlert.id.desc())
            .limit(RECORD_ALERTS)
        )
    )
    ids = {a.acknowledged_by_id for a in alerts} | {a.resolved_by_id for a in alerts}
    ids.discard(None)
    names = dict(db.execute(select(User.id, User.name).where(User.id.in_(ids))).tuples().all())
    return {
        "alerts": [
            RecordAlert(
                alert=a,
                acknowledged_by=names.get(a.acknowledged_by_id, "") if a.acknowledged_by_id else "",
                resolved_by=names.get(a.resolved_by_id, "") if a.resolved_by_id else "",
            )
            for a in alerts
        ]
    }
