"""FHIR R4 resources of appointments, built and read with the ``fhir.resources`` R4B models.

Every resource we send (to a clinic's own FHIR server) or answer (on ``/fhir``) is built here
as a model, so it is validated when it is made; every resource we receive is parsed here, so
a malformed one is refused before anything is stored (`InvalidResource`).

Identifiers of ours, so that two systems recognise the same thing:

- ``urn:anxin:booking`` — a booking's idempotency key (``sender:key``): a retried booking is
  a conditional create on it and never books twice;
- ``urn:anxin:elder`` — the elder (the ``Patient``) by our elder id;
- ``urn:anxin:department`` — the department code (``gp``, ``eye``…) as a slot's service type.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.appointment import Appointment as FhirAppointment
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.parameters import Parameters
from fhir.resources.R4B.resource import Resource
from fhir.resources.R4B.schedule import Schedule as FhirSchedule
from fhir.resources.R4B.slot import Slot as FhirSlot
from pydantic import ValidationError

from server.models import AppointmentStatus

__all__ = [
    "BOOKING_SYSTEM",
    "DEPARTMENT_SYSTEM",
    "ELDER_SYSTEM",
    "FHIR_JSON",
    "InvalidResource",
    "appointment_resource",
    "bundle",
    "outcome",
    "parse",
    "resource_json",
    "schedule_resource",
    "slot_resource",
]

FHIR_JSON = "application/fhir+json"
BOOKING_SYSTEM = "urn:anxin:booking"
ELDER_SYSTEM = "urn:anxin:elder"
DEPARTMENT_SYSTEM = "urn:anxin:department"

# Our visit states and FHIR's Appointment.status, both ways.
TO_FHIR = {
    AppointmentStatus.BOOKED: "booked",
    AppointmentStatus.CANCELLED: "cancelled",
    AppointmentStatus.ARRIVED: "arrived",
    AppointmentStatus.NO_SHOW: "noshow",
    AppointmentStatus.DONE: "fulfilled",
}
FROM_FHIR = {v: k for k, v in TO_FHIR.items()}
# FHIR's Appointment.status codes (the library does not check codes against their value set).
APPOINTMENT_CODES = {
    "proposed",
    "pending",
    "booked",
    "arrived",
    "fulfilled",
    "cancelled",
    "noshow",
    "entered-in-error",
    "checked-in",
    "waitlist",
}
SLOT_CODES = {"busy", "free", "busy-unavailable", "busy-tentative", "entered-in-error"}


class InvalidResource(ValueError):
    """A resource that is not valid FHIR R4 (or not the type expected); ``str()`` says why."""


def parse(data: Any, expected: str | None = None) -> Resource:
    """The R4B model of a resource as JSON-decoded ``data``; `InvalidResource` if it is not one."""
    if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
        raise InvalidResource("not a FHIR resource: resourceType is missing")
    kind = data["resourceType"]
    if expected is not None and kind != expected:
        raise InvalidResource(f"expected a {expected}, got a {kind[:40]}")
    try:
        model = get_fhir_model_class(kind)
    except (KeyError, ValueError, AttributeError, ImportError):
        raise InvalidResource(f"unknown resource type {kind[:40]!r}") from None
    try:
        resource = model.model_validate(data)
    except (ValidationError, ValueError, TypeError) as err:
        raise InvalidResource(_first_problem(err)) from None
    status = getattr(resource, "status", None)
    if kind == "Appointment" and status not in APPOINTMENT_CODES:
        raise InvalidResource(f"Appointment.status {str(status)[:40]!r} is not an R4 code")
    if kind == "Slot" and status not in SLOT_CODES:
        raise InvalidResource(f"Slot.status {str(status)[:40]!r} is not an R4 code")
    return cast(Resource, resource)


def _first_problem(err: Exception) -> str:
    if isinstance(err, ValidationError) and err.errors():
        first = err.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return f"{where}: {first.get('msg', 'invalid')}"[:300]
    return str(err)[:300]


def resource_json(resource: Resource) -> dict[str, Any]:
    """The resource as JSON-ready data (empty elements left out, as FHIR requires)."""
    return resource.model_dump(mode="json", exclude_none=True)  # type: ignore[no-any-return]


def slot_resource(
    slot_id: int | str,
    schedule_id: str,
    department: str,
    start: datetime,
    end: datetime,
    free: bool,
) -> FhirSlot:
    """A Slot of ours (its service type the department code)."""
    return FhirSlot.model_validate(
        {
            "resourceType": "Slot",
            "id": str(slot_id),
            "schedule": {"reference": f"Schedule/{schedule_id}"},
            "serviceType": [{"coding": [{"system": DEPARTMENT_SYSTEM, "code": department}]}],
            "status": "free" if free else "busy",
            "start": start,
            "end": end,
        }
    )


def schedule_resource(schedule_id: str, practitioner: str, name: str) -> FhirSchedule:
    """A doctor's Schedule at a clinic (its actor the doctor's Practitioner reference)."""
    return FhirSchedule.model_validate(
        {
            "resourceType": "Schedule",
            "id": schedule_id,
            "active": True,
            "actor": [{"reference": practitioner, "display": name}],
        }
    )


def appointment_resource(
    *,
    status: str,
    slot_reference: str | None,
    start: datetime | None,
    end: datetime | None,
    patient: tuple[int, str],
    practitioner: str | None,
    key: str | None = None,
    appointment_id: str | None = None,
    reason: str = "",
    last_updated: datetime | None = None,
) -> FhirAppointment:
    """An Appointment: ``patient`` is (our elder id, name); ``key`` our idempotency key."""
    elder_id, elder_name = patient
    participants: list[dict[str, Any]] = [
        {
            "actor": {
                "identifier": {"system": ELDER_SYSTEM, "value": str(elder_id)},
                "display": elder_name,
            },
            "status": "accepted",
            "type": [{"coding": [{"code": "SBJ"}]}],
        }
    ]
    if practitioner:
        participants.append({"actor": {"reference": practitioner}, "status": "accepted"})
    values: dict[str, Any] = {
        "status": status,
        "participant": participants,
        "start": start,
        "end": end,
    }
    if slot_reference:
        values["slot"] = [{"reference": slot_reference}]
    if key:
        values["identifier"] = [{"system": BOOKING_SYSTEM, "value": key}]
    if appointment_id:
        values["id"] = appointment_id
    if last_updated is not None:
        values["meta"] = {"lastUpdated": last_updated}
    if reason and status == "cancelled":
        values["cancelationReason"] = {"text": reason[:500]}
    return FhirAppointment(**{k: v for k, v in values.items() if v is not None})


def bundle(resources: Iterable[Resource], kind: str = "searchset") -> Bundle:
    """A Bundle of ``resources`` (a searchset counts its matches)."""
    entries: list[dict[str, Any]] = [
        {"resource": resource_json(r), "search": {"mode": "match"}}
        if kind == "searchset"
        else {"resource": resource_json(r)}
        for r in resources
    ]
    data: dict[str, Any] = {"resourceType": "Bundle", "type": kind}
    if entries:
        data["entry"] = entries
    if kind == "searchset":
        data["total"] = len(entries)
    return Bundle.model_validate(data)


def outcome(text: str, code: str = "invalid", severity: str = "error") -> OperationOutcome:
    """An OperationOutcome of one issue; ``text`` is safe to show to the caller."""
    return OperationOutcome.model_validate(
        {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": severity, "code": code, "diagnostics": text[:1000]}],
        }
    )


def parameters(data: Any) -> Parameters:
    """The Parameters of an operation's body; `InvalidResource` if it is not valid."""
    found = parse(data, "Parameters")
    assert isinstance(found, Parameters)
    return found
