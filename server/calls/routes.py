"""Consult records and call settings: read, past calls of an elder, FHIR export, auto-answer."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import select

from protocol import Role
from server import audit
from server.api.deps import CurrentUser, RuntimeDep, SessionDep
from server.api.responses import answers
from server.calls.fhir import encounter
from server.calls.schemas import CallPreferencePublic, CallPreferenceUpdate, CallPublic
from server.errors import Forbidden, NotFound
from server.ids import RowId
from server.models import Call, CallPreference, User
from server.permissions import elder_for_device_management, elder_for_viewing

router = APIRouter(prefix="/api", tags=["calls"])


def _visible_call(db: SessionDep, user: User, call_id: int) -> Call:
    call = db.get(Call, call_id)
    if call is None:
        raise NotFound(f"no call {call_id} that you can see")
    if call.user_id == user.id:
        return call  # the caller sees their own call (a doctor's video visit: answered?)
    elder_for_viewing(db, user, call.elder_id)  # NotFound when the elder is not visible
    return call


@router.get("/calls/{call_id}", response_model=CallPublic, responses=answers(401, 404, 422))
def read_call(call_id: RowId, user: CurrentUser, db: SessionDep) -> CallPublic:
    """One call record (audited: consult notes are health data)."""
    call = _visible_call(db, user, call_id)
    audit.record(db, "call.read", call.elder_id, user=user, detail=str(call.id))
    return CallPublic.model_validate(call)


@router.get("/calls/{call_id}/fhir", responses=answers(401, 404, 422))
def call_as_fhir(
    call_id: RowId, user: CurrentUser, db: SessionDep, rt: RuntimeDep
) -> dict[str, Any]:
    """The call as a FHIR R4 Encounter (class VR)."""
    call = _visible_call(db, user, call_id)
    audit.record(db, "call.exported_fhir", call.elder_id, user=user, detail=str(call.id))
    elder = elder_for_viewing(db, user, call.elder_id)
    doctor = db.get(User, call.user_id) if call.user_id is not None else None
    return encounter(call, elder, doctor, rt.settings.public_base_url)


@router.get(
    "/elders/{elder_id}/calls", response_model=list[CallPublic], responses=answers(401, 404, 422)
)
def elder_calls(elder_id: RowId, user: CurrentUser, db: SessionDep) -> list[CallPublic]:
    """The elder's calls and consults, newest first (audited)."""
    elder = elder_for_viewing(db, user, elder_id)
    audit.record(db, "call.listed", elder.id, user=user)
    rows = db.scalars(
        select(Call).where(Call.elder_id == elder.id).order_by(Call.requested_at.desc()).limit(50)
    )
    return [CallPublic.model_validate(c) for c in rows]


@router.get(
    "/elders/{elder_id}/call-preference",
    response_model=CallPreferencePublic,
    responses=answers(401, 404, 422),
)
def read_call_preference(
    elder_id: RowId, user: CurrentUser, db: SessionDep
) -> CallPreferencePublic:
    """Whether the elder's box answers calls by itself."""
    elder = elder_for_viewing(db, user, elder_id)
    pref = db.get(CallPreference, elder.id)
    return CallPreferencePublic(auto_answer=bool(pref and pref.auto_answer))


@router.put(
    "/elders/{elder_id}/call-preference",
    response_model=CallPreferencePublic,
    responses=answers(400, 401, 403, 404, 422),
)
def set_call_preference(
    elder_id: RowId, body: CallPreferenceUpdate, user: CurrentUser, db: SessionDep
) -> CallPreferencePublic:
    """Family (or admin) turn auto-answer on or off for an elder who cannot press a key."""
    try:
        elder = elder_for_device_management(db, user, elder_id)
    except Forbidden as err:
        raise Forbidden("only the elder's family can change how calls are answered") from err
    set_auto_answer(db, user, elder.id, body.auto_answer)
    return CallPreferencePublic(auto_answer=body.auto_answer)


def set_auto_answer(db: SessionDep, user: User, elder_id: int, on: bool) -> None:
    """Store the auto-answer choice (also used by the family page's form)."""
    if user.role not in (Role.FAMILY, Role.ADMIN):
        raise Forbidden("only the elder's family can change how calls are answered")
    pref = db.get(CallPreference, elder_id) or CallPreference(elder_id=elder_id)
    pref.auto_answer = on
    pref.updated_by_id = user.id
    db.add(pref)
    audit.record(db, "call.auto_answer_set", elder_id, user=user, detail=str(on).lower())
