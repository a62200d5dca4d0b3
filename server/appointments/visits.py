"""Changes to a booked visit beyond booking and cancelling: moving it, and the clinic's marks
(arrived, no-show, done).

A move is one transaction: the old visit is cancelled and the new one booked under the
elder's lock; if the new booking fails (taken, closed, overlapping another visit) the
transaction is rolled back and the old visit stands as it was.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from protocol import Lang
from server.appointments.booking import Ask, Booker, _retried
from server.appointments.clinic_schedule import schedule_for
from server.errors import Conflict, NotFound
from server.models import Appointment, AppointmentStatus, Clinic, Elder, Slot, User, VisitKind
from server.web.i18n import translate

# What the clinic may mark a visit as, from which statuses.
MARKS: dict[AppointmentStatus, tuple[AppointmentStatus, ...]] = {
    AppointmentStatus.ARRIVED: (AppointmentStatus.BOOKED,),
    AppointmentStatus.NO_SHOW: (AppointmentStatus.BOOKED,),
    AppointmentStatus.DONE: (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED),
}
# Arrived and no-show are marked on the visit's day, not days ahead by a slip of the hand.
MARK_AHEAD = timedelta(hours=12)
NO_SHOW_DAYS = 90  # the window of the no-show counts on the clinic's pages


def move(
    db: Session,
    booker: Booker,
    elder: Elder,
    visit: Appointment,
    slot_id: int,
    kind: VisitKind,
    key: str,
    now: datetime,
    hold_id: int | None = None,
) -> tuple[Appointment, bool]:
    """Book ``slot_id`` instead of ``visit``: (the new visit, created). The caller commits;
    on any error it rolls back and the old visit stays booked."""
    first = _retried(db, booker, key, elder.id, slot_id)
    if first is not None:  # a retried move: it went through the first time
        return first, False
    if visit.status is not AppointmentStatus.BOOKED:
        raise Conflict(translate(booker.lang, "appointments.not_booked"))
    if visit.slot_id == slot_id:
        return visit, False
    # Through each clinic's schedule: a clinic with its own FHIR server is told too, and
    # every call to a clinic comes before our own writes (none waits on a clinic).
    slot = db.get(Slot, slot_id)
    new_clinic = db.get(Clinic, slot.clinic_id) if slot is not None else None
    if new_clinic is None:
        raise NotFound(f"no slot {slot_id}")
    new = schedule_for(new_clinic)
    ask = Ask(booker, elder, slot_id, kind, key, now, hold_id)
    made = new.reserve(db, ask, besides=visit.id)
    reason = translate(booker.lang, "appointments.moved_reason")
    try:
        schedule_for(db.get_one(Clinic, visit.clinic_id)).cancel(
            db, booker.lang, visit, reason, now
        )
    except Exception:
        if made is not None:
            db.rollback()
            new.undo(made)
        raise
    return new.complete(db, ask, made)


def mark(
    db: Session, lang: Lang, visit: Appointment, status: AppointmentStatus, now: datetime
) -> bool:
    """Mark a visit arrived, no-show or done; False if it already was; Conflict when the
    visit is cancelled or the mark does not follow (a no-show after arrival)."""
    if visit.status is status:
        return False
    allowed = MARKS.get(status)
    if allowed is None or visit.status not in allowed:
        raise Conflict(
            translate(
                lang,
                "appointments.cannot_mark",
                now=translate(lang, f"appointments.status.{visit.status.value}"),
                to=translate(lang, f"appointments.status.{status.value}"),
            )
        )
    if status is not AppointmentStatus.DONE and visit.starts_at > now + MARK_AHEAD:
        raise Conflict(translate(lang, "appointments.too_early"))
    visit.status = status
    visit.updated_at = now
    db.flush()
    return True


def no_show_counts(
    db: Session, clinic_id: int, now: datetime, days: int = NO_SHOW_DAYS
) -> list[tuple[Elder, User, int]]:
    """(elder, doctor, no-shows) at the clinic in the last ``days``, most first."""
    rows = db.execute(
        select(Appointment.elder_id, Appointment.doctor_id, func.count(Appointment.id))
        .where(
            Appointment.clinic_id == clinic_id,
            Appointment.status == AppointmentStatus.NO_SHOW,
            Appointment.starts_at > now - timedelta(days=days),
        )
        .group_by(Appointment.elder_id, Appointment.doctor_id)
        .order_by(func.count(Appointment.id).desc(), Appointment.elder_id)
        .limit(100)
    ).all()
    out = []
    for elder_id, doctor_id, count in rows:
        elder, doctor = db.get(Elder, elder_id), db.get(User, doctor_id)
        if elder is not None and doctor is not None:
            out.append((elder, doctor, int(count)))
    return out
