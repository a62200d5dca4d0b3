"""Who may do what with appointments.

- a clinic's schedule (departments, opening hours, closures) is changed by its doctors and
  clinic staff, and by administrators; its departments and free slots anyone logged in sees;
- an elder is booked for by their linked family and the operators of their area (the
  hotline); their visits are seen by whoever may see the elder;
- doctors and clinic staff see and cancel the visits booked with their own clinic only.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from protocol import Role
from server.appointments.booking import Booker
from server.errors import Forbidden, NotFound
from server.models import Appointment, BookedBy, Clinic, Elder, User
from server.permissions import elder_for_viewing

CLINIC_ROLES = (Role.DOCTOR, Role.CLINIC_STAFF)
BOOKERS = {Role.FAMILY: BookedBy.FAMILY, Role.OPERATOR: BookedBy.OPERATOR}


def clinic_for_reading(db: Session, clinic_id: int) -> Clinic:
    """An active clinic; NotFound otherwise."""
    clinic = db.get(Clinic, clinic_id)
    if clinic is None or not clinic.is_active:
        raise NotFound(f"no clinic {clinic_id}")
    return clinic


def clinic_for_schedule(db: Session, user: User, clinic_id: int) -> Clinic:
    """The clinic, if ``user`` may change its schedule: its doctors and staff, administrators."""
    clinic = clinic_for_reading(db, clinic_id)
    if user.role is Role.ADMIN or (user.role in CLINIC_ROLES and user.clinic_id == clinic.id):
        return clinic
    raise Forbidden("only the clinic's doctors and staff can change its schedule")


def booker_for(db: Session, user: User, elder_id: int) -> tuple[Elder, Booker]:
    """The elder and the booker, if ``user`` may book for them: family and the area's operators."""
    elder = elder_for_viewing(db, user, elder_id)
    kind = BOOKERS.get(user.role)
    if kind is None:
        raise Forbidden("only the elder's family or the care centre can book a visit")
    if not elder.is_active:
        raise Forbidden("the elder's service has ended")
    return elder, Booker(kind, f"user:{user.id}", user.lang, user_id=user.id)


def visit_for(db: Session, user: User, appointment_id: int) -> Appointment:
    """A visit ``user`` may see and cancel; NotFound (hiding it) otherwise."""
    visit = db.get(Appointment, appointment_id)
    if visit is not None and can_see_visit(db, user, visit):
        return visit
    raise NotFound(f"no appointment {appointment_id} that you can see")


def can_see_visit(db: Session, user: User, visit: Appointment) -> bool:
    """Whether ``user`` may see ``visit`` (clinic people: only their clinic's)."""
    if user.role in CLINIC_ROLES:
        return user.clinic_id == visit.clinic_id
    try:
        elder_for_viewing(db, user, visit.elder_id)
    except NotFound:
        return False
    return True


def visits_query_for(db: Session, user: User, elder_id: int) -> tuple[Elder, ColumnElement[bool]]:
    """The elder and a condition on `Appointment` limiting what ``user`` may list of theirs."""
    if user.role in CLINIC_ROLES:
        elder = db.get(Elder, elder_id)
        booked_here = db.scalar(
            select(Appointment.id).where(
                Appointment.elder_id == elder_id, Appointment.clinic_id == user.clinic_id
            )
        )
        if elder is None or booked_here is None:
            raise NotFound(f"no elder {elder_id} booked with your clinic")
        return elder, Appointment.clinic_id == user.clinic_id
    return elder_for_viewing(db, user, elder_id), Appointment.elder_id == elder_id
