"""Call pages: the doctor's live consult queue and call view, the family's call page,
the family-page section (call button, auto-answer, the elder's missed calls, a call ringing
now) and the doctor-page link."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from protocol import CallKind, Role
from server.api.deps import SessionDep
from server.calls.elder_call import missed_calls, unreturned_missed_calls
from server.calls.routes import set_auto_answer
from server.ids import RowId
from server.models import Call, CallPreference, CallStatus, Elder, User, utcnow
from server.permissions import elder_for_device_management, elder_for_viewing
from server.runtime import Runtime
from server.web.pages import DoctorUser, FamilyForm, page_user_of, render
from server.web.when import staff_zone

router = APIRouter(include_in_schema=False)
# Family call the elder; operators and admins too, to follow up an SOS.
Caller = Annotated[User, Depends(page_user_of(Role.FAMILY, Role.OPERATOR, Role.ADMIN))]
# A missed call from the elder stays on top of the family page this long (or until a later
# call with the elder is answered): yesterday evening's call is still worth returning.
MISSED_CALL_BANNER = timedelta(hours=24)


@router.get("/doctor/consults")
def doctor_consults(request: Request, user: DoctorUser, db: SessionDep) -> Response:
    """The live queue of consult requests; Join starts the call in this page (times of past
    consults in the clinic's zone; the elder's full record a link away)."""
    return render(request, "calls/doctor.html", user, page_kind="doctor", zone=staff_zone(db, user))


@router.get("/family/call/{elder_id}")
def family_call(elder_id: RowId, request: Request, user: Caller, db: SessionDep) -> Response:
    """Call the elder's TV from the browser (family; operators and admins for SOS follow-up)."""
    elder = elder_for_viewing(db, user, elder_id)
    answer = request.query_params.get("answer", "")
    return render(
        request,
        "calls/family.html",
        user,
        page_kind="family",
        elder=elder,
        answer=answer if answer.isdigit() else "",
        # ``?start=1`` (the home's call links): ring the TV at once, no second button.
        start=request.query_params.get("start") == "1" and not answer,
    )


@router.post("/family/call-preference/{elder_id}")
def family_call_preference(
    elder_id: RowId, user: FamilyForm, db: SessionDep, auto_answer: str = Form("")
) -> Response:
    """The family's auto-answer switch for an elder who cannot press a key."""
    elder = elder_for_device_management(db, user, elder_id)
    set_auto_answer(db, user, elder.id, auto_answer == "on")
    return RedirectResponse("/family", status_code=303)


def family_section(
    db: Session, rt: Runtime, user: User, elders: list[Elder]
) -> dict[str, Any] | None:
    """Call buttons, the auto-answer switch, missed calls and a call ringing now."""
    if not elders:
        return None
    prefs = {
        p.elder_id: p.auto_answer
        for p in db.scalars(
            select(CallPreference).where(CallPreference.elder_id.in_([e.id for e in elders]))
        )
    }
    ids = [e.id for e in elders]
    missed = [
        (call, elder, call.requested_at.astimezone(ZoneInfo(elder.timezone)))
        for call, elder in missed_calls(db, ids)
    ]
    # A page opened while an elder's call rings still shows the banner (calls/ring.js).
    ringing = db.execute(
        select(Call, Elder)
        .join(Elder, Elder.id == Call.elder_id)
        .where(
            Call.elder_id.in_(ids),
            Call.from_elder.is_(True),
            Call.status == CallStatus.RINGING,
        )
    ).all()
    return {
        "call_elders": [(e, prefs.get(e.id, False)) for e in elders],
        "missed": missed,
        "ringing": ringing if user.role is Role.FAMILY else [],
    }


def family_urgent(
    db: Session, rt: Runtime, user: User, elders: list[Elder]
) -> dict[str, Any] | None:
    """A banner per elder whose call nobody answered and nobody has returned yet."""
    calls = unreturned_missed_calls(db, [e.id for e in elders], utcnow() - MISSED_CALL_BANNER)
    return {"missed_calls": calls} if calls else None


def doctor_section(
    db: Session, rt: Runtime, user: User, elders: list[Elder]
) -> dict[str, Any] | None:
    """The link to the consult queue, with how many are waiting."""
    if user.clinic_id is None:
        return None
    waiting = db.scalar(
        select(func.count(Call.id)).where(
            Call.kind == CallKind.CONSULT,
            Call.status == CallStatus.QUEUED,
            Call.clinic_id == user.clinic_id,
        )
    )
    return {"waiting": waiting or 0}
