"""Appointments over the API: departments, opening hours, closures, free slots, holds, visits.

Who may call what is decided in `server.appointments.access`; every change of an elder's
visits is pushed to the pages (``changed``, topic ``appointment``) once committed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy import select

from protocol import Lang, Role
from server import audit
from server.api.deps import CurrentUser, RuntimeDep, SessionDep
from server.api.responses import answers
from server.appointments import booking
from server.appointments.access import (
    CLINIC_ROLES,
    booker_for,
    clinic_for_reading,
    clinic_for_schedule,
    visit_for,
    visits_query_for,
)
from server.appointments.clinic_schedule import (
    ClinicSchedule,
    LocalSchedule,
    refresh_remote_clinics,
    schedule_for,
)
from server.appointments.errors import OutsideWindow
from server.appointments.mail import queue_change_emails
from server.appointments.notices import announce
from server.appointments.schedule import WINDOW_DAYS, clinic_zone, parse_kinds
from server.appointments.schemas import (
    AppointmentCancel,
    AppointmentCreate,
    AppointmentPublic,
    ClosureCreate,
    ClosurePublic,
    DepartmentCreate,
    DepartmentPublic,
    HoldCreate,
    HoldPublic,
    HoursCreate,
    HoursPublic,
    HoursUpdate,
    SlotPublic,
    TravelPublic,
    TravelUpdate,
    VideoCallPublic,
    clock,
)
from server.appointments.search import SEARCH_DEFAULT, SEARCH_LIMIT, free_slots
from server.appointments.timetable import (
    add_closure,
    add_department,
    add_hours,
    change_hours,
    department_name,
    hours_in,
    remove_closure,
    remove_hours,
)
from server.appointments.tv import push_visits
from server.calls import signaling, store
from server.errors import Conflict, Forbidden, InvalidInput, NotFound
from server.ids import RowId
from server.models import (
    Appointment,
    AppointmentStatus,
    Clinic,
    Closure,
    Department,
    OpeningHours,
    Slot,
    VisitKind,
    utcnow,
)
from server.outgoing import deliver

router = APIRouter(prefix="/api", tags=["appointments"])
SEARCH_DAYS = 14  # the default search window


def _department_public(row: Department, lang: Lang) -> DepartmentPublic:
    return DepartmentPublic(
        id=row.id,
        clinic_id=row.clinic_id,
        code=row.code,
        name=department_name(row, lang),
        name_zh=row.name_zh,
        name_en=row.name_en,
    )


def _hours_public(row: OpeningHours, clinic: Clinic) -> HoursPublic:
    return HoursPublic(
        id=row.id,
        clinic_id=row.clinic_id,
        doctor_id=row.doctor_id,
        department_id=row.department_id,
        weekday=row.weekday,
        start=clock(row.start_minute),
        end=clock(row.end_minute),
        slot_minutes=row.slot_minutes,
        capacity=row.capacity,
        kinds=[VisitKind(k) for k in parse_kinds(row.kinds)],
        timezone=clinic_zone(clinic).key,
    )


def _closure_public(row: Closure, cancelled: int = 0) -> ClosurePublic:
    return ClosurePublic(
        id=row.id,
        clinic_id=row.clinic_id,
        doctor_id=row.doctor_id,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        reason=row.reason,
        cancelled=cancelled,
    )


def _visit_public(row: Appointment) -> AppointmentPublic:
    return AppointmentPublic.model_validate(row, from_attributes=True)


# -- a clinic's timetable ------------------------------------------------------------------


@router.get(
    "/clinics/{clinic_id}/departments",
    response_model=list[DepartmentPublic],
    responses=answers(401, 404, 422),
)
def list_departments(clinic_id: RowId, user: CurrentUser, db: SessionDep) -> list[DepartmentPublic]:
    """The clinic's departments (anyone logged in: they choose what a visit is for)."""
    clinic = clinic_for_reading(db, clinic_id)
    rows = db.scalars(
        select(Department).where(Department.clinic_id == clinic.id).order_by(Department.id)
    )
    return [_department_public(r, user.lang) for r in rows]


@router.post(
    "/clinics/{clinic_id}/departments",
    response_model=DepartmentPublic,
    status_code=201,
    responses=answers(400, 401, 403, 404, 409, 422),
)
def create_department(
    clinic_id: RowId, body: DepartmentCreate, user: CurrentUser, db: SessionDep
) -> DepartmentPublic:
    """Add a department (the clinic's doctors and staff, administrators)."""
    clinic = clinic_for_schedule(db, user, clinic_id)
    return _department_public(add_department(db, user, clinic, body), user.lang)


@router.get(
    "/clinics/{clinic_id}/opening-hours",
    response_model=list[HoursPublic],
    responses=answers(401, 403, 404, 422),
)
def list_hours(clinic_id: RowId, user: CurrentUser, db: SessionDep) -> list[HoursPublic]:
    """Every doctor's weekly opening hours (local times of the clinic)."""
    clinic = clinic_for_schedule(db, user, clinic_id)
    rows = db.scalars(
        select(OpeningHours)
        .where(OpeningHours.clinic_id == clinic.id)
        .order_by(OpeningHours.doctor_id, OpeningHours.weekday, OpeningHours.start_minute)
    )
    return [_hours_public(r, clinic) for r in rows]


@router.post(
    "/clinics/{clinic_id}/opening-hours",
    response_model=HoursPublic,
    status_code=201,
    responses=answers(400, 401, 403, 404, 409, 422),
)
def create_hours(
    clinic_id: RowId, body: HoursCreate, user: CurrentUser, db: SessionDep
) -> HoursPublic:
    """New weekly opening hours of one of the clinic's doctors; their slots open at once."""
    clinic = clinic_for_schedule(db, user, clinic_id)
    return _hours_public(add_hours(db, user, clinic, body, utcnow()), clinic)


def _hours_for_schedule(
    db: SessionDep, user: CurrentUser, hours_id: int
) -> tuple[OpeningHours, Clinic]:
    clinic_id = db.scalar(select(OpeningHours.clinic_id).where(OpeningHours.id == hours_id))
    if clinic_id is None:
        raise NotFound(f"no opening hours {hours_id}")
    clinic = clinic_for_schedule(db, user, clinic_id)
    return hours_in(db, clinic, hours_id), clinic


@router.patch(
    "/opening-hours/{hours_id}",
    response_model=HoursPublic,
    responses=answers(400, 401, 403, 404, 409, 422),
)
def update_hours(
    hours_id: RowId, body: HoursUpdate, user: CurrentUser, db: SessionDep
) -> HoursPublic:
    """Change opening hours: free future slots are made again, booked visits stay."""
    hours, clinic = _hours_for_schedule(db, user, hours_id)
    return _hours_public(change_hours(db, user, clinic, hours, body, utcnow()), clinic)


@router.delete("/opening-hours/{hours_id}", status_code=204, responses=answers(401, 403, 404, 422))
def delete_hours(hours_id: RowId, user: CurrentUser, db: SessionDep) -> Response:
    """Remove opening hours and their free future slots (booked visits stay)."""
    hours, clinic = _hours_for_schedule(db, user, hours_id)
    remove_hours(db, user, clinic, hours, utcnow())
    return Response(status_code=204)


@router.get(
    "/clinics/{clinic_id}/closures",
    response_model=list[ClosurePublic],
    responses=answers(401, 403, 404, 422),
)
def list_closures(clinic_id: RowId, user: CurrentUser, db: SessionDep) -> list[ClosurePublic]:
    """The clinic's closures that have not ended."""
    clinic = clinic_for_schedule(db, user, clinic_id)
    rows = db.scalars(
        select(Closure)
        .where(Closure.clinic_id == clinic.id, Closure.ends_at > utcnow())
        .order_by(Closure.starts_at, Closure.id)
    )
    return [_closure_public(r) for r in rows]


@router.post(
    "/clinics/{clinic_id}/closures",
    response_model=ClosurePublic,
    status_code=201,
    responses=answers(400, 401, 403, 404, 422),
)
def create_closure(
    clinic_id: RowId, body: ClosureCreate, user: CurrentUser, db: SessionDep, rt: RuntimeDep
) -> ClosurePublic:
    """Close the clinic or one doctor: visits booked inside are cancelled, families e-mailed."""
    clinic = clinic_for_schedule(db, user, clinic_id)
    closed = add_closure(db, user, clinic, body, utcnow())
    db.commit()
    deliver(rt, closed.mail_ids)  # a failed send stays queued; the outgoing sweep retries it
    announce(db, rt.hub, (v.elder_id for v in closed.cancelled), "cancelled", [clinic.id])
    return _closure_public(closed.closure, len(closed.cancelled))


@router.delete("/closures/{closure_id}", status_code=204, responses=answers(401, 403, 404, 422))
def delete_closure(closure_id: RowId, user: CurrentUser, db: SessionDep) -> Response:
    """Remove a closure: its slots open again (cancelled visits stay cancelled)."""
    clinic_id = db.scalar(select(Closure.clinic_id).where(Closure.id == closure_id))
    if clinic_id is None:
        raise NotFound(f"no closure {closure_id}")
    clinic = clinic_for_schedule(db, user, clinic_id)
    remove_closure(db, user, clinic, closure_id)
    return Response(status_code=204)


# -- searching and booking -----------------------------------------------------------------


@router.get(
    "/appointments/slots", response_model=list[SlotPublic], responses=answers(401, 422, 503)
)
def search_slots(
    user: CurrentUser,
    db: SessionDep,
    department: Annotated[
        str | None, Query(pattern=r"^[a-z][a-z0-9_]{0,31}$", description="department code")
    ] = None,
    clinic: Annotated[RowId | None, Query(description="clinic id")] = None,
    start: Annotated[datetime | None, Query(alias="from", description="default now")] = None,
    end: Annotated[datetime | None, Query(alias="to", description="default 14 days on")] = None,
    kind: VisitKind | None = None,
    limit: Annotated[int, Query(ge=1, le=SEARCH_LIMIT)] = SEARCH_DEFAULT,
) -> list[SlotPublic]:
    """Free slots, earliest first: by department code, clinic, window (aware times) and kind."""
    now = utcnow()
    for name, value in (("from", start), ("to", end)):
        if value is not None and value.tzinfo is None:
            raise _naive(name)
    window_start = max(start or now, now)
    window_end = end or window_start + timedelta(days=SEARCH_DAYS)
    if window_end <= window_start or window_end > now + timedelta(days=WINDOW_DAYS + 1):
        raise OutsideWindow(user.lang, WINDOW_DAYS)
    # Clinics that run their own system: their free slots are read from it first (503
    # ``clinic_unavailable`` when the one clinic asked for does not answer).
    refresh_remote_clinics(db, user.lang, (window_start, window_end), clinic)
    return free_slots(db, user.lang, (window_start, window_end), department, clinic, kind, limit)


def _schedule_of(db: SessionDep, clinic_id: int | None) -> ClinicSchedule:
    clinic = db.get(Clinic, clinic_id) if clinic_id is not None else None
    return schedule_for(clinic) if clinic is not None else LocalSchedule(Clinic(id=0))


def _naive(name: str) -> InvalidInput:
    err = InvalidInput(f"{name}: give a time with its offset, e.g. 2026-12-07T09:00:00+08:00")
    err.field = name
    return err


@router.post(
    "/appointments/holds",
    response_model=HoldPublic,
    status_code=201,
    responses=answers(400, 401, 403, 404, 409, 422),
)
def create_hold(body: HoldCreate, user: CurrentUser, db: SessionDep) -> HoldPublic:
    """Keep a place of the slot for the elder for 3 minutes while the booker confirms."""
    elder, booker = booker_for(db, user, body.elder_id)
    hold = booking.hold_slot(db, booker, elder, body.slot_id, utcnow())
    return HoldPublic(
        id=hold.id, slot_id=hold.slot_id, elder_id=hold.elder_id, expires_at=hold.expires_at
    )


@router.delete("/appointments/holds/{hold_id}", status_code=204, responses=answers(401, 404, 422))
def delete_hold(hold_id: RowId, user: CurrentUser, db: SessionDep) -> Response:
    """Let go of one's own hold (the booker went back)."""
    booking.release_hold(db, f"user:{user.id}", hold_id)
    return Response(status_code=204)


@router.post(
    "/appointments",
    response_model=AppointmentPublic,
    status_code=201,
    responses=answers(400, 401, 403, 404, 409, 422, 503),
)
def create_appointment(
    body: AppointmentCreate, user: CurrentUser, db: SessionDep, rt: RuntimeDep, response: Response
) -> AppointmentPublic:
    """Book the elder into the slot (201); the same key again returns the first booking (200).

    409 ``slot_taken``, ``overlap``, ``hold_expired``, ``clinic_closed``; 422
    ``outside_window``; 503 ``clinic_unavailable`` (a clinic's own system did not answer:
    nothing was booked); the message is in the caller's language.
    """
    elder, booker = booker_for(db, user, body.elder_id)
    schedule = _schedule_of(db, db.scalar(select(Slot.clinic_id).where(Slot.id == body.slot_id)))
    ask = booking.Ask(
        booker, elder, body.slot_id, body.kind, body.idempotency_key, utcnow(), body.hold_id
    )
    visit, created = schedule.book(db, ask)
    if not created:
        response.status_code = 200
        return _visit_public(visit)
    audit.record(db, "appointment.booked", elder.id, user=user, target=f"appointment:{visit.id}")
    mails = queue_change_emails(db, "booked", visit, rt.settings.public_base_url, user.id)
    db.commit()
    deliver(rt, mails)
    announce(db, rt.hub, [elder.id], "booked", [visit.clinic_id])
    return _visit_public(visit)


@router.get(
    "/appointments", response_model=list[AppointmentPublic], responses=answers(401, 403, 404, 422)
)
def list_appointments(
    user: CurrentUser,
    db: SessionDep,
    elder_id: RowId | None = None,
    clinic_id: RowId | None = None,
    include_past: bool = False,
) -> list[AppointmentPublic]:
    """An elder's visits (``elder_id``), or a clinic's (``clinic_id``, its own staff only);
    upcoming ones unless ``include_past``."""
    if (elder_id is None) == (clinic_id is None):
        err = InvalidInput("give exactly one of elder_id and clinic_id")
        err.field = "elder_id"
        raise err
    if elder_id is not None:
        elder, allowed = visits_query_for(db, user, elder_id)
        query = select(Appointment).where(Appointment.elder_id == elder.id, allowed)
        audit.record(db, "appointments.read", elder.id, user=user)
    else:
        assert clinic_id is not None
        if not (
            user.role is Role.ADMIN or (user.role in CLINIC_ROLES and user.clinic_id == clinic_id)
        ):
            raise Forbidden("only the clinic's own doctors and staff see its visits")
        query = select(Appointment).where(Appointment.clinic_id == clinic_id)
    if not include_past:
        query = query.where(Appointment.ends_at > utcnow())
    rows = db.scalars(query.order_by(Appointment.starts_at, Appointment.id).limit(500))
    return [_visit_public(r) for r in rows]


@router.get(
    "/appointments/{appointment_id}",
    response_model=AppointmentPublic,
    responses=answers(401, 404, 422),
)
def read_appointment(appointment_id: RowId, user: CurrentUser, db: SessionDep) -> AppointmentPublic:
    """One visit."""
    visit = visit_for(db, user, appointment_id)
    audit.record(db, "appointment.read", visit.elder_id, user=user)
    return _visit_public(visit)


@router.post(
    "/appointments/{appointment_id}/cancel",
    response_model=AppointmentPublic,
    responses=answers(400, 401, 403, 404, 409, 422, 503),
)
def cancel_appointment(
    appointment_id: RowId,
    user: CurrentUser,
    db: SessionDep,
    rt: RuntimeDep,
    body: AppointmentCancel | None = None,
) -> AppointmentPublic:
    """Cancel a visit (its family, the area's operators, the clinic's people, administrators);
    cancelling a cancelled visit again changes nothing."""
    visit = visit_for(db, user, appointment_id)
    if user.role not in (Role.FAMILY, Role.OPERATOR, Role.ADMIN, *CLINIC_ROLES):
        raise Forbidden("you cannot cancel visits")
    reason = body.reason if body else ""
    schedule = _schedule_of(db, visit.clinic_id)
    changed = schedule.cancel(db, user.lang, visit, reason, utcnow())
    if changed:
        audit.record(
            db, "appointment.cancelled", visit.elder_id, user=user, target=f"appointment:{visit.id}"
        )
        base = rt.settings.public_base_url
        mails = queue_change_emails(db, "cancelled", visit, base, user.id, reason=reason)
        db.commit()
        deliver(rt, mails)
        announce(db, rt.hub, [visit.elder_id], "cancelled", [visit.clinic_id])
    db.refresh(visit)
    return _visit_public(visit)


@router.patch(
    "/elders/{elder_id}/visit-travel",
    response_model=TravelPublic,
    responses=answers(400, 401, 403, 404, 422),
)
def set_visit_travel(
    elder_id: RowId, body: TravelUpdate, user: CurrentUser, db: SessionDep, rt: RuntimeDep
) -> TravelPublic:
    """Set how long the elder needs to reach their clinic (family, the area's operators): the
    TV says "leave by" that long before a clinic visit."""
    elder, _booker = booker_for(db, user, elder_id)
    elder.visit_travel_minutes = body.minutes
    audit.record(db, "elder.visit_travel_set", elder.id, user=user, detail=str(body.minutes))
    db.commit()
    push_visits(db, rt.hub, elder.id)
    return TravelPublic(elder_id=elder.id, minutes=elder.visit_travel_minutes)


@router.post(
    "/appointments/{appointment_id}/video-call",
    response_model=VideoCallPublic,
    status_code=201,
    responses=answers(401, 403, 404, 409, 422),
)
def ring_video_visit(
    appointment_id: RowId, user: CurrentUser, db: SessionDep, rt: RuntimeDep
) -> VideoCallPublic:
    """The visit's doctor opens a booked video visit: the elder's TV rings and says the doctor
    is ready; unanswered, the call ends after the ring timeout and the doctor may ring again."""
    visit = visit_for(db, user, appointment_id)
    if user.role is not Role.DOCTOR or visit.doctor_id != user.id:
        raise Forbidden("only the visit's doctor starts a video visit")
    if visit.kind is not VisitKind.VIDEO:
        raise Conflict("this is not a video visit")
    if visit.status is not AppointmentStatus.BOOKED or visit.ends_at <= utcnow():
        raise Conflict("this visit is not booked any more")
    sends = store.ring_video_visit(
        rt.db, rt.hub.device_connected, user.id, visit.elder_id, visit.id
    )
    assert sends.call_id is not None
    rt.hub.push(signaling.ring(rt, sends))
    return VideoCallPublic(appointment_id=visit.id, call_id=sends.call_id, status="ringing")
