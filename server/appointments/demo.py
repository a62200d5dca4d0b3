"""What appointments add to the demo world: the demo clinic's departments, its doctor's
opening hours, and a few visits booked for the demo elders."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol import Lang, Role
from server.appointments.booking import Booker, book
from server.appointments.schedule import materialise
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


def seed_appointments(db: Session) -> None:
    """Departments, the doctor's week (mornings: general practice; Tuesday and Thursday
    afternoons: chronic disease, video and home visits too) and three booked visits."""
    doctor = _login(db, Role.DOCTOR)
    clinic = db.get(Clinic, doctor.clinic_id)
    assert clinic is not None
    departments = {}
    for code, zh, en in DEPARTMENTS:
        row = Department(clinic_id=clinic.id, code=code, name_zh=zh, name_en=en)
        db.add(row)
        departments[code] = row
    db.flush()
    now = utcnow()
    week = [(day, "gp", 8 * 60 + 30, 11 * 60 + 30, 15, 1, "clinic,video") for day in range(5)]
    week += [(day, "chronic", 14 * 60, 16 * 60, 20, 2, "clinic,home,video") for day in (1, 3)]
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
