"""What appointments add to the demo world: the demo clinic's departments, its doctor's
opening hours, a few visits booked for the demo elders, and visits TODAY (one of them a video
visit) so the clinic's day list has something to show whatever day the demo starts."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol import Lang, Role
from server.appointments.booking import Booker, book
from server.appointments.schedule import clinic_zone, local_instant, materialise
from server.demo import DEMO_LOGINS
from server.models import (
    BookedBy,
    Clinic,
    Department,
    Elder,
    OpeningHours,
    Slot,
    User,
    VisitKind,
    utcnow,
)

DEPARTMENTS = (
    ("gp", "全科", "General practice"),
    ("chronic", "慢病门诊", "Chronic disease"),
    ("eye", "眼科", "Eye clinic"),
    ("dental", "口腔科", "Dental"),
    ("tcm", "中医科", "Traditional Chinese medicine"),
)


def _login(db: Session, role: Role, index: int = 0) -> User:
    email = [d.email for d in DEMO_LOGINS if d.role is role][index]
    user = db.scalar(select(User).where(User.email == email))
    assert user is not None, email
    return user


def seed_appointments(db: Session, now: datetime | None = None) -> None:
    """Departments, the doctor's week (mornings: general practice; Tuesday and Thursday
    afternoons: chronic disease, video and home visits too), three booked visits, and visits
    later today (one by video) when the day allows; ``now``: the moment the demo starts."""
    doctor = _login(db, Role.DOCTOR)
    clinic = db.get(Clinic, doctor.clinic_id)
    assert clinic is not None
    departments = {}
    for code, zh, en in DEPARTMENTS:
        row = Department(clinic_id=clinic.id, code=code, name_zh=zh, name_en=en)
        db.add(row)
        departments[code] = row
    db.flush()
    now = now or utcnow()
    week = [(day, "gp", 8 * 60 + 30, 11 * 60 + 30, 15, 1, "clinic,video") for day in range(5)]
    week += [(day, "chronic", 14 * 60, 16 * 60, 20, 2, "clinic,home,video") for day in (1, 3)]
    today = _today_session(clinic, now, week)
    if today is not None:
        week.append(today)
    for weekday, code, start, end, minutes, capacity, kinds in week:
        hours = OpeningHours(
            clinic_id=clinic.id,
            doctor_id=doctor.id,
            department_id=departments[code].id,
            weekday=weekday,
            start_minute=start,
            end_minute=end,
            slot_minutes=minutes,
            capacity=capacity,
            kinds=kinds,
            created_at=now,
        )
        db.add(hours)
        db.flush()
        materialise(db, hours, clinic, now)
    wang = db.scalar(select(Elder).where(Elder.name == "王秀英"))
    chen = db.scalar(select(Elder).where(Elder.name == "Margaret Chen"))
    family, operator = _login(db, Role.FAMILY), _login(db, Role.OPERATOR)
    visits = [
        (wang, family, BookedBy.FAMILY, "gp", 2, VisitKind.CLINIC),
        (wang, family, BookedBy.FAMILY, "chronic", 7, VisitKind.VIDEO),
        (chen, operator, BookedBy.OPERATOR, "chronic", 3, VisitKind.HOME),
    ]
    for elder, user, kind, code, days, visit_kind in visits:
        slot_id = db.scalar(
            select(Slot.id)
            .where(
                Slot.department_id == departments[code].id,
                Slot.starts_at > now + timedelta(days=days),
            )
            .order_by(Slot.starts_at)
        )
        if elder is None or slot_id is None:
            continue
        booker = Booker(kind, f"user:{user.id}", Lang.ZH, user_id=user.id)
        book(db, booker, elder, slot_id, visit_kind, f"demo-{code}-{days}", now)
    li = db.scalar(select(Elder).where(Elder.name == "李桂兰"))
    today_visits = [
        (wang, VisitKind.VIDEO, family, BookedBy.FAMILY),
        (chen, VisitKind.CLINIC, operator, BookedBy.OPERATOR),
        (li, VisitKind.CLINIC, operator, BookedBy.OPERATOR),
    ]
    _book_today(db, clinic, now, today_visits)


# Today's demo visits start this long after now at the earliest: past the TV's one-hour
# reminder, so the elder's TV opens on its home screen, not on a visit reminder.
VISIT_LEAD = timedelta(minutes=75)
# A demo session today starts this long after now (rounded up to the quarter): after
# VISIT_LEAD, and never overlapping a session of the week that is still running.
TODAY_LEAD = timedelta(minutes=90)


def _today_session(
    clinic: Clinic, now: datetime, week: list[tuple[int, str, int, int, int, int, str]]
) -> tuple[int, str, int, int, int, int, str] | None:
    """A general-practice session for the rest of today (in the clinic's zone) when the
    week has none still to come today; None when the day is too far gone for one."""
    local = (now + TODAY_LEAD).astimezone(clinic_zone(clinic))
    if local.date() != now.astimezone(clinic_zone(clinic)).date():
        return None
    start = -(-(local.hour * 60 + local.minute) // 15) * 15
    end = min(start + 180, 24 * 60 - 15)
    if end - start < 60:
        return None
    weekday = local.weekday()
    if any(w == weekday and s < end and start < e for w, _c, s, e, *_ in week):
        return None  # a session of the week already runs later today
    return (weekday, "gp", start, end, 15, 1, "clinic,video")


def _book_today(
    db: Session,
    clinic: Clinic,
    now: datetime,
    visits: list[tuple[Elder | None, VisitKind, User, BookedBy]],
) -> None:
    """Book ``visits`` in today's free slots still to come, one after another."""
    zone = clinic_zone(clinic)
    tomorrow = now.astimezone(zone).date() + timedelta(days=1)
    midnight = local_instant(tomorrow, 0, zone) or now + timedelta(hours=24)
    slots = db.scalars(
        select(Slot)
        .where(
            Slot.clinic_id == clinic.id,
            Slot.starts_at >= now + VISIT_LEAD,
            Slot.starts_at < midnight,
            Slot.booked < Slot.capacity,
            Slot.closed.is_(False),
        )
        .order_by(Slot.starts_at)
    ).all()
    free = iter(slots)
    for n, (elder, kind, user, booked_by) in enumerate(visits):
        slot = next((s for s in free if kind.value in s.kinds.split(",")), None)
        if elder is None or slot is None:
            continue
        booker = Booker(booked_by, f"user:{user.id}", Lang.ZH, user_id=user.id)
        book(db, booker, elder, slot.id, kind, f"demo-today-{n}", now)
