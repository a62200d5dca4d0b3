"""Our clinics' schedules spoken outward in FHIR R4 (``application/fhir+json``, under ``/fhir``).

The IHE ITI Scheduling operations, so a hospital system or a city platform can find and book
our clinics' slots:

- ``POST /fhir/Appointment/$find`` [ITI-115]: Parameters ``start``, ``end`` (dateTime),
  ``specialty`` (Coding: our department code), ``practitioner`` (Reference
  ``Practitioner/<doctor id>``), ``patient`` (Reference), ``_count`` → a searchset Bundle of
  proposed Appointments (id ``proposed-<slot id>``); ``POST /fhir/Slot/$find``: the same
  Parameters → a Bundle of the free Slots;
- ``POST /fhir/Appointment/$hold`` [ITI-116] and ``$book`` [ITI-117]: ``appointment-resource``
  (an Appointment naming the Slot and the Patient) or ``appointment-reference``
  (``Appointment/proposed-<slot>`` or, for ``$book``, ``Appointment/hold-<hold>``) with
  ``patient`` → a Bundle of the Appointment, pending (held) or booked; ``$book``'s
  identifier ``urn:anxin:booking`` is its idempotency key;
- ``POST /fhir/Appointment/$cancel``: ``appointment-reference`` → the cancelled Appointment;
- ``GET /fhir/Appointment?patient=Patient/<elder id>`` [ITI-118] (or ``_lastUpdated=gt…``:
  the visits the caller booked that changed since), ``GET /fhir/Appointment/<id>``;
- and the plain REST our own FHIR client uses on a clinic's server: ``GET /fhir/Slot``
  (``status``, ``start=ge|lt``, ``schedule.actor``, ``service-type``, ``_include``),
  ``POST /fhir/Appointment`` (a conditional create on the booking identifier), ``PUT
  /fhir/Appointment/<id>`` (status cancelled).

Who may call: the same people as the JSON API, with ``Authorization: Bearer`` from
``/api/auth/login``. A partner system (a city platform, a hospital) is a staff account the
administrator makes: an operator of an area books and cancels for that area's elders only;
a family member for their own elder; anyone logged in finds free slots. Everything received
is validated with the R4B models; errors leave as an OperationOutcome with a 4xx status.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fhir.resources.R4B.appointment import Appointment as FhirAppointment
from fhir.resources.R4B.parameters import Parameters
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.resource import Resource
from sqlalchemy import select

from protocol import Role
from server import audit
from server.api.deps import CurrentUser, RuntimeDep, SessionDep
from server.appointments import booking
from server.appointments.access import CLINIC_ROLES, booker_for, visit_for
from server.appointments.clinic_schedule import refresh_remote_clinics, schedule_for
from server.appointments.fhir_resources import (
    BOOKING_SYSTEM,
    ELDER_SYSTEM,
    FHIR_JSON,
    TO_FHIR,
    InvalidResource,
    appointment_resource,
    bundle,
    outcome,
    parameters,
    parse,
    resource_json,
    schedule_resource,
    slot_resource,
)
from server.appointments.notices import announce
from server.appointments.schedule import WINDOW_DAYS
from server.appointments.search import SEARCH_LIMIT, free_slots
from server.errors import AppError, Forbidden, InvalidInput, NotFound
from server.ids import MAX_ROW_ID
from server.models import Appointment, Clinic, Elder, Slot, User, VisitKind, utcnow
from server.permissions import elder_for_viewing

ISSUE_CODES = {401: "login", 403: "forbidden", 404: "not-found", 409: "conflict", 503: "transient"}


class FhirRoute(APIRoute):
    """A route whose errors (its dependencies' included) leave as an OperationOutcome."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except AppError as err:
                code = ISSUE_CODES.get(err.status, "invalid")
                return fhir_response(outcome(err.message, code), err.status)
            except RequestValidationError as err:
                return fhir_response(outcome(f"invalid request: {err.errors()[:1]}"[:300]), 400)

        return handle


class FhirJSONResponse(JSONResponse):
    """The FHIR JSON media type (documented as such in the OpenAPI document)."""

    media_type = FHIR_JSON


router = APIRouter(
    prefix="/fhir",
    tags=["fhir"],
    route_class=FhirRoute,
    default_response_class=FhirJSONResponse,
)
FHIR_ANSWERS: dict[int | str, dict[str, Any]] = {
    status: {"description": "an OperationOutcome", "content": {FHIR_JSON: {}}}
    for status in (400, 401, 403, 404, 409, 422, 503)
}


def fhir_response(resource: Resource, status: int = 200) -> Response:
    """``resource`` as ``application/fhir+json``."""
    return Response(
        json.dumps(resource_json(resource), ensure_ascii=False),
        status_code=status,
        media_type=FHIR_JSON,
    )


async def _body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise AppError("the body is not JSON") from None


def _resource(data: Any, expected: str) -> Resource:
    try:
        return parse(data, expected)
    except InvalidResource as err:
        raise AppError(f"invalid {expected}: {err}") from None


def _row_id(text: str, prefix: str = "") -> int:
    tail = text.rsplit("/", 1)[-1].removeprefix(prefix)
    if not tail.isascii() or not tail.isdigit() or not 1 <= int(tail) <= MAX_ROW_ID:
        raise NotFound(f"no {text[:80]}")
    return int(tail)


def _patient_id(ref: Reference | None) -> int:
    """Our elder id from ``Patient/<id>`` or an identifier ``urn:anxin:elder|<id>``."""
    if ref is not None and ref.reference and ref.reference.startswith("Patient/"):
        return _row_id(ref.reference)
    if ref is not None and ref.identifier and ref.identifier.system == ELDER_SYSTEM:
        return _row_id(ref.identifier.value or "")
    raise AppError("name the patient: Patient/<id> or the identifier urn:anxin:elder|<id>")


def _param(params: Parameters, name: str) -> list[Any]:
    return [p for p in params.parameter or () if p.name == name]


def _when(value: Any, name: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise AppError(f"{name}: give a dateTime with its offset")
    return value.astimezone(UTC)


def _window(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    now = utcnow()
    begin = max(start or now, now)
    finish = end or begin + timedelta(days=14)
    if finish <= begin or finish > now + timedelta(days=WINDOW_DAYS + 1):
        raise AppError(f"the window must lie within the next {WINDOW_DAYS} days")
    return begin, finish


def _schedule_id(slot: Any) -> str:
    return f"{slot.clinic_id}-{slot.doctor_id}"


# -- finding -------------------------------------------------------------------------------


def _find(db: SessionDep, user: User, params: Parameters) -> tuple[list[Any], int | None]:
    starts = _param(params, "start")
    ends = _param(params, "end")
    start = _when(starts[0].valueDateTime, "start") if starts else None
    end = _when(ends[0].valueDateTime, "end") if ends else None
    window = _window(start, end)
    codes = [c.code for p in _param(params, "specialty") if (c := p.valueCoding) and c.code]
    doctors = [
        _row_id(r.reference) for p in _param(params, "practitioner") if (r := p.valueReference)
    ]
    counts = _param(params, "_count")
    limit = min(max(int(counts[0].valueInteger or 50), 1), SEARCH_LIMIT) if counts else 50
    patients = _param(params, "patient")
    elder = _patient_id(patients[0].valueReference) if patients else None
    if elder is not None:
        elder_for_viewing(db, user, elder)
    found = []
    for code in codes or [None]:
        found += free_slots(db, user.lang, window, code, None, None, SEARCH_LIMIT)
    found = [s for s in found if not doctors or s.doctor_id in doctors]
    found.sort(key=lambda s: (s.starts_at, s.id))
    return found[:limit], elder


@router.post("/Slot/$find", responses=FHIR_ANSWERS)
async def find_slots(request: Request, user: CurrentUser, db: SessionDep) -> Response:
    """Free Slots of our clinics (Parameters in, a searchset Bundle of Slot out)."""
    params = parameters_of(await _body(request))
    found, _ = _find(db, user, params)
    return fhir_response(
        bundle(
            slot_resource(
                s.id,
                f"{s.clinic_id}-{s.doctor_id}",
                s.department_code,
                s.starts_at,
                s.ends_at,
                True,
            )
            for s in found
        )
    )


def parameters_of(data: Any) -> Parameters:
    """Parameters received, validated (400 OperationOutcome otherwise)."""
    try:
        return parameters(data)
    except InvalidResource as err:
        raise AppError(f"invalid Parameters: {err}") from None


@router.post("/Appointment/$find", responses=FHIR_ANSWERS)
async def find_appointments(request: Request, user: CurrentUser, db: SessionDep) -> Response:
    """[ITI-115] proposed Appointments, one per free slot."""
    params = parameters_of(await _body(request))
    found, elder_id = _find(db, user, params)
    elder = db.get(Elder, elder_id) if elder_id else None
    return fhir_response(
        bundle(_proposed(s.id, s.starts_at, s.ends_at, s.doctor_id, elder) for s in found)
    )


def _proposed(
    slot_id: int, start: datetime, end: datetime, doctor_id: int, elder: Elder | None
) -> FhirAppointment:
    resource = appointment_resource(
        status="proposed",
        slot_reference=f"Slot/{slot_id}",
        start=start,
        end=end,
        patient=(elder.id, elder.name) if elder else (0, ""),
        practitioner=f"Practitioner/{doctor_id}",
        appointment_id=f"proposed-{slot_id}",
    )
    if elder is None:  # a proposal for nobody yet: the doctor alone
        resource.participant = resource.participant[1:]
    return resource


@router.get("/Slot", responses=FHIR_ANSWERS)
def search_slots(request: Request, user: CurrentUser, db: SessionDep) -> Response:
    """Free Slots: ``status=free``, ``start=ge…``/``lt…``, ``schedule.actor``,
    ``service-type``, ``_include=Slot:schedule``."""
    query = request.query_params
    if query.get("status", "free") != "free":
        raise AppError("only free slots are searched here (status=free)")
    start = end = None
    for value in query.getlist("start"):
        when = _date_param(value[2:], "start")
        if value.startswith("ge"):
            start = when
        elif value.startswith("lt"):
            end = when
        else:
            raise AppError("start: use ge<dateTime> and lt<dateTime>")
    window = _window(start, end)
    code = query.get("service-type") or None
    if code is not None:
        code = code.split("|")[-1][:32]
    actor = query.get("schedule.actor")
    doctor = _row_id(actor) if actor else None
    refresh_remote_clinics(db, user.lang, window, None)
    found = [
        s
        for s in free_slots(db, user.lang, window, code, None, None, SEARCH_LIMIT)
        if doctor is None or s.doctor_id == doctor
    ]
    resources: list[Resource] = [
        slot_resource(
            s.id, f"{s.clinic_id}-{s.doctor_id}", s.department_code, s.starts_at, s.ends_at, True
        )
        for s in found
    ]
    if query.get("_include") == "Slot:schedule":
        doctors = {(s.clinic_id, s.doctor_id): s.doctor_name for s in found}
        resources += [
            schedule_resource(f"{c}-{d}", f"Practitioner/{d}", name)
            for (c, d), name in sorted(doctors.items())
        ]
    return fhir_response(bundle(resources))


def _date_param(text: str, name: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise AppError(f"{name}: not a dateTime") from None
    return _when(value, name)


# -- holding, booking, cancelling ------------------------------------------------------------


def _target(params: Parameters) -> tuple[FhirAppointment | None, str | None, int | None]:
    """The appointment-resource, the appointment-reference and the patient id given."""
    resources = _param(params, "appointment-resource")
    refs = _param(params, "appointment-reference")
    patients = _param(params, "patient")
    resource = None
    if resources:
        found = _resource(resource_json(resources[0].resource), "Appointment")
        assert isinstance(found, FhirAppointment)
        resource = found
    ref = refs[0].valueReference.reference if refs and refs[0].valueReference else None
    patient = _patient_id(patients[0].valueReference) if patients else None
    if resource is None and ref is None:
        raise AppError("give appointment-resource or appointment-reference")
    return resource, ref, patient


def _slot_and_patient(
    resource: FhirAppointment | None, ref: str | None, patient: int | None
) -> tuple[int, int, int | None]:
    """(slot id, elder id, hold id)."""
    hold_id = None
    if resource is not None:
        slots = [s.reference for s in resource.slot or () if s.reference]
        if not slots:
            raise AppError("the Appointment names no Slot")
        slot_id = _row_id(slots[0])
        if patient is None:
            actors = [p.actor for p in resource.participant or () if p.actor]
            named = [
                a
                for a in actors
                if (a.reference or "").startswith("Patient/")
                or (a.identifier and a.identifier.system == ELDER_SYSTEM)
            ]
            patient = _patient_id(named[0] if named else None)
    else:
        assert ref is not None
        tail = ref.rsplit("/", 1)[-1]
        if tail.startswith("hold-"):
            hold_id = _row_id(tail, "hold-")
            slot_id = 0
        else:
            slot_id = _row_id(tail, "proposed-")
        if patient is None:
            raise AppError("name the patient (the patient parameter)")
    return slot_id, patient, hold_id


def _key_of(resource: FhirAppointment | None) -> str:
    for ident in (resource.identifier or ()) if resource else ():
        if ident.system == BOOKING_SYSTEM and ident.value:
            value = ident.value
            return value if len(value) <= 64 else hashlib.sha256(value.encode()).hexdigest()
    return uuid.uuid4().hex


def _booked(db: SessionDep, visit: Appointment) -> FhirAppointment:
    elder = db.get(Elder, visit.elder_id)
    return appointment_resource(
        status=TO_FHIR[visit.status],
        slot_reference=f"Slot/{visit.slot_id}",
        start=visit.starts_at,
        end=visit.ends_at,
        patient=(visit.elder_id, elder.name if elder else ""),
        practitioner=f"Practitioner/{visit.doctor_id}",
        key=None,
        appointment_id=str(visit.id),
        reason=visit.cancel_reason,
        last_updated=visit.updated_at,
    )


@router.post("/Appointment/$hold", responses=FHIR_ANSWERS)
async def hold(request: Request, user: CurrentUser, db: SessionDep) -> Response:
    """[ITI-116] keep the proposed slot for the patient for 3 minutes (status pending)."""
    resource, ref, patient = _target(parameters_of(await _body(request)))
    slot_id, elder_id, _ = _slot_and_patient(resource, ref, patient)
    elder, booker = booker_for(db, user, elder_id)
    held = booking.hold_slot(db, booker, elder, slot_id, utcnow())
    slot = db.get(Slot, held.slot_id)
    assert slot is not None
    pending = appointment_resource(
        status="pending",
        slot_reference=f"Slot/{slot.id}",
        start=slot.starts_at,
        end=slot.ends_at,
        patient=(elder.id, elder.name),
        practitioner=f"Practitioner/{slot.doctor_id}",
        appointment_id=f"hold-{held.id}",
    )
    return fhir_response(bundle([pending]))


def _book(
    db: SessionDep,
    rt: RuntimeDep,
    user: User,
    slot_id: int,
    elder_id: int,
    hold_id: int | None,
    key: str,
) -> tuple[Appointment, bool]:
    elder, booker = booker_for(db, user, elder_id)
    if hold_id is not None:
        held = booking.SlotHold
        row = db.get(held, hold_id)
        if row is None or row.holder != booker.sender:
            raise NotFound(f"no hold {hold_id} of yours")
        slot_id = row.slot_id
    clinic_id = db.scalar(select(Slot.clinic_id).where(Slot.id == slot_id))
    clinic = db.get(Clinic, clinic_id) if clinic_id else None
    if clinic is None:
        raise NotFound(f"no slot {slot_id}")
    ask = booking.Ask(booker, elder, slot_id, VisitKind.CLINIC, key, utcnow(), hold_id)
    visit, created = schedule_for(clinic).book(db, ask)
    if created:
        audit.record(
            db, "appointment.booked", elder.id, user=user, target=f"appointment:{visit.id}"
        )
        db.commit()
        announce(db, rt.hub, [elder.id], "booked")
    return visit, created


@router.post("/Appointment/$book", responses=FHIR_ANSWERS)
async def book(request: Request, user: CurrentUser, db: SessionDep, rt: RuntimeDep) -> Response:
    """[ITI-117] book the proposed (or held) slot for the patient (status booked)."""
    resource, ref, patient = _target(parameters_of(await _body(request)))
    slot_id, elder_id, hold_id = _slot_and_patient(resource, ref, patient)
    visit, _ = _book(db, rt, user, slot_id, elder_id, hold_id, _key_of(resource))
    return fhir_response(bundle([_booked(db, visit)]))


@router.post(
    "/Appointment",
    status_code=201,
    responses={200: {"description": "the first booking of this identifier"}, **FHIR_ANSWERS},
)
async def create(request: Request, user: CurrentUser, db: SessionDep, rt: RuntimeDep) -> Response:
    """A booked Appointment naming a Slot and the Patient; with the identifier
    ``urn:anxin:booking`` a repeat returns the first (200), as a conditional create would."""
    resource = _resource(await _body(request), "Appointment")
    assert isinstance(resource, FhirAppointment)
    if resource.status != "booked":
        raise AppError("create an Appointment with status booked")
    slot_id, elder_id, _ = _slot_and_patient(resource, None, None)
    visit, created = _book(db, rt, user, slot_id, elder_id, None, _key_of(resource))
    return fhir_response(_booked(db, visit), 201 if created else 200)


def _cancel(
    db: SessionDep, rt: RuntimeDep, user: User, appointment_id: int, reason: str
) -> Appointment:
    visit = visit_for(db, user, appointment_id)
    if user.role not in (Role.FAMILY, Role.OPERATOR, Role.ADMIN, *CLINIC_ROLES):
        raise Forbidden("you cannot cancel visits")
    clinic = db.get(Clinic, visit.clinic_id)
    assert clinic is not None
    if schedule_for(clinic).cancel(db, user.lang, visit, reason, utcnow()):
        audit.record(
            db,
            "appointment.cancelled",
            visit.elder_id,
            user=user,
            target=f"appointment:{visit.id}",
        )
        db.commit()
        announce(db, rt.hub, [visit.elder_id], "cancelled")
    db.refresh(visit)
    return visit


@router.post("/Appointment/$cancel", responses=FHIR_ANSWERS)
async def cancel(request: Request, user: CurrentUser, db: SessionDep, rt: RuntimeDep) -> Response:
    """Cancel a booked Appointment (``appointment-reference``); again changes nothing."""
    params = parameters_of(await _body(request))
    refs = _param(params, "appointment-reference")
    if not refs or not refs[0].valueReference or not refs[0].valueReference.reference:
        raise AppError("give appointment-reference: Appointment/<id>")
    reasons = _param(params, "reason")
    reason = (reasons[0].valueString or "") if reasons else ""
    visit = _cancel(db, rt, user, _row_id(refs[0].valueReference.reference), reason[:200])
    return fhir_response(bundle([_booked(db, visit)]))


@router.get("/Appointment/{id}", responses=FHIR_ANSWERS)
def read(id: str, user: CurrentUser, db: SessionDep) -> Response:  # noqa: A002 (FHIR's name)
    """One Appointment (FHIR ids are strings: one we never gave out is not found)."""
    visit = visit_for(db, user, _row_id(id))
    return fhir_response(_booked(db, visit))


@router.put("/Appointment/{id}", responses=FHIR_ANSWERS)
async def update(
    id: str,  # noqa: A002 (FHIR's name)
    request: Request,
    user: CurrentUser,
    db: SessionDep,
    rt: RuntimeDep,
) -> Response:
    """Change an Appointment: setting its status to cancelled is the change taken."""
    resource = _resource(await _body(request), "Appointment")
    assert isinstance(resource, FhirAppointment)
    visit_id = _row_id(id)
    if resource.id is not None and resource.id != str(visit_id):
        raise AppError("the Appointment's id is not the one in the address")
    if resource.status != "cancelled":
        raise InvalidInput("only cancelling (status cancelled) is taken here")
    reason = resource.cancelationReason.text if resource.cancelationReason else ""
    visit = _cancel(db, rt, user, visit_id, (reason or "")[:200])
    return fhir_response(_booked(db, visit))


@router.get("/Appointment", responses=FHIR_ANSWERS)
def search_appointments(request: Request, user: CurrentUser, db: SessionDep) -> Response:
    """[ITI-118] ``patient=Patient/<id>``: the elder's visits; ``_lastUpdated=gt…``: the
    visits the caller booked that changed since; ``identifier=urn:anxin:booking|<key>``."""
    query = request.query_params
    select_visits = select(Appointment)
    if query.get("patient"):
        elder_id = _row_id(query["patient"])
        if user.role in CLINIC_ROLES:
            select_visits = select_visits.where(Appointment.clinic_id == user.clinic_id)
        else:
            elder_for_viewing(db, user, elder_id)
        select_visits = select_visits.where(Appointment.elder_id == elder_id)
        audit.record(db, "appointments.read", elder_id, user=user)
    else:
        select_visits = select_visits.where(Appointment.sender == f"user:{user.id}")
    since = query.get("_lastUpdated")
    if since:
        if not since.startswith("gt"):
            raise AppError("_lastUpdated: use gt<instant>")
        after = _date_param(since[2:], "_lastUpdated")
        select_visits = select_visits.where(Appointment.updated_at > after)
    ident = query.get("identifier")
    if ident:
        system, _, value = ident.partition("|")
        if system != BOOKING_SYSTEM:
            raise AppError(f"identifier: search by {BOOKING_SYSTEM}|<key>")
        select_visits = select_visits.where(
            Appointment.sender == f"user:{user.id}", Appointment.idempotency_key == value[:64]
        )
    # A poll reads changes oldest first and keeps the last one's time as its mark.
    first = Appointment.updated_at if since else Appointment.created_at
    rows = db.scalars(select_visits.order_by(first, Appointment.id).limit(500))
    return fhir_response(bundle([_booked(db, v) for v in rows]))
