"""Moving a visit, and the clinic's marks on it (arrived, no-show, done), over the API.

The pages call the same two functions (`move_visit`, `mark_visit`), so a page and an
integration change a visit alike: audited, e-mailed to the family, pushed to the pages.
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from protocol import Role
from server import audit
from server.api.deps import CurrentUser, RuntimeDep, SessionDep
from server.api.responses import answers
from server.appointments.access import CLINIC_ROLES, booker_for, visit_for
from server.appointments.mail import queue_change_emails
from server.appointments.notices import announce
from server.appointments.schemas import AppointmentMark, AppointmentMove, AppointmentPublic
from server.appointments.visits import mark, move
from server.errors import Forbidden
from server.ids import RowId
from server.models import Appointment, AppointmentStatus, User, VisitKind, utcnow
from server.outgoing import deliver
from server.runtime import Runtime

router = APIRouter(prefix="/api", tags=["appointments"])


def move_visit(
    db: Session,
    rt: Runtime,
    user: User,
    visit: Appointment,
    slot_id: int,
    kind: VisitKind | None,
    key: str,
    hold_id: int | None = None,
) -> tuple[Appointment, bool]:
    """Move ``visit`` for ``user`` (family, operators) and commit: (the new visit, created)."""
    elder, booker = booker_for(db, user, visit.elder_id)
    try:
        new, created = move(
            db, booker, elder, visit, slot_id, kind or visit.kind, key, utcnow(), hold_id
        )
    except Exception:
        db.rollback()  # the old visit stays booked
        raise
    if not created:
        return new, False
    audit.record(db, "appointment.moved", elder.id, user=user, target=f"appointment:{new.id}")
    mails = queue_change_emails(
        db, "moved", new, rt.settings.public_base_url, user.id, before=visit
    )
    db.commit()
    deliver(rt, mails)
    announce(db, rt.hub, [elder.id], "moved", {visit.clinic_id, new.clinic_id})
    return new, True


def mark_visit(
    db: Session, rt: Runtime, user: User, visit: Appointment, status: AppointmentStatus
) -> bool:
    """Mark ``visit`` for a clinic person of its clinic (or an administrator) and commit."""
    if not (user.role is Role.ADMIN or (user.role in CLINIC_ROLES)):
        raise Forbidden("only the clinic's doctors and staff mark visits")
    changed = mark(db, user.lang, visit, status, utcnow())
    if not changed:
        return False
    audit.record(
        db,
        f"appointment.{status.value}",
        visit.elder_id,
        user=user,
        target=f"appointment:{visit.id}",
    )
    mails = []
    if status is AppointmentStatus.NO_SHOW:
        mails = queue_change_emails(db, "no_show", visit, rt.settings.public_base_url, user.id)
    db.commit()
    deliver(rt, mails)
    announce(db, rt.hub, [visit.elder_id], status.value, [visit.clinic_id])
    return True


@router.post(
    "/appointments/{appointment_id}/move",
    response_model=AppointmentPublic,
    status_code=201,
    responses=answers(400, 401, 403, 404, 409, 422, 503),
)
def move_appointment(
    appointment_id: RowId,
    body: AppointmentMove,
    user: CurrentUser,
    db: SessionDep,
    rt: RuntimeDep,
    response: Response,
) -> AppointmentPublic:
    """Move a visit to another slot (family, operators): the new one is booked and the old
    one cancelled, or, if the new slot is taken, nothing changes (409 ``slot_taken``)."""
    visit = visit_for(db, user, appointment_id)
    new, created = move_visit(
        db, rt, user, visit, body.slot_id, body.kind, body.idempotency_key, body.hold_id
    )
    if not created:
        response.status_code = 200
    return AppointmentPublic.model_validate(new, from_attributes=True)


@router.post(
    "/appointments/{appointment_id}/status",
    response_model=AppointmentPublic,
    responses=answers(400, 401, 403, 404, 409, 422),
)
def mark_appointment(
    appointment_id: RowId, body: AppointmentMark, user: CurrentUser, db: SessionDep, rt: RuntimeDep
) -> AppointmentPublic:
    """The clinic marks a visit arrived, no-show or done (its doctors and staff,
    administrators); the same mark again changes nothing."""
    visit = visit_for(db, user, appointment_id)
    mark_visit(db, rt, user, visit, AppointmentStatus(body.status))
    db.refresh(visit)
    return AppointmentPublic.model_validate(visit, from_attributes=True)
