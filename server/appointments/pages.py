"""The family page's visits section, and the booking pages the family and the hotline use.

Booking is a walk of plain pages (no script needed): the elder (an operator searches the
area's elders), what for (department), the clinic (nearest the elder first), a day with free
times, a time; choosing a time holds the slot (`server.appointments.booking.hold_slot`, three
minutes) and shows the confirm page; Confirm books it, or, when moving a visit, books it and
cancels the old one in one transaction. A time lost on the way ("just taken") brings the day
back with the message. Times are shown in the elder's zone, named when the viewer is elsewhere.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol import Lang, Role
from server import audit
from server.api.deps import FormDep, RuntimeDep, SessionDep
from server.appointments import booking
from server.appointments.access import booker_for, visit_for
from server.appointments.clinic_schedule import refresh_remote_clinics, schedule_for
from server.appointments.errors import (
    ClinicClosed,
    ClinicUnavailable,
    HoldExpired,
    OutsideWindow,
    Overlap,
    SlotTaken,
)
from server.appointments.mail import queue_change_emails
from server.appointments.notices import announce
from server.appointments.schedule import clinic_zone
from server.appointments.search import free_slots
from server.appointments.timetable import department_name
from server.appointments.visit_routes import move_visit
from server.errors import AppError, Conflict, NotFound
from server.ids import RowId, form_row_id
from server.models import (
    Appointment,
    AppointmentStatus,
    Clinic,
    Department,
    Elder,
    Slot,
    SlotHold,
    User,
    VisitKind,
    utcnow,
)
from server.outgoing import deliver
from server.permissions import elder_for_viewing, visible_elders
from server.runtime import Runtime
from server.web.i18n import translate
from server.web.pages import HOME, form_user_of, page_lang, page_user_of, render
from server.web.when import local

router = APIRouter(include_in_schema=False)
TEMPLATE = "appointments/_family.html"
BOOK_DAYS = 14  # the days the booking page offers
UPCOMING = 10  # visits shown per elder on the family page
# The refusals a booking page shows on the day step instead of an error page.
LOST = (SlotTaken, HoldExpired, Overlap, ClinicClosed, OutsideWindow, ClinicUnavailable)
BookerUser = Annotated[User, Depends(page_user_of(Role.FAMILY, Role.OPERATOR))]
BookerForm = Annotated[User, Depends(form_user_of(Role.FAMILY, Role.OPERATOR))]


@dataclass(frozen=True)
class VisitRow:
    """One visit as the pages show it."""

    visit: Appointment
    clinic: str
    doctor: str
    department: str
    zone: str  # the clinic's
    department_code: str = ""


def visit_rows(db: Session, lang: Lang, visits: list[Appointment]) -> list[VisitRow]:
    """Names of each visit's clinic, doctor and department."""
    rows = []
    for v in visits:
        clinic = db.get(Clinic, v.clinic_id)
        doctor = db.get(User, v.doctor_id)
        dept = db.get(Department, v.department_id)
        rows.append(
            VisitRow(
                visit=v,
                clinic=clinic.name if clinic else "",
                doctor=doctor.name if doctor else "",
                department=department_name(dept, lang) if dept else "",
                zone=clinic_zone(clinic).key if clinic else "",
                department_code=dept.code if dept else "",
            )
        )
    return rows


def upcoming(db: Session, elder_id: int, now: datetime, limit: int = UPCOMING) -> list[Appointment]:
    """The elder's visits still to come (booked or arrived), soonest first."""
    return list(
        db.scalars(
            select(Appointment)
            .where(
                Appointment.elder_id == elder_id,
                Appointment.status.in_(booking.ACTIVE),
                Appointment.ends_at > now,
            )
            .order_by(Appointment.starts_at, Appointment.id)
            .limit(limit)
        )
    )


def family_section(
    db: Session, rt: Runtime, user: User, elders: list[Elder]
) -> dict[str, Any] | None:
    """Each elder's coming visits, with Cancel, Move and Book a visit."""
    if not elders:
        return None
    now = utcnow()
    return {
        "visit_blocks": [
            {"elder": e, "visits": visit_rows(db, user.lang, upcoming(db, e.id, now))}
            for e in elders
        ],
        # The travel-time form's error (`server.appointments.travel_pages`), beside its field.
        "travel_error": None,
        "travel_elder_id": None,
        "travel_value": "",
    }


def family_glance(
    db: Session, rt: Runtime, user: User, elders: list[Elder]
) -> dict[str, Any] | None:
    """The next visit of each elder, as a line of their "today" card."""
    now = utcnow()
    by_elder = {}
    for elder in elders:
        visits = upcoming(db, elder.id, now, 1)
        if visits:
            by_elder[elder.id] = visit_rows(db, user.lang, visits)[0]
    return {"by_elder": by_elder} if by_elder else None


def operator_section(
    db: Session, rt: Runtime, user: User, elders: list[Elder]
) -> dict[str, Any] | None:
    """The hotline's way in: book a visit for an elder who phoned."""
    return {"hotline": True} if user.role is Role.OPERATOR else None


# -- the booking walk ----------------------------------------------------------------------


def _departments(db: Session, lang: Lang) -> list[tuple[str, str]]:
    """(code, name) of the departments of active clinics, each code once."""
    seen: dict[str, str] = {}
    rows = db.scalars(
        select(Department)
        .join(Clinic, Clinic.id == Department.clinic_id)
        .where(Clinic.is_active.is_(True))
        .order_by(Department.id)
    )
    for dept in rows:
        seen.setdefault(dept.code, department_name(dept, lang))
    return list(seen.items())


def _distance_km(elder: Elder, clinic: Clinic) -> float | None:
    if None in (elder.latitude, elder.longitude, clinic.latitude, clinic.longitude):
        return None
    lat1, lon1 = math.radians(elder.latitude or 0), math.radians(elder.longitude or 0)
    lat2, lon2 = math.radians(clinic.latitude or 0), math.radians(clinic.longitude or 0)
    h = math.sin((lat2 - lat1) / 2) ** 2
    h += math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371 * math.asin(math.sqrt(h))


def _clinics(db: Session, elder: Elder, code: str) -> list[tuple[Clinic, float | None]]:
    """Active clinics with the department, nearest the elder first (unknown places last)."""
    rows = db.scalars(
        select(Clinic)
        .join(Department, Department.clinic_id == Clinic.id)
        .where(Clinic.is_active.is_(True), Department.code == code)
        .order_by(Clinic.id)
    )
    placed = [(c, _distance_km(elder, c)) for c in rows]
    return sorted(placed, key=lambda p: (p[1] is None, p[1] or 0.0))


def _free_days(db: Session, clinic: Clinic, code: str, now: datetime) -> dict[date, int]:
    """Local day -> free times at the clinic in the department over the coming days."""
    zone = clinic_zone(clinic)
    starts = db.scalars(
        select(Slot.starts_at)
        .join(Department, Department.id == Slot.department_id)
        .where(
            Slot.clinic_id == clinic.id,
            Department.code == code,
            Slot.closed.is_(False),
            Slot.booked < Slot.capacity,
            Slot.starts_at > now,
            Slot.starts_at < now + timedelta(days=BOOK_DAYS),
        )
        .limit(5000)
    )
    days: dict[date, int] = {}
    for start in starts:
        day = start.astimezone(zone).date()
        days[day] = days.get(day, 0) + 1
    return days


def _elder_choice(db: Session, user: User, q: str) -> list[Elder]:
    query = visible_elders(user).where(Elder.is_active.is_(True))
    if q:
        query = query.where(Elder.name.contains(q))
    return list(db.scalars(query.limit(20)))


def _walk(request: Request, db: Session, user: User, params: Mapping[str, str]) -> dict[str, Any]:
    """What the booking page shows for the choices made so far (the query string)."""
    lang = page_lang(request, user)
    now = utcnow()
    ctx: dict[str, Any] = {"q": " ".join(params.get("q", "").split())[:60], "step": "elder"}
    elder_id = form_row_id(params.get("elder", ""))
    if elder_id is None:
        ctx["elders"] = _elder_choice(db, user, ctx["q"])
        return ctx
    elder, _ = booker_for(db, user, elder_id)
    ctx["elder"] = elder
    move_id = form_row_id(params.get("move", ""))
    if move_id is not None:
        old = visit_for(db, user, move_id)
        if old.elder_id != elder.id or old.status is not AppointmentStatus.BOOKED:
            raise NotFound(f"no visit {move_id} to move")
        ctx["moving"] = visit_rows(db, lang, [old])[0]
    ctx["departments"] = _departments(db, lang)
    code = params.get("department", "")
    if code not in dict(ctx["departments"]):
        ctx["step"] = "department"
        return ctx
    ctx["department"] = (code, dict(ctx["departments"])[code])
    clinics = _clinics(db, elder, code)
    ctx["clinics"] = clinics
    clinic_id = form_row_id(params.get("clinic", ""))
    clinic = next((c for c, _ in clinics if c.id == clinic_id), None)
    if clinic is None:
        ctx["step"] = "clinic"
        return ctx
    ctx["clinic"] = clinic
    # A clinic with its own FHIR server: its free times are read from it first.
    refresh_remote_clinics(db, lang, (now, now + timedelta(days=BOOK_DAYS)), clinic.id)
    ctx["days"] = sorted(_free_days(db, clinic, code, now).items())
    try:
        day = date.fromisoformat(params.get("day", ""))
    except ValueError:
        day = None
    if day is None or day not in dict(ctx["days"]):
        ctx["step"] = "day"
        return ctx
    ctx["day"] = day
    zone = clinic_zone(clinic)
    first = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    window = (max(first, now), first + timedelta(days=1))
    ctx["slots"] = free_slots(db, lang, window, code, clinic.id, None, 200)
    ctx["step"] = "time"
    return ctx


def _query(ctx: dict[str, Any], **changes: Any) -> str:
    """The booking page's address with the choices so far, changed."""
    keys = {
        "elder": ctx["elder"].id if ctx.get("elder") else None,
        "move": ctx["moving"].visit.id if ctx.get("moving") else None,
        "department": ctx["department"][0] if ctx.get("department") else None,
        "clinic": ctx["clinic"].id if ctx.get("clinic") else None,
        "day": ctx["day"].isoformat() if ctx.get("day") else None,
    }
    keys.update(changes)
    parts = [f"{k}={v}" for k, v in keys.items() if v is not None]
    return "/appointments/book?" + "&".join(parts)


def book_page(
    request: Request,
    db: Session,
    user: User,
    status: int = 200,
    error: str = "",
    params: Mapping[str, str] | None = None,
) -> Response:
    """The booking walk at its current step (the query string, or ``params``), with
    ``error`` (a lost time) shown on top."""
    ctx = _walk(request, db, user, request.query_params if params is None else params)
    return render(
        request,
        "appointments/book.html",
        user,
        status=status,
        walk=ctx,
        link=lambda **changes: _query(ctx, **changes),
        error=error,
        home=HOME[user.role],
        kinds=list(VisitKind),
        local_hour=lambda moment, tz: local(moment, tz).hour,
    )


@router.get("/appointments/book")
def book_get(request: Request, user: BookerUser, db: SessionDep) -> Response:
    """Book a visit: each step a page of choices (see the module's docstring)."""
    return book_page(request, db, user)


def _back_to_day(request: Request, db: Session, user: User, form: Any, err: AppError) -> Response:
    """The day's times again, with why the chosen one was lost."""
    db.rollback()
    keep = {k: str(form.get(k) or "") for k in ("elder", "move", "department", "clinic", "day")}
    status = 409 if isinstance(err, Conflict) else 422
    return book_page(request, db, user, status=status, error=err.message, params=keep)


@router.post("/appointments/book/hold")
def hold_form(request: Request, user: BookerForm, db: SessionDep, form: FormDep) -> Response:
    """A time was chosen: hold it for the elder and show the confirm page."""
    elder_id, slot_id = form_row_id(form.get("elder")), form_row_id(form.get("slot"))
    if elder_id is None or slot_id is None:
        raise AppError(translate(page_lang(request, user), "appointments.page.choose_time"))
    elder, booker = booker_for(db, user, elder_id)
    kind_value = str(form.get("kind", VisitKind.CLINIC.value))
    try:
        kind = VisitKind(kind_value)
        slot = db.get(Slot, slot_id)
        if slot is None:
            raise NotFound(f"no slot {slot_id}")
        if kind.value not in slot.kinds.split(","):
            raise Conflict(translate(booker.lang, "appointments.kind_not_offered"))
        hold = booking.hold_slot(db, booker, elder, slot_id, utcnow())
    except ValueError:
        raise AppError(translate(booker.lang, "appointments.page.choose_kind")) from None
    except LOST + (Conflict,) as err:
        return _back_to_day(request, db, user, form, err)
    db.commit()
    move = form_row_id(form.get("move"))
    target = f"/appointments/book/confirm/{hold.id}?kind={kind.value}"
    return RedirectResponse(target + (f"&move={move}" if move else ""), status_code=303)


def _my_hold(db: Session, user: User, hold_id: int) -> SlotHold:
    hold = db.get(SlotHold, hold_id)
    if hold is None or hold.holder != f"user:{user.id}":
        raise NotFound(f"no hold {hold_id} of yours")
    return hold


def _back_link(
    elder_id: int, slot: Slot, clinic: Clinic | None, dept: Department | None, move: int | None
) -> str:
    day = local(slot.starts_at, clinic.timezone if clinic else None).date().isoformat()
    link = f"/appointments/book?elder={elder_id}&department={dept.code if dept else ''}"
    link += f"&clinic={slot.clinic_id}&day={day}"
    return link + (f"&move={move}" if move else "")


@router.get("/appointments/book/confirm/{hold_id}")
def confirm_get(hold_id: RowId, request: Request, user: BookerUser, db: SessionDep) -> Response:
    """The confirm step: everything about the visit, and how long the time is kept."""
    hold = _my_hold(db, user, hold_id)
    elder = elder_for_viewing(db, user, hold.elder_id)
    slot = db.get(Slot, hold.slot_id)
    assert slot is not None
    lang = page_lang(request, user)
    clinic = db.get(Clinic, slot.clinic_id)
    doctor = db.get(User, slot.doctor_id)
    dept = db.get(Department, slot.department_id)
    try:
        kind = VisitKind(request.query_params.get("kind", "clinic"))
    except ValueError:
        kind = VisitKind.CLINIC
    move = form_row_id(request.query_params.get("move", ""))
    moving = visit_rows(db, lang, [visit_for(db, user, move)])[0] if move else None
    return render(
        request,
        "appointments/confirm.html",
        user,
        hold=hold,
        slot=slot,
        elder=elder,
        clinic=clinic,
        doctor=doctor,
        department=department_name(dept, lang) if dept else "",
        kind=kind,
        moving=moving,
        clinic_zone=clinic_zone(clinic).key if clinic else "",
        back=_back_link(elder.id, slot, clinic, dept, move),
        home=HOME[user.role],
        local_weekday=lambda moment, tz: local(moment, tz).weekday(),
    )


@router.post("/appointments/book/confirm")
def confirm_form(
    request: Request, user: BookerForm, db: SessionDep, rt: RuntimeDep, form: FormDep
) -> Response:
    """Confirm: book the held time (or move the visit to it)."""
    hold_id = form_row_id(form.get("hold"))
    hold = _my_hold(db, user, hold_id) if hold_id is not None else None
    if hold is None:
        raise NotFound("no hold")
    slot = db.get(Slot, hold.slot_id)
    assert slot is not None
    clinic = db.get(Clinic, slot.clinic_id)
    dept = db.get(Department, slot.department_id)
    day = local(slot.starts_at, clinic.timezone if clinic else None).date().isoformat()
    walk = {
        "elder": hold.elder_id,
        "department": dept.code if dept else "",
        "clinic": slot.clinic_id,
        "day": day,
        "move": form.get("move") or "",
    }
    try:
        kind = VisitKind(str(form.get("kind", "clinic")))
    except ValueError:
        kind = VisitKind.CLINIC
    key = f"page-hold-{hold.id}"
    move = form_row_id(form.get("move"))
    try:
        if move is not None:
            old = visit_for(db, user, move)
            visit, _ = move_visit(db, rt, user, old, slot.id, kind, key, hold.id)
            return RedirectResponse(f"/appointments/booked/{visit.id}?moved=1", status_code=303)
        elder, booker = booker_for(db, user, hold.elder_id)
        schedule = schedule_for(db.get_one(Clinic, slot.clinic_id))
        ask = booking.Ask(booker, elder, slot.id, kind, key, utcnow(), hold.id)
        visit, created = schedule.book(db, ask)
    except LOST + (Conflict,) as err:
        return _back_to_day(request, db, user, walk, err)
    if created:
        target = f"appointment:{visit.id}"
        audit.record(db, "appointment.booked", elder.id, user=user, target=target)
        mails = queue_change_emails(db, "booked", visit, rt.settings.public_base_url, user.id)
        db.commit()
        deliver(rt, mails)
        announce(db, rt.hub, [elder.id], "booked", [visit.clinic_id])
    return RedirectResponse(f"/appointments/booked/{visit.id}", status_code=303)


@router.post("/appointments/book/release")
def release_form(request: Request, user: BookerForm, db: SessionDep, form: FormDep) -> Response:
    """ "Choose another time" on the confirm page: let the held time go, back to the day."""
    hold_id = form_row_id(form.get("hold"))
    hold = _my_hold(db, user, hold_id) if hold_id is not None else None
    if hold is None:
        raise NotFound("no hold")
    slot = db.get(Slot, hold.slot_id)
    assert slot is not None
    clinic = db.get(Clinic, slot.clinic_id)
    dept = db.get(Department, slot.department_id)
    back = _back_link(hold.elder_id, slot, clinic, dept, form_row_id(form.get("move")))
    db.delete(hold)
    db.commit()
    return RedirectResponse(back, status_code=303)


@router.get("/appointments/booked/{visit_id}")
def booked_page(visit_id: RowId, request: Request, user: BookerUser, db: SessionDep) -> Response:
    """Booked: what, when and where, and the way home."""
    visit = visit_for(db, user, visit_id)
    elder = elder_for_viewing(db, user, visit.elder_id)
    (row,) = visit_rows(db, page_lang(request, user), [visit])
    return render(
        request,
        "appointments/booked.html",
        user,
        row=row,
        elder=elder,
        moved=request.query_params.get("moved") == "1",
        home=HOME[user.role],
    )


@router.post("/appointments/{visit_id}/cancel-visit")
def cancel_form(
    visit_id: RowId, request: Request, user: BookerForm, db: SessionDep, rt: RuntimeDep
) -> Response:
    """The Cancel button of a visit on the family page (after a confirmation)."""
    visit = visit_for(db, user, visit_id)
    reason = translate(page_lang(request, user), "appointments.page.cancelled_by", name=user.name)
    schedule = schedule_for(db.get_one(Clinic, visit.clinic_id))
    if schedule.cancel(db, page_lang(request, user), visit, reason, utcnow()):
        audit.record(
            db, "appointment.cancelled", visit.elder_id, user=user, target=f"appointment:{visit.id}"
        )
        mails = queue_change_emails(
            db, "cancelled", visit, rt.settings.public_base_url, user.id, reason=reason
        )
        db.commit()
        deliver(rt, mails)
        announce(db, rt.hub, [visit.elder_id], "cancelled", [visit.clinic_id])
    return RedirectResponse(f"{HOME[user.role]}#appointments-{visit.elder_id}", status_code=303)
