"""FHIR R4 export: plans as ``MedicationRequest``, taken doses as ``MedicationStatement``."""

from __future__ import annotations

from typing import Any

from protocol import DoseOutcome, PlanStatus
from server.models import DoseRecord, Elder, MedicationPlan
from server.reminders.plans import schedule_of

_REQUEST_STATUS = {
    PlanStatus.ACTIVE: "active",
    PlanStatus.PAUSED: "on-hold",
    PlanStatus.ENDED: "completed",
}
_DAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def medication_request(plan: MedicationPlan, elder: Elder) -> dict[str, Any]:
    """One plan as a FHIR R4 MedicationRequest."""
    sched = schedule_of(plan)
    repeat: dict[str, Any] = {
        "boundsPeriod": {"start": sched.start_date.isoformat()},
        "frequency": 1,
        "period": sched.every_n_days,
        "periodUnit": "d",
    }
    if sched.end_date is not None:
        repeat["boundsPeriod"]["end"] = sched.end_date.isoformat()
    if sched.times:
        repeat["timeOfDay"] = [t.strftime("%H:%M:%S") for t in sched.times]
        repeat["frequency"] = len(sched.times)
    if sched.days_of_week is not None:
        repeat["dayOfWeek"] = [_DAY_CODES[d - 1] for d in sched.days_of_week]
    name = " ".join(p for p in (plan.medicine, plan.strength) if p)
    dosage: dict[str, Any] = {
        "text": "; ".join(p for p in (plan.dose, plan.instructions) if p) or name,
        "timing": {"repeat": repeat},
        "asNeededBoolean": sched.as_needed,
    }
    if plan.instructions:
        dosage["patientInstruction"] = plan.instructions
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": f"plan-{plan.id}",
        "status": _REQUEST_STATUS[plan.status],
        "intent": "plan",
        "medicationCodeableConcept": {"text": name},
        "subject": {"reference": f"Patient/{elder.id}", "display": elder.name},
        "authoredOn": plan.created_at.isoformat(),
        "dosageInstruction": [dosage],
    }
    if plan.created_by_id is not None:
        resource["requester"] = {"reference": f"Practitioner/{plan.created_by_id}"}
    if plan.appearance:
        resource["note"] = [{"text": f"appearance: {plan.appearance} ({plan.colour})"}]
    return resource


def medication_statement(record: DoseRecord, plan: MedicationPlan, elder: Elder) -> dict[str, Any]:
    """One taken (or skipped) dose as a FHIR R4 MedicationStatement."""
    taken = record.outcome is DoseOutcome.TAKEN
    return {
        "resourceType": "MedicationStatement",
        "id": f"dose-{record.id}",
        "status": "completed" if taken else "not-taken",
        "basedOn": [{"reference": f"MedicationRequest/plan-{plan.id}"}],
        "medicationCodeableConcept": {"text": plan.medicine},
        "subject": {"reference": f"Patient/{elder.id}"},
        "effectiveDateTime": (record.answered_at or record.scheduled_at).isoformat(),
        "dateAsserted": record.recorded_at.isoformat(),
        "note": [{"text": f"scheduled {record.scheduled_local} local"}],
    }


def bundle(elder: Elder, plans: list[MedicationPlan], records: list[DoseRecord]) -> dict[str, Any]:
    """A FHIR R4 collection Bundle of the elder's plans and answered doses."""
    by_id = {p.id: p for p in plans}
    entries = [{"resource": medication_request(p, elder)} for p in plans]
    entries += [
        {"resource": medication_statement(r, by_id[r.plan_id], elder)}
        for r in records
        if r.plan_id in by_id and r.outcome in (DoseOutcome.TAKEN, DoseOutcome.SKIPPED)
    ]
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}
