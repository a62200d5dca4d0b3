"""The clinic's pages (its doctors and clinic staff): the day list, opening hours and closures.

- ``/clinic`` — one day's visits per doctor (in the clinic's zone), with arrived / no-show /
  done, "Start video visit" on video visits, and the no-show counts of the last 90 days; it
  refreshes by itself when a visit is booked, moved or cancelled (topic ``appointment``).
- ``/clinic/video/{id}`` — the doctor's side of a video visit: it rings the elder's TV once
  its call socket is up (so the TV's answer is never missed), runs the call like a consult,
  and says so when the elder does not answer, with "Ring again".
- ``/clinic/hours`` — each doctor's weekly opening hours (add, change, remove a row) and the
  closures (add one with a reason: the visits inside are cancelled and the families told).

A person of one clinic sees only that clinic's schedule and the elders booked with it.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol import Role
from server.api.deps import FormDep, RuntimeDep, SessionDep
from server.appointments.access import clinic_for_schedule, visit_for
from server.appointments.notices import announce
from server.appointments.pages import visit_rows
from server.appointments.schedule import clinic_zone, parse_kinds
from server.appointments.schemas import ClosureCreate, HoursCreate, HoursUpdate, clock
from server.appointments.timetable import (
    add_closure,
    add_hours,
    change_hours,
    department_name,
    hours_in,
    remove_closure,
    remove_hours,
)
from server.appointments.visit_routes import mark_visit
from server.appointments.visits import NO_SHOW_DAYS, no_show_counts
from server.errors import AppError, Conflict, Forbidden, InvalidInput
from server.ids import RowId
from server.models import (
    Appointment,
    AppointmentStatus,
    Clinic,
    Closure,
    Department,
    Elder,
    OpeningHours,
    User,
    VisitKind,
    utcnow,
)
from server.outgoing import deliver
from server.web.i18n import translate
from server.web.pages import form_user_of, page_lang, page_user_of, render

router = APIRouter(include_in_schema=False)
ClinicUser = Annotated[User, Depends(page_user_of(Role.DOCTOR, Role.CLINIC_STAFF))]
ClinicForm = Annotated[User, Depends(form_user_of(Role.DOCTOR, Role.CLINIC_STAFF))]
HOURS_FIELDS = ("doctor_id", "department_id", "weekday", "start", "end", "slot_minutes", "capacity")
CLOSURE_FIELDS = ("doctor_id", "starts_at", "ends_at", "reason")
MARKS = (AppointmentStatus.ARRIVED, AppointmentStatus.NO_SHOW, AppointmentStatus.DONE)


def _clinic(db: Session, user: User) -> Clinic:
    if user.clinic_id is None:
        raise Forbidden("you are not staff of a clinic")
    return clinic_for_schedule(db, user, user.clinic_id)


def _doctors(db: Session, clinic: Clinic) -> list[User]:
    return list(
        db.scalars(
            select(User)
            .where(User.clinic_id == clinic.id, User.role == Role.DOCTOR)
            .order_by(User.name, User.id)
        )
    )


def doctor_section(db: Session, rt: Any, user: User, elders: list[Elder]) -> dict[str, Any] | None:
    """On the doctor's home: today's visits at a glance and the way to the day list."""
    if user.clinic_id is None:
        return None
    clinic = db.get(Clinic, user.clinic_id)
    if clinic is None:
        return None
    zone = clinic_zone(clinic)
    start = datetime.combine(utcnow().astimezone(zone).date(), time(), tzinfo=zone)
    count = len(
        db.scalars(
            select(Appointment.id).where(
                Appointment.doctor_id == user.id,
                Appointment.starts_at >= start,
                Appointment.starts_at < start + timedelta(days=1),
                Appointment.status != AppointmentStatus.CANCELLED,
            )
        ).all()
    )
    return {"today_visits": count}


@router.get("/clinic/video/{appointment_id}")
def video_visit(
    appointment_id: RowId, request: Request, user: ClinicUser, db: SessionDep
) -> Response:
    """The visit's doctor starts a booked video visit from the day list (the page rings)."""
    visit = visit_for(db, user, appointment_id)
    if user.role is not Role.DOCTOR or visit.doctor_id != user.id:
        raise Forbidden("only the visit's doctor starts a video visit")
    if visit.kind is not VisitKind.VIDEO:
        raise Conflict("this is not a video visit")
    elder = db.get(Elder, visit.elder_id)
    clinic = _clinic(db, user)
    return render(
        request,
        "appointments/video_visit.html",
        user,
        page_kind="doctor",
        visit=visit,
        elder=elder,
        zone=clinic_zone(clinic).key,
        # A reload (``rung=1``) must not ring the TV again by itself: "Ring again" does.
        ring_now=request.query_params.get("rung") != "1"
        and visit.status in (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED),
    )


@router.get("/clinic")
def day_list(request: Request, user: ClinicUser, db: SessionDep) -> Response:
    """One day's visits of the clinic, per doctor, with the clinic's actions."""
    clinic = _clinic(db, user)
    zone = clinic_zone(clinic)
    today = utcnow().astimezone(zone).date()
    try:
        day = date.fromisoformat(request.query_params.get("day", "") or today.isoformat())
    except ValueError:
        day = today
    if abs((day - today).days) > 3660:
        day = today
    start = datetime.combine(day, time(), tzinfo=zone)
    visits = list(
        db.scalars(
            select(Appointment)
            .where(
                Appointment.clinic_id == clinic.id,
                Appointment.starts_at >= start,
                Appointment.starts_at < start + timedelta(days=1),
            )
            .order_by(Appointment.starts_at, Appointment.id)
        )
    )
    rows = visit_rows(db, page_lang(request, user), visits)
    booked = {v.elder_id for v in visits} or {0}
    elders = {e.id: e for e in db.scalars(select(Elder).where(Elder.id.in_(booked)))}
    doctors = _doctors(db, clinic)
    per_doctor = [(d, [r for r in rows if r.visit.doctor_id == d.id]) for d in doctors]
    return render(
        request,
        "appointments/clinic_day.html",
        user,
        clinic=clinic,
        zone=zone.key,
        day=day,
        today=today,
        prev_day=day - timedelta(days=1),
        next_day=day + timedelta(days=1),
        per_doctor=per_doctor,
        elders=elders,
        marks=MARKS,
        no_shows=no_show_counts(db, clinic.id, utcnow()),
        no_show_days=NO_SHOW_DAYS,
    )


@router.post("/clinic/appointments/{visit_id}/mark")
def mark_form(
    visit_id: RowId,
    request: Request,
    user: ClinicForm,
    db: SessionDep,
    rt: RuntimeDep,
    form: FormDep,
) -> Response:
    """Arrived, no-show or done, from the day list."""
    visit = visit_for(db, user, visit_id)
    try:
        status = AppointmentStatus(str(form.get("status", "")))
    except ValueError:
        status = None
    if status not in MARKS:
        raise AppError(translate(page_lang(request, user), "appointments.page.choose_mark"))
    assert status is not None
    mark_visit(db, rt, user, visit, status)
    clinic = db.get(Clinic, visit.clinic_id)
    day = visit.starts_at.astimezone(clinic_zone(clinic)).date() if clinic else ""
    return RedirectResponse(f"/clinic?day={day}#visit-{visit.id}", status_code=303)


# -- opening hours and closures ------------------------------------------------------------


def hours_page(
    request: Request, db: Session, user: User, status: int = 200, **extra: Any
) -> Response:
    """The weekly table and the closures, with a form's error and typed values in ``extra``."""
    clinic = _clinic(db, user)
    lang = page_lang(request, user)
    hours = list(
        db.scalars(
            select(OpeningHours)
            .where(OpeningHours.clinic_id == clinic.id)
            .order_by(OpeningHours.doctor_id, OpeningHours.weekday, OpeningHours.start_minute)
        )
    )
    closures = list(
        db.scalars(
            select(Closure)
            .where(Closure.clinic_id == clinic.id, Closure.ends_at > utcnow())
            .order_by(Closure.starts_at, Closure.id)
        )
    )
    departments = list(
        db.scalars(
            select(Department).where(Department.clinic_id == clinic.id).order_by(Department.id)
        )
    )
    doctors = _doctors(db, clinic)
    extra.setdefault("told", request.query_params.get("told"))
    return render(
        request,
        "appointments/clinic_hours.html",
        user,
        status=status,
        clinic=clinic,
        zone=clinic_zone(clinic).key,
        hours=hours,
        closures=closures,
        doctors=doctors,
        doctor_names={d.id: d.name for d in doctors},
        departments=[(d.id, department_name(d, lang)) for d in departments],
        dept_names={d.id: department_name(d, lang) for d in departments},
        kinds=list(VisitKind),
        clock=clock,
        parse_kinds=parse_kinds,
        **extra,
    )


@router.get("/clinic/hours")
def hours_get(request: Request, user: ClinicUser, db: SessionDep) -> Response:
    """Opening hours per doctor and the closures."""
    return hours_page(request, db, user)


def _hours_fields(form: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {k: str(form.get(k, "")).strip() for k in HOURS_FIELDS}
    fields["kinds"] = [str(k) for k in form.getlist("kinds")] if hasattr(form, "getlist") else []
    return fields


def _first_error(err: ValidationError) -> str:
    first = err.errors()[0]
    return str(first["loc"][0]) if first["loc"] else "other"


def _field_message(lang: Any, field: str) -> str:
    key = f"appointments.page.bad.{field}"
    text = translate(lang, key)
    return text if text != key else translate(lang, "appointments.page.bad.other")


@router.post("/clinic/hours")
def hours_add(request: Request, user: ClinicForm, db: SessionDep, form: FormDep) -> Response:
    """Add a row of weekly opening hours."""
    return _save_hours(request, db, user, form, None)


@router.post("/clinic/hours/{hours_id}")
def hours_save(
    hours_id: RowId, request: Request, user: ClinicForm, db: SessionDep, form: FormDep
) -> Response:
    """Change a row of opening hours (free future slots are made again; booked ones stay)."""
    return _save_hours(request, db, user, form, hours_id)


def _save_hours(
    request: Request, db: Session, user: User, form: Any, hours_id: int | None
) -> Response:
    clinic = _clinic(db, user)
    hours = hours_in(db, clinic, hours_id) if hours_id is not None else None
    fields = _hours_fields(form)
    given = {k: v for k, v in fields.items() if v not in ("", [])}
    try:
        if hours is None:
            add_hours(db, user, clinic, HoursCreate.model_validate(given), utcnow())
        else:
            given.pop("doctor_id", None)
            change_hours(db, user, clinic, hours, HoursUpdate.model_validate(given), utcnow())
    except ValidationError as err:
        field = _first_error(err)
    except InvalidInput as err:
        field = getattr(err, "field", "") or "other"
    else:
        db.commit()
        anchor = f"hours-{hours_id}" if hours_id else "hours"
        return RedirectResponse(f"/clinic/hours?saved=1#{anchor}", status_code=303)
    db.rollback()
    message = _field_message(page_lang(request, user), field)
    error = {"row": str(hours_id or "new"), "field": field, "message": message, "typed": fields}
    return hours_page(request, db, user, status=422, hours_error=error)


@router.post("/clinic/hours/{hours_id}/remove")
def hours_remove(hours_id: RowId, user: ClinicForm, db: SessionDep) -> Response:
    """Remove a row of opening hours (booked visits stay)."""
    clinic = _clinic(db, user)
    remove_hours(db, user, clinic, hours_in(db, clinic, hours_id), utcnow())
    db.commit()
    return RedirectResponse("/clinic/hours#hours", status_code=303)


def _local(value: str, clinic: Clinic) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.replace(tzinfo=clinic_zone(clinic)) if moment.tzinfo is None else None


@router.post("/clinic/closures")
def closure_add(
    request: Request, user: ClinicForm, db: SessionDep, rt: RuntimeDep, form: FormDep
) -> Response:
    """Close the clinic or one doctor for a time: visits inside are cancelled, families told."""
    clinic = _clinic(db, user)
    lang = page_lang(request, user)
    typed = {k: str(form.get(k, "")).strip() for k in CLOSURE_FIELDS}
    starts, ends = _local(typed["starts_at"], clinic), _local(typed["ends_at"], clinic)
    field = "starts_at" if starts is None else ("ends_at" if ends is None else "")
    if not field:
        try:
            body = ClosureCreate.model_validate(
                {
                    "doctor_id": typed["doctor_id"] or None,
                    "starts_at": starts,
                    "ends_at": ends,
                    "reason": typed["reason"],
                }
            )
            closed = add_closure(db, user, clinic, body, utcnow())
        except ValidationError as err:
            field = _first_error(err)
        except InvalidInput as err:
            field = getattr(err, "field", "") or "other"
    if field:
        db.rollback()
        error = {"field": field, "message": _field_message(lang, field), "typed": typed}
        return hours_page(request, db, user, status=422, closure_error=error)
    db.commit()
    deliver(rt, closed.mail_ids)
    announce(db, rt.hub, (v.elder_id for v in closed.cancelled), "cancelled", [clinic.id])
    told = len({v.elder_id for v in closed.cancelled})
    return RedirectResponse(f"/clinic/hours?told={told}#closures", status_code=303)


@router.post("/clinic/closures/{closure_id}/remove")
def closure_remove(closure_id: RowId, user: ClinicForm, db: SessionDep) -> Response:
    """Remove a closure: its times open again (cancelled visits stay cancelled)."""
    clinic = _clinic(db, user)
    remove_closure(db, user, clinic, closure_id)
    db.commit()
    return RedirectResponse("/clinic/hours#closures", status_code=303)
