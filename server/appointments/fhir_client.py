"""A FHIR R4 client of a clinic's own server (httpx): free Slots, book, cancel, changes since.

- search: ``GET Slot?status=free&start=ge..&start=lt..&schedule.actor=..|service-type=..``
  with ``_include=Slot:schedule`` (the Schedules name each slot's Practitioner);
- book: ``POST Appointment`` (status booked, the elder and the doctor as participants, the
  slot referenced), a conditional create on our booking identifier (``If-None-Exist``), so a
  booking retried after a timeout finds the first one and never books twice;
- cancel: ``GET`` then ``PUT Appointment/{id}`` with status cancelled;
- changes: ``GET Appointment?_lastUpdated=gt..`` (the poll sweep, `server.appointments.fhir_sync`).

Whatever goes wrong on the clinic's side — no answer in time, a 5xx, a body that is not JSON or
not a valid resource — raises `FhirUnavailable` saying what; a refusal (4xx) `FhirRefused`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
from fhir.resources.R4B.appointment import Appointment as FhirAppointment
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.resource import Resource

from server.appointments.fhir_resources import (
    BOOKING_SYSTEM,
    FHIR_JSON,
    InvalidResource,
    appointment_resource,
    parse,
    resource_json,
)

TIMEOUT_SECONDS = 10.0
# The cancellation reason of a booking of ours that never became a visit here.
NOT_COMPLETED = "not completed at Anxin"


class FhirUnavailable(Exception):
    """The clinic's server did not answer usefully; ``str()`` says how (for the log)."""


class FhirRefused(Exception):
    """The clinic's server refused the request (4xx); ``status`` and its words."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(f"{status}: {text}")
        self.status = status


def _fhir_time(value: datetime) -> str:
    return value.isoformat()


class FhirClient:
    """One clinic's FHIR server at ``base_url``, sent ``auth_header`` as Authorization."""

    def __init__(
        self,
        base_url: str,
        auth_header: str = "",
        timeout: float | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"accept": FHIR_JSON}
        if auth_header:
            headers["authorization"] = auth_header
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + "/",
            headers=headers,
            timeout=TIMEOUT_SECONDS if timeout is None else timeout,
            transport=transport,
            follow_redirects=False,
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> FhirClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, expected: str, **kwargs: Any) -> Resource:
        try:
            resp = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as err:
            raise FhirUnavailable(f"no answer in time ({method} {path})") from err
        except httpx.HTTPError as err:
            raise FhirUnavailable(f"cannot reach the clinic ({type(err).__name__})") from err
        if resp.status_code >= 500:
            raise FhirUnavailable(f"status {resp.status_code} on {method} {path}")
        try:
            data = resp.json()
        except ValueError as err:
            raise FhirUnavailable(f"not JSON (status {resp.status_code})") from err
        if resp.status_code >= 400:
            raise FhirRefused(resp.status_code, _diagnostics(data))
        try:
            return parse(data, expected)
        except InvalidResource as err:
            raise FhirUnavailable(f"an invalid {expected}: {err}") from err

    def _search(self, path: str, params: list[tuple[str, str]]) -> list[Resource]:
        found = self._call("GET", path, "Bundle", params=params)
        assert isinstance(found, Bundle)
        return [e.resource for e in found.entry or () if e.resource is not None]

    def free_slots(
        self,
        window: tuple[datetime, datetime],
        practitioner: str | None = None,
        service_type: str | None = None,
    ) -> list[Resource]:
        """Free Slots starting in ``window`` and, included, the Schedules they belong to."""
        params = [
            ("status", "free"),
            ("start", f"ge{_fhir_time(window[0])}"),
            ("start", f"lt{_fhir_time(window[1])}"),
            ("_include", "Slot:schedule"),
            ("_count", "200"),
        ]
        if practitioner:
            params.append(("schedule.actor", practitioner))
        if service_type:
            params.append(("service-type", service_type))
        return self._search("Slot", params)

    def book(
        self,
        *,
        slot_id: str,
        practitioner: str | None,
        patient: tuple[int, str],
        key: str,
        window: tuple[datetime, datetime],
    ) -> FhirAppointment:
        """Create the booked Appointment once (conditional create on ``key``)."""
        resource = appointment_resource(
            status="booked",
            slot_reference=f"Slot/{slot_id}",
            start=window[0],
            end=window[1],
            patient=patient,
            practitioner=practitioner,
            key=key,
        )
        made = self._call(
            "POST",
            "Appointment",
            "Appointment",
            json=resource_json(resource),
            headers={
                "content-type": FHIR_JSON,
                "if-none-exist": f"identifier={BOOKING_SYSTEM}|{key}",
                "prefer": "return=representation",
            },
        )
        assert isinstance(made, FhirAppointment)
        return made

    def cancel(self, appointment_id: str, reason: str) -> FhirAppointment:
        """Set the Appointment's status to cancelled (read, then PUT back)."""
        current = self._call("GET", f"Appointment/{appointment_id}", "Appointment")
        assert isinstance(current, FhirAppointment)
        data = resource_json(current)
        data["status"] = "cancelled"
        if reason:
            data["cancelationReason"] = {"text": reason[:500]}
        changed = parse(data, "Appointment")  # validated before it leaves
        done = self._call(
            "PUT",
            f"Appointment/{appointment_id}",
            "Appointment",
            json=resource_json(changed),
            headers={"content-type": FHIR_JSON},
        )
        assert isinstance(done, FhirAppointment)
        return done

    def changed_since(self, since: datetime) -> list[FhirAppointment]:
        """Appointments the clinic changed after ``since``, oldest change first."""
        found = self._search(
            "Appointment",
            [("_lastUpdated", f"gt{_fhir_time(since)}"), ("_sort", "_lastUpdated")],
        )
        return [r for r in found if isinstance(r, FhirAppointment)]


def _diagnostics(data: Any) -> str:
    if isinstance(data, dict):
        for issue in data.get("issue") or ():
            if isinstance(issue, dict) and issue.get("diagnostics"):
                return str(issue["diagnostics"])[:300]
        if data.get("detail"):
            return str(data["detail"])[:300]
    return "refused"
