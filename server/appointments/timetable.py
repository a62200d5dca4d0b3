"""A clinic's timetable: departments, doctors' weekly opening hours, and closures.

Opening hours materialise their slots at once (`server.appointments.schedule`); changing or
removing them drops the free future slots they made (booked ones stay with their visits). A
closure closes every slot inside it and cancels the visits booked there, e-mailing each
booked elder's family; removing it opens again what no other closure covers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from protocol import Lang, Role
from server import audit
from server.appointments.notices import queue_cancelled_emails
from server.appointments.schedule import (
    close_inside,
    drop_free_slots,
    inside,
    materialise,
    reopen,
)
from server.appointments.schemas import (
    ClosureCreate,
    DepartmentCreate,
    HoursCreate,
    HoursUpdate,
    minutes,
)
from server.errors import Conflict, InvalidInput, NotFound
from server.models import (
    Appointment,
    AppointmentStatus,
    Clinic,
    Closure,
    Department,
    OpeningHours,
    Slot,
    User,
)

MAX_CLOSURE = timedelta(days=366)


def add_department(db: Session, user: User, clinic: Clinic, body: DepartmentCreate) -> Department:
    """A new department of the clinic; Conflict if its code is taken there."""
    taken = db.scalar(
        select(Department.id).where(Department.clinic_id == clinic.id, Department.code == body.code)
    )
    if taken is not None:
        raise Conflict(f"the clinic already has a department {body.code!r}")
    row = Department(
        clinic_id=clinic.id, code=body.code, name_zh=body.name_zh, name_en=body.name_en
    )
    db.add(row)
    db.flush()
    audit.record(db, "appointments.department.added", None, user=user, target=f"clinic:{clinic.id}")
    return row


def department_name(row: Department, lang: Lang) -> str:
    """The department's name in ``lang``."""
    return row.name_zh if lang is Lang.ZH else row.name_en


def _doctor_of(db: Session, clinic: Clinic, doctor_id: int) -> User:
    doctor = db.get(User, doctor_id)
    if doctor is None or doctor.role is not Role.DOCTOR or doctor.clinic_id != clinic.id:
        raise _invalid("doctor_id", f"user {doctor_id} is not a doctor of this clinic")
    return doctor


def _department_of(db: Session, clinic: Clinic, department_id: int) -> Department:
    row = db.get(Department, department_id)
    if row is None or row.clinic_id != clinic.id:
        raise _invalid("department_id", f"no department {department_id} in this clinic")
    return row


def _invalid(name: str, message: str) -> InvalidInput:
    err = InvalidInput(message)
    err.field = name
    return err


def _check_span(db: Session, hours: OpeningHours) -> None:
    if hours.start_minute >= hours.end_minute:
        raise _invalid("end", "the end must come after the start")
    if hours.end_minute - hours.start_minute < hours.slot_minutes:
        raise _invalid("slot_minutes", "the opening hours are shorter than one slot")
    clash = db.scalar(
        select(OpeningHours.id).where(
            OpeningHours.doctor_id == hours.doctor_id,
            OpeningHours.weekday == hours.weekday,
            OpeningHours.start_minute < hours.end_minute,
            OpeningHours.end_minute > hours.start_minute,
            OpeningHours.id != (hours.id or 0),
        )
    )
    if clash is not None:
        raise Conflict("the doctor already has opening hours overlapping these on that day")


def add_hours(
    db: Session, user: User, clinic: Clinic, body: HoursCreate, now: datetime
) -> OpeningHours:
    """New weekly opening hours of a doctor of the clinic, with their slots materialised."""
    _doctor_of(db, clinic, body.doctor_id)
    _department_of(db, clinic, body.department_id)
    hours = OpeningHours(
        clinic_id=clinic.id,
        doctor_id=body.doctor_id,
        department_id=body.department_id,
        weekday=body.weekday,
        start_minute=minutes(body.start),
        end_minute=minutes(body.end),
        slot_minutes=body.slot_minutes,
        capacity=body.capacity,
        kinds=",".join(sorted({k.value for k in body.kinds})),
        created_at=now,
    )
    _check_span(db, hours)
    db.add(hours)
    db.flush()
    materialise(db, hours, clinic, now)
    audit.record(db, "appointments.hours.added", None, user=user, target=f"clinic:{clinic.id}")
    return hours


def change_hours(
    db: Session, user: User, clinic: Clinic, hours: OpeningHours, body: HoursUpdate, now: datetime
) -> OpeningHours:
    """Change opening hours: their free future slots are made again; booked ones stay."""
    if body.department_id is not None:
        hours.department_id = _department_of(db, clinic, body.department_id).id
    if body.weekday is not None:
        hours.weekday = body.weekday
    if body.start is not None:
        hours.start_minute = minutes(body.start)
    if body.end is not None:
        hours.end_minute = minutes(body.end)
    if body.slot_minutes is not None:
        hours.slot_minutes = body.slot_minutes
    if body.capacity is not None:
        hours.capacity = body.capacity
    if body.kinds is not None:
        hours.kinds = ",".join(sorted({k.value for k in body.kinds}))
    _check_span(db, hours)
    db.flush()
    drop_free_slots(db, hours.id, now)
    materialise(db, hours, clinic, now)
    audit.record(db, "appointments.hours.changed", None, user=user, target=f"clinic:{clinic.id}")
    return hours


def remove_hours(
    db: Session, user: User, clinic: Clinic, hours: OpeningHours, now: datetime
) -> None:
    """Remove opening hours and their free future slots."""
    drop_free_slots(db, hours.id, now)
    db.execute(
        update(Slot)
        .where(Slot.hours_id == hours.id)
        .values(hours_id=None)
        .execution_options(synchronize_session=False)
    )
    db.delete(hours)
    audit.record(db, "appointments.hours.removed", None, user=user, target=f"clinic:{clinic.id}")


def hours_in(db: Session, clinic: Clinic, hours_id: int) -> OpeningHours:
    """Opening hours of this clinic; NotFound otherwise."""
    hours = db.get(OpeningHours, hours_id)
    if hours is None or hours.clinic_id != clinic.id:
        raise NotFound(f"no opening hours {hours_id} in this clinic")
    return hours


@dataclass
class Closed:
    """A closure just made: the visits it cancelled and the e-mails queued about them."""

    closure: Closure
    cancelled: list[Appointment] = field(default_factory=list)
    mail_ids: list[int] = field(default_factory=list)


def add_closure(
    db: Session, user: User, clinic: Clinic, body: ClosureCreate, now: datetime
) -> Closed:
    """Close the clinic (or one doctor) for a time: cancel what is booked there, tell families."""
    if body.ends_at <= body.starts_at:
        raise _invalid("ends_at", "the end must come after the start")
    if body.ends_at <= now:
        raise _invalid("ends_at", "the closure is over already")
    if body.ends_at - body.starts_at > MAX_CLOSURE:
        raise _invalid("ends_at", "a closure lasts at most a year")
    if body.doctor_id is not None:
        _doctor_of(db, clinic, body.doctor_id)
    closure = Closure(
        clinic_id=clinic.id,
        doctor_id=body.doctor_id,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        reason=body.reason,
        created_by=user.id,
        created_at=now,
    )
    db.add(closure)
    db.flush()  # the first write: on SQLite, the write lock from here on
    covered = inside(clinic.id, body.doctor_id, body.starts_at, body.ends_at)
    slot_ids = list(db.scalars(select(Slot.id).where(*covered).order_by(Slot.id).with_for_update()))
    close_inside(db, clinic.id, now)
    visits = list(
        db.scalars(
            select(Appointment)
            .where(
                Appointment.slot_id.in_(slot_ids or [0]),
                Appointment.status == AppointmentStatus.BOOKED,
            )
            .order_by(Appointment.id)
            .with_for_update()
        )
    )
    for visit in visits:
        visit.status = AppointmentStatus.CANCELLED
        visit.cancelled_at = visit.updated_at = now
        visit.cancel_reason = body.reason or "clinic closed"
        db.execute(
            update(Slot)
            .where(Slot.id == visit.slot_id)
            .values(booked=Slot.booked - 1)
            .execution_options(synchronize_session=False)
        )
    db.flush()
    mail_ids = queue_cancelled_emails(db, visits, body.reason)
    audit.record(db, "appointments.closure.added", None, user=user, target=f"clinic:{clinic.id}")
    return Closed(closure, visits, mail_ids)


def remove_closure(db: Session, user: User, clinic: Clinic, closure_id: int) -> None:
    """Remove a closure: its slots open again (cancelled visits stay cancelled)."""
    closure = db.get(Closure, closure_id)
    if closure is None or closure.clinic_id != clinic.id:
        raise NotFound(f"no closure {closure_id} in this clinic")
    span = (closure.starts_at, closure.ends_at)
    doctor_id = closure.doctor_id
    db.delete(closure)
    db.flush()
    reopen(db, clinic.id, doctor_id, span)
    audit.record(db, "appointments.closure.removed", None, user=user, target=f"clinic:{clinic.id}")
