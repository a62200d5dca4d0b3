"""Free-slot search: open slots with a place left (bookings and live holds counted), by
department code, clinic, time window and visit kind, earliest first."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from protocol import Lang
from server.appointments.schedule import clinic_zone, parse_kinds
from server.appointments.schemas import SlotPublic
from server.appointments.timetable import department_name
from server.models import Clinic, Department, Slot, SlotHold, User, VisitKind

SEARCH_LIMIT = 200  # at most, in one answer
SEARCH_DEFAULT = 50  # a page of choices


def free_slots(
    db: Session,
    lang: Lang,
    window: tuple[datetime, datetime],
    department: str | None = None,
    clinic_id: int | None = None,
    kind: VisitKind | None = None,
    limit: int = SEARCH_DEFAULT,
) -> list[SlotPublic]:
    """Slots starting inside ``window`` with a free place, earliest first (at most ``limit``)."""
    start, end = window
    held = (
        select(SlotHold.slot_id, func.count(SlotHold.id).label("n"))
        .where(SlotHold.expires_at > start)
        .group_by(SlotHold.slot_id)
        .subquery()
    )
    taken = Slot.booked + func.coalesce(held.c.n, 0)
    query = (
        select(Slot, Department, Clinic, User.name, taken)
        .join(Department, Department.id == Slot.department_id)
        .join(Clinic, Clinic.id == Slot.clinic_id)
        .join(User, User.id == Slot.doctor_id)
        .outerjoin(held, held.c.slot_id == Slot.id)
        .where(
            Slot.starts_at >= start,
            Slot.starts_at < end,
            Slot.closed.is_(False),
            taken < Slot.capacity,
            Clinic.is_active.is_(True),
        )
        .order_by(Slot.starts_at, Slot.id)
        .limit(limit)
    )
    if department is not None:
        query = query.where(Department.code == department)
    if clinic_id is not None:
        query = query.where(Slot.clinic_id == clinic_id)
    if kind is not None:
        query = query.where(Slot.kinds.contains(kind.value))
    out = []
    for slot, dept, clinic, doctor_name, used in db.execute(query).all():
        zone = clinic_zone(clinic)
        out.append(
            SlotPublic(
                id=slot.id,
                clinic_id=clinic.id,
                clinic_name=clinic.name,
                department_id=dept.id,
                department_code=dept.code,
                department_name=department_name(dept, lang),
                doctor_id=slot.doctor_id,
                doctor_name=doctor_name,
                starts_at=slot.starts_at,
                ends_at=slot.ends_at,
                local_start=slot.starts_at.astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
                timezone=zone.key,
                kinds=[VisitKind(k) for k in parse_kinds(slot.kinds)],
                free=slot.capacity - used,
            )
        )
    return out
