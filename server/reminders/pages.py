"""The medicines section of the family page and its forms (add, edit, pause, resume, end, alerts).

Forms are validated here so a person gets one clear message per mistake (bad time, end before
start, empty name) in their language; the page is shown again with what they typed.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from protocol import PlanStatus, Schedule
from protocol.schedule import zone
from server.api.deps import FormDep, RuntimeDep, SessionDep
from server.errors import AppError, InvalidInput
from server.ids import RowId, form_row_id
from server.models import Elder, User, utcnow
from server.permissions import visible_elders
from server.reminders.alert_settings import alert_setting, family_elder, save_alert_setting
from server.reminders.doses import adherence, day_doses
from server.reminders.plans import (
    announce_plans,
    create_plan,
    plan_for_viewing,
    plan_public,
    plans_of,
    update_plan,
)
from server.reminders.schemas import AlertSettingsUpdate, DosePublic, PlanCreate, PlanUpdate
from server.runtime import Runtime
from server.text import is_blank
from server.web.homes import build_sections, family_page
from server.web.i18n import translate
from server.web.pages import FamilyForm, page_lang

router = APIRouter(include_in_schema=False)
TEMPLATE = "reminders/_family.html"
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$")
# Not str.isdigit(): it also accepts "²", which int() refuses (a 500 before).
_NUMBER = re.compile(r"[0-9]{1,6}")
# The colours a family picks from (the TV draws the pill in it); names in ``med.colour.*``.
COLOURS = [
    ("#ffffff", "white"),
    ("#f2c200", "yellow"),
    ("#f08a00", "orange"),
    ("#d03030", "red"),
    ("#e87aa8", "pink"),
    ("#2f6fd0", "blue"),
    ("#2e9e4f", "green"),
    ("#8b5a2b", "brown"),
]


def family_section(
    db: Session, rt: Runtime, user: User, elders: list[Elder]
) -> dict[str, Any] | None:
    """Per elder: plans, today's doses, 4-week adherence, the plan form, alert settings."""
    if not elders:
        return None
    now = utcnow()
    blocks = []
    for elder in elders:
        tz = zone(elder.timezone)
        days = adherence(db, elder, now, 28)
        setting = alert_setting(db, user.id, elder.id)
        blocks.append(
            {
                "elder": elder,
                "plans": [plan_public(p) for p in plans_of(db, elder.id)],
                "today": day_doses(db, elder, now.astimezone(tz).date(), now),
                "adherence": [
                    {"day": d.day, "due": d.due, "taken": d.taken, "percent": d.percent}
                    for d in days
                ],
                "email_missed": setting.email_missed if setting else True,
                "live_missed": setting.live_missed if setting else True,
                "local_now": now.astimezone(tz),
            }
        )
    return {
        "med_blocks": blocks,
        "med_errors": {},
        "med_values": {},
        "med_elder_id": None,
        "med_colours": COLOURS,
    }


def _today(db: Session, elder: Elder, now: datetime) -> list[DosePublic]:
    return day_doses(db, elder, now.astimezone(zone(elder.timezone)).date(), now)


def family_glance(
    db: Session, rt: Runtime, user: User, elders: list[Elder]
) -> dict[str, Any] | None:
    """Per elder, today: doses taken, due so far and missed, and the next dose still to come."""
    if not elders:
        return None
    now = utcnow()
    by_elder = {}
    for elder in elders:
        doses = _today(db, elder, now)
        owed = [d for d in doses if d.state != "upcoming"]
        upcoming = [d for d in doses if d.state == "upcoming"]
        by_elder[elder.id] = {
            "planned": len(doses),
            "taken": sum(1 for d in owed if d.state == "taken"),
            "due": len(owed),
            "missed": sum(1 for d in owed if d.state == "missed"),
            "next": upcoming[0] if upcoming else None,
        }
    return {"by_elder": by_elder}


def family_urgent(
    db: Session, rt: Runtime, user: User, elders: list[Elder]
) -> dict[str, Any] | None:
    """Elders who missed a dose today (local day), with the doses missed; None when none did."""
    now = utcnow()
    missed = []
    for elder in elders:
        doses = [d for d in _today(db, elder, now) if d.state == "missed"]
        if doses:
            missed.append((elder, doses))
    return {"missed_doses": missed} if missed else None


def _parse_times(raw: str) -> tuple[list[time], list[str]]:
    times, bad = [], []
    for part in re.split(r"[,\s，、]+", raw.strip()):
        if not part:
            continue
        match = _TIME.match(part)
        if match is None:
            bad.append(part)
            continue
        times.append(time(int(match[1]), int(match[2]), int(match[3] or 0)))
    return times, bad


def _parse_date(raw: str) -> date | None:
    raw = raw.strip()
    return date.fromisoformat(raw) if raw else None


def plan_from_form(form: dict[str, Any], lang: Any) -> tuple[PlanCreate | None, dict[str, str]]:
    """A validated plan from the submitted form, or a message per field that is wrong."""
    errors: dict[str, str] = {}
    medicine = str(form.get("medicine", ""))
    if is_blank(medicine):  # the one rule of `server.text`, said in the page's language
        errors["medicine"] = translate(lang, "med.err.name")
    as_needed = form.get("as_needed") == "on"
    times, bad = _parse_times(", ".join(str(t) for t in form.get("times", [])))
    if bad:
        errors["times"] = translate(lang, "med.err.time", value=", ".join(bad))
    elif not times and not as_needed:
        errors["times"] = translate(lang, "med.err.no_time")
    start, end = utcnow().date(), None
    try:
        start = _parse_date(str(form.get("start_date", ""))) or start
    except ValueError:
        errors["start_date"] = translate(lang, "med.err.date")
    try:
        end = _parse_date(str(form.get("end_date", "")))
    except ValueError:
        errors["end_date"] = translate(lang, "med.err.date")
    if end is not None and end < start:
        errors["end_date"] = translate(lang, "med.err.end_before_start")
    days = [int(d) for d in form.get("days", []) if _NUMBER.fullmatch(str(d))]
    every = str(form.get("every_n_days", "1")).strip() or "1"
    window = str(form.get("window_minutes", "30")).strip() or "30"
    if not _NUMBER.fullmatch(every) or not 1 <= int(every) <= 365:
        errors["every_n_days"] = translate(lang, "med.err.every")
    if not _NUMBER.fullmatch(window) or not 1 <= int(window) <= 1440:
        errors["window_minutes"] = translate(lang, "med.err.window")
    if errors:
        return None, errors
    try:
        schedule = Schedule(
            times=tuple(times),
            days_of_week=tuple(days) if days and len(days) < 7 else None,
            every_n_days=int(every),
            start_date=start,
            end_date=end,
            as_needed=as_needed,
        )
        plan = PlanCreate(
            medicine=medicine,
            strength=str(form.get("strength", "")),
            dose=str(form.get("dose", "")),
            instructions=str(form.get("instructions", "")),
            appearance=str(form.get("appearance", "")),
            colour=str(form.get("colour", "#ffffff")) or "#ffffff",
            schedule=schedule,
            window_minutes=int(window),
        )
    except ValidationError as err:
        return None, {
            "form": "; ".join(
                str(e.get("msg", "invalid")).removeprefix("Value error, ") for e in err.errors()
            )
        }
    return plan, {}


def _form_dict(form: Any) -> dict[str, Any]:
    lists = ("days", "times")  # several fields of one name: the week's days, each time of day
    data: dict[str, Any] = {k: form.get(k) for k in form.keys() if k not in lists}
    for name in lists:
        data[name] = [str(v) for v in form.getlist(name)]
    return data


def _show_errors(
    request: Request,
    db: Session,
    rt: Runtime,
    user: User,
    elder_id: int,
    errors: dict[str, str],
    values: dict[str, Any],
    status: int = 422,
) -> Response:
    # Only the times that are wrong are marked, not every time field.
    values["bad_times"] = _parse_times(", ".join(values.get("times", [])))[1]
    elders = list(db.scalars(visible_elders(user)))
    sections = build_sections("family", db, rt, user, elders)
    for template, context in sections:
        if template == TEMPLATE:
            context.update(med_errors=errors, med_values=values, med_elder_id=elder_id)
    return family_page(request, db, rt, user, status, sections=sections)


@router.post("/family/medicines")
def save_plan_form(
    request: Request, user: FamilyForm, form: FormDep, db: SessionDep, rt: RuntimeDep
) -> Response:
    """Add a plan, or change one when the form carries ``plan_id``."""
    values = _form_dict(form)
    elder_id = form_row_id(values.get("elder_id"))
    if elder_id is None:
        raise InvalidInput(translate(page_lang(request, user), "error.elder"))
    lang = page_lang(request, user)
    body, errors = plan_from_form(values, lang)
    if body is None:
        return _show_errors(request, db, rt, user, elder_id, errors, values)
    # An empty plan_id adds a plan; anything else must be the id of the plan to change.
    raw_plan_id = values.get("plan_id") or ""
    plan_id = form_row_id(raw_plan_id)
    if raw_plan_id and plan_id is None:
        raise InvalidInput(translate(lang, "error.plan"))
    try:
        if plan_id is not None:
            plan = update_plan(db, user, plan_id, PlanUpdate(**body.model_dump()))
        else:
            plan = create_plan(db, user, elder_id, body)
    except AppError as err:
        errors = {"form": err.message}
        return _show_errors(request, db, rt, user, elder_id, errors, values, err.status)
    db.commit()
    announce_plans(db, rt.hub, db.get(Elder, plan.elder_id))  # type: ignore[arg-type]
    return RedirectResponse(f"/family?done=medicine#med-{plan.elder_id}", status_code=303)


@router.post("/family/medicines/{plan_id}/status")
def plan_status_form(
    plan_id: RowId, user: FamilyForm, form: FormDep, db: SessionDep, rt: RuntimeDep
) -> Response:
    """Pause, resume or end a plan from the page."""
    try:
        status = PlanStatus(str(form.get("status", "")))
    except ValueError as err:
        raise AppError("status must be active, paused or ended") from err
    plan = plan_for_viewing(db, user, plan_id)
    update_plan(db, user, plan.id, PlanUpdate(status=status))
    db.commit()
    announce_plans(db, rt.hub, db.get(Elder, plan.elder_id))  # type: ignore[arg-type]
    return RedirectResponse(f"/family#med-{plan.elder_id}", status_code=303)


@router.post("/family/medicines/alerts/{elder_id}")
def alerts_form(elder_id: RowId, user: FamilyForm, form: FormDep, db: SessionDep) -> Response:
    """Save which missed-dose alerts this family member gets."""
    elder = family_elder(db, user, elder_id)
    body = AlertSettingsUpdate(
        email_missed=form.get("email_missed") == "on", live_missed=form.get("live_missed") == "on"
    )
    save_alert_setting(db, user.id, elder.id, body)
    return RedirectResponse(f"/family#med-{elder.id}", status_code=303)
