"""A consult as a FHIR R4 `Encounter` (class VR: virtual), for export to clinical systems."""

from __future__ import annotations

from typing import Any

from protocol import CallEndReason, CallKind
from server.models import Call, CallStatus, Elder, User

ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
_STATUS = {
    CallStatus.QUEUED: "planned",
    CallStatus.RINGING: "arrived",
    CallStatus.ACTIVE: "in-progress",
}


def _status(call: Call) -> str:
    if call.status is not CallStatus.ENDED:
        return _STATUS[call.status]
    # Ended before anyone answered: the encounter never took place.
    return "finished" if call.answered_at is not None else "cancelled"


def encounter(call: Call, elder: Elder, doctor: User | None, base_url: str) -> dict[str, Any]:
    """The FHIR R4 Encounter resource (JSON) of one consult or call."""
    period: dict[str, str] = {"start": (call.answered_at or call.requested_at).isoformat()}
    if call.ended_at is not None:
        period["end"] = call.ended_at.isoformat()
    resource: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": f"call-{call.id}",
        "identifier": [{"system": f"{base_url.rstrip('/')}/calls", "value": str(call.id)}],
        "status": _status(call),
        "class": {"system": ACT_CODE, "code": "VR", "display": "virtual"},
        "type": [
            {"text": "video consultation" if call.kind is CallKind.CONSULT else "family video call"}
        ],
        "subject": {"reference": f"Patient/elder-{elder.id}", "display": elder.name},
        "period": period,
        "extension": [
            {
                "url": f"{base_url.rstrip('/')}/fhir/StructureDefinition/requested-at",
                "valueDateTime": call.requested_at.isoformat(),
            }
        ],
    }
    if doctor is not None and call.kind is CallKind.CONSULT:
        resource["participant"] = [
            {
                "type": [
                    {
                        "coding": [
                            {
                                "system": ACT_CODE.replace("v3-ActCode", "v3-ParticipationType"),
                                "code": "PPRF",
                            }
                        ]
                    }
                ],
                "individual": {
                    "reference": f"Practitioner/user-{doctor.id}",
                    "display": doctor.name,
                },
            }
        ]
    if call.outcome or call.end_reason is not None:
        text = call.outcome or (call.end_reason or CallEndReason.HUNG_UP).value
        resource["hospitalization"] = {"dischargeDisposition": {"text": text}}
    if call.notes:
        resource["text"] = {"status": "generated", "div": _xhtml(call.notes)}
    return resource


def _xhtml(notes: str) -> str:
    from html import escape

    return f'<div xmlns="http://www.w3.org/1999/xhtml">{escape(notes)}</div>'
