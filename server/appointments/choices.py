"""The choices of each step of "Book a visit" on the TV, and what its confirm screen says.

At most six choices (a TV screen's limit): departments, the elder's usual ones first;
clinics offering the department, nearest first by the elder's coordinates; days with a free
slot (in the clinic's zone); free times of a morning or an afternoon.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from protocol import (
    MAX_CHOICES,
    ApptOption,
    ApptOptions,
    ApptOptionsRequest,
    BookingStep,
    DayPart,
    HeldSlot,
    Lang,
    VisitPlace,
)
from server.appointments.clinic_schedule import refresh_remote_clinics
from server.appointments.schedule import clinic_zone, parse_kinds
from server.appointments.search import SEARCH_LIMIT, free_slots
from server.appointments.timetable import department_name
from server.models import Appointment, Clinic, Department, Elder, Slot, User

DAYS_AHEAD = 14
NOON = 12


def _distance_km(elder: Elder, clinic: Clinic) -> float | None:
    points = (elder.latitude, elder.longitude, clinic.latitude, clinic.longitude)
    if elder.latitude is None or elder.longitude is None:
        return None
    if clinic.latitude is None or clinic.longitude is None:
        return None
    lat1, lon1, lat2, lon2 = (math.radians(p or 0.0) for p in points)
    a = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return round(2 * 6371.0 * math.asin(math.sqrt(a)), 1)


def _departments(db: Session, elder: Elder) -> list[ApptOption]:
    usual: dict[str, int] = dict(
        db.execute(
            select(Department.code, func.count(Appointment.id))
            .join(Appointment, Appointment.department_id == Department.id)
            .where(Appointment.elder_id == elder.id)
            .group_by(Department.code)
        )
        .tuples()
        .all()
    )
    names: dict[str, str] = {}
    for row in db.scalars(
        select(Department)
        .join(Clinic, Clinic.id == Department.clinic_id)
        .where(Clinic.is_active.is_(True))
        .order_by(Department.id)
    ):
        if row.clinic_id == elder.clinic_id or row.code not in names:
            names[row.code] = department_name(row, elder.lang)
    order = sorted(names, key=lambda code: (-usual.get(code, 0), list(names).index(code)))
    return [ApptOption(key=code, label=names[code][:160]) for code in order[:MAX_CHOICES]]


def _clinics(db: Session, elder: Elder, department: str) -> list[ApptOption]:
    clinics = db.scalars(
        select(Clinic)
        .join(Department, Department.clinic_id == Clinic.id)
        .where(Department.code == department, Clinic.is_active.is_(True))
        .order_by(Clinic.id)
    ).all()
    far = float("inf")

    def nearness(clinic: Clinic) -> tuple[float, int]:
        distance = _distance_km(elder, clinic)
        return (far if distance is None else distance, clinic.id)

    chosen = sorted(clinics, key=nearness)[:MAX_CHOICES]
    return [
        ApptOption(key=str(c.id), label=c.name[:160], distance_km=_distance_km(elder, c))
        for c in chosen
    ]


def _window(now: datetime) -> tuple[datetime, datetime]:
    return now, now + timedelta(days=DAYS_AHEAD)


def _days(
    db: Session, elder: Elder, department: str, clinic_id: int, now: datetime
) -> list[ApptOption]:
    refresh_remote_clinics(db, elder.lang, _window(now), clinic_id)  # a clinic's own server
    slots = free_slots(db, elder.lang, _window(now), department, clinic_id, limit=SEARCH_LIMIT)
    days: dict[date, list[DayPart]] = {}
    for slot in slots:
        day = date.fromisoformat(slot.local_start[:10])
        part = DayPart.MORNING if int(slot.local_start[11:13]) < NOON else DayPart.AFTERNOON
        parts = days.setdefault(day, [])
        if part not in parts:
            parts.append(part)
    chosen = list(days.items())[:MAX_CHOICES]
    return [
        ApptOption(key=d.isoformat(), day=d, parts=[x for x in DayPart if x in p])
        for d, p in chosen
    ]


def _times(
    db: Session, elder: Elder, request: ApptOptionsRequest, clinic: Clinic, now: datetime
) -> list[ApptOption]:
    assert request.day is not None and request.department is not None
    zone = clinic_zone(clinic)
    start = datetime(request.day.year, request.day.month, request.day.day, tzinfo=zone)
    if request.part is DayPart.AFTERNOON:
        start = start.replace(hour=NOON)
    end = start.replace(hour=NOON) if request.part is DayPart.MORNING else start + timedelta(days=1)
    window = (max(start, now), end)
    if window[1] <= window[0]:
        return []
    slots = free_slots(db, elder.lang, window, request.department, clinic.id, limit=MAX_CHOICES)
    return [
        ApptOption(
            key=str(s.id),
            starts_at=s.starts_at,
            doctor_name=s.doctor_name[:120],
            places=[VisitPlace(k.value) for k in s.kinds],
        )
        for s in slots
    ]


def options(db: Session, elder: Elder, request: ApptOptionsRequest, now: datetime) -> ApptOptions:
    """The choices of one booking step; a step missing an earlier choice has none."""
    step = request.step
    found: list[ApptOption] = []
    zone = ""
    if step is BookingStep.DEPARTMENTS:
        found = _departments(db, elder)
    elif request.department is None:
        pass
    elif step is BookingStep.CLINICS:
        found = _clinics(db, elder, request.department)
    elif request.clinic_id is not None:
        clinic = db.get(Clinic, request.clinic_id)
        if clinic is not None and clinic.is_active:
            zone = clinic_zone(clinic).key
            if step is BookingStep.DAYS:
                found = _days(db, elder, request.department, clinic.id, now)
            elif request.day is not None:
                found = _times(db, elder, request, clinic, now)
    return ApptOptions(ref=request.id, step=step, options=found, timezone=zone)


def held_slot(db: Session, slot_id: int, lang: Lang) -> HeldSlot:
    """What the confirm screen says of a held slot."""
    slot = db.get(Slot, slot_id)
    assert slot is not None
    clinic = db.get(Clinic, slot.clinic_id)
    doctor = db.get(User, slot.doctor_id)
    department = db.get(Department, slot.department_id)
    assert clinic is not None and department is not None
    return HeldSlot(
        slot_id=slot.id,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        timezone=clinic_zone(clinic).key,
        clinic_name=clinic.name[:120],
        doctor_name=(doctor.name if doctor else "")[:120],
        department_name=department_name(department, lang)[:120],
        places=[VisitPlace(k) for k in parse_kinds(slot.kinds)],
    )
