"""The elder's visit list as their TV box gets it: on connect, and at once after every
change, whoever made it (family page, operator, clinic, the box itself)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol import (
    Appointments,
    Lang,
    VisitInfo,
    VisitPlace,
)
from server.appointments.booking import ACTIVE
from server.appointments.schedule import clinic_zone
from server.models import Appointment, Clinic, Department, Device, Elder, User, utcnow
from server.ws.hub import Hub


def _department_name(department: Department | None, lang: Lang) -> str:
    if department is None:
        return ""
    return (department.name_zh if lang is Lang.ZH else department.name_en)[:120]


def visit_info(db: Session, visit: Appointment, lang: Lang) -> VisitInfo:
    """One visit as the TV shows it."""
    clinic = db.get(Clinic, visit.clinic_id)
    doctor = db.get(User, visit.doctor_id)
    department = db.get(Department, visit.department_id)
    assert clinic is not None
    return VisitInfo(
        id=visit.id,
        starts_at=visit.starts_at,
        ends_at=visit.ends_at,
        place=VisitPlace(visit.kind.value),
        clinic_name=clinic.name[:120],
        clinic_address=clinic.address[:255],
        doctor_name=(doctor.name if doctor else "")[:120],
        department_name=_department_name(department, lang),
        timezone=clinic_zone(clinic).key,
    )


def box_visits(db: Session, elder_id: int, now: datetime | None = None) -> Appointments:
    """The elder's upcoming visits (booked or arrived), earliest first, as the box gets them."""
    elder = db.get(Elder, elder_id)
    assert elder is not None
    rows = db.scalars(
        select(Appointment)
        .where(
            Appointment.elder_id == elder_id,
            Appointment.status.in_(ACTIVE),
            Appointment.ends_at > (now or utcnow()),
        )
        .order_by(Appointment.starts_at, Appointment.id)
        .limit(50)
    )
    return Appointments(
        elder_id=elder_id,
        visits=[visit_info(db, v, elder.lang) for v in rows],
        travel_minutes=elder.visit_travel_minutes,
    )


def visits_on_connect(db: Session, elder_id: int) -> Appointments | None:
    """A box that connects gets the elder's visits (its state on connect); nothing for an
    elder never booked (the box can then hold no stale visit either)."""
    ever = db.scalar(select(Appointment.id).where(Appointment.elder_id == elder_id).limit(1))
    if ever is None:
        return None
    return box_visits(db, elder_id)


def push_visits(db: Session, hub: Hub, elder_id: int) -> None:
    """Send the elder's visit list to each of their boxes (from any thread, never waits)."""
    devices = list(
        db.scalars(
            select(Device.id).where(Device.elder_id == elder_id, Device.revoked_at.is_(None))
        )
    )
    if not devices:
        return
    message = box_visits(db, elder_id)

    async def send() -> None:
        for device_id in devices:
            await hub.to_device(device_id, message)

    hub.push(send())
