"""A small FHIR R4 server on 127.0.0.1 for tests: a clinic that runs its own system.

It stores Schedule, Slot and Appointment resources in memory, answers the searches our client
makes (``Slot?status=free&start=ge..&start=lt..&schedule.actor=..&service-type=..&_include=
Slot:schedule``, ``Appointment?_lastUpdated=gt..``, ``identifier=``), creates Appointments
(conditionally, ``If-None-Exist: identifier=…``; a busy slot is a 409), reads and replaces
them (``PUT``, status cancelled frees the slot), and validates everything it receives with
the ``fhir.resources`` R4B models: 400 and an OperationOutcome otherwise.

Faults for tests: ``mode`` "down" (503), "garbage" (200 that is not JSON), "invalid" (200 with
an invalid resource), "hang" (no answer until `release`), "book_then_hang" (stores a booking,
then does not answer). ``clinic_change`` is the clinic's own staff moving or cancelling a visit.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, Response
from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.schedule import Schedule
from fhir.resources.R4B.slot import Slot
from pydantic import ValidationError

from tests.support.live_server import free_port
from tests.support.waiting import wait_until

FHIR_JSON = "application/fhir+json"


def _dump(resource: Any) -> dict[str, Any]:
    return resource.model_dump(mode="json", exclude_none=True)  # type: ignore[no-any-return]


def _reply(resource: Any, status: int = 200) -> Response:
    return Response(json.dumps(_dump(resource)), status_code=status, media_type=FHIR_JSON)


def _problem(text: str, status: int = 400) -> Response:
    return _reply(
        OperationOutcome(issue=[{"severity": "error", "code": "invalid", "diagnostics": text}]),
        status,
    )


class FhirTestServer:
    """The clinic's FHIR server, running in a thread while the test runs."""

    def __init__(self, token: str = "clinic-secret") -> None:
        self.token = token
        self.port = free_port()
        self.mode = "ok"
        self.received: list[dict[str, Any]] = []  # every resource posted or put, as JSON
        # Run (in the server's thread) when a booking arrives, before the clinic stores it.
        self.before_create: Callable[[], None] | None = None
        self.slots: dict[str, Slot] = {}
        self.schedules: dict[str, Schedule] = {}
        self.appointments: dict[str, Appointment] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.app = self._build()

    @property
    def base_url(self) -> str:
        """The FHIR base URL."""
        return f"http://127.0.0.1:{self.port}/fhir"

    # -- the clinic's own data ----------------------------------------------------------

    def add_schedule(self, practitioner: str) -> str:
        """A Schedule of ``practitioner`` ("Practitioner/p1"); its id."""
        sid = f"s{next(self._ids)}"
        self.schedules[sid] = Schedule(id=sid, active=True, actor=[{"reference": practitioner}])
        return sid

    def add_slot(
        self, schedule_id: str, start: datetime, minutes: int = 20, service: str = "gp"
    ) -> str:
        """A free Slot; its id."""
        slot_id = f"slot{next(self._ids)}"
        self.slots[slot_id] = Slot(
            id=slot_id,
            schedule={"reference": f"Schedule/{schedule_id}"},
            serviceType=[{"coding": [{"system": "urn:anxin:department", "code": service}]}],
            status="free",
            start=start,
            end=start + timedelta(minutes=minutes),
        )
        return slot_id

    def clinic_change(self, appointment_id: str, **changes: Any) -> None:
        """The clinic's staff change a visit (status, start, end); lastUpdated moves on."""
        with self._lock:
            data = _dump(self.appointments[appointment_id]) | changes
            data = json.loads(json.dumps(data, default=lambda v: v.isoformat()))
            data["meta"] = {"lastUpdated": self._now()}
            self.appointments[appointment_id] = Appointment.model_validate(data)
            if changes.get("status") == "cancelled":
                self._set_slot(self.appointments[appointment_id], "free")

    def release(self) -> None:
        """Let hanging requests go."""
        self._released.set()

    # -- running ------------------------------------------------------------------------

    def start(self) -> FhirTestServer:
        """Serve on 127.0.0.1 in a thread until `stop`."""
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        wait_until(
            lambda: self._server is not None and self._server.started,
            timeout=10,
            what="the FHIR test server",
        )
        return self

    def stop(self) -> None:
        """Stop serving."""
        self.release()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)

    @staticmethod
    def _now() -> str:
        return datetime.now(UTC).isoformat()

    def _set_slot(self, appointment: Appointment, status: str) -> None:
        for ref in appointment.slot or ():
            slot_id = (ref.reference or "").removeprefix("Slot/")
            if slot_id in self.slots:
                self.slots[slot_id] = self.slots[slot_id].model_copy(update={"status": status})

    def _fault(self) -> Response | None:
        if self.mode == "down":
            return Response("Service Unavailable", status_code=503)
        if self.mode == "garbage":
            return Response("<html>oops</html>", status_code=200, media_type="text/html")
        if self.mode == "invalid":
            return Response(
                json.dumps(
                    {
                        "resourceType": "Bundle",
                        "type": "nonsense-x",
                        "entry": [{"resource": {"resourceType": "Slot"}}],
                    }
                ),
                media_type=FHIR_JSON,
            )
        if self.mode == "hang":
            self._released.wait(30)
        return None

    def _build(self) -> FastAPI:
        app = FastAPI()

        @app.middleware("http")
        async def auth(request: Request, call_next: Any) -> Response:
            if request.headers.get("authorization") != f"Bearer {self.token}":
                return _problem("unauthorized", 401)
            response: Response = await call_next(request)
            return response

        @app.get("/fhir/Slot")
        def search_slots(request: Request) -> Response:
            if (fault := self._fault()) is not None:
                return fault
            q = request.query_params
            found = [s for s in self.slots.values() if s.status == q.get("status", s.status)]
            for value in q.getlist("start"):
                when = datetime.fromisoformat(value[2:])
                if value.startswith("ge"):
                    found = [s for s in found if s.start >= when]
                elif value.startswith("lt"):
                    found = [s for s in found if s.start < when]
                else:
                    return _problem(f"start: unsupported prefix in {value}")
            if actor := q.get("schedule.actor"):
                found = [
                    s
                    for s in found
                    if any(a.reference == actor for a in self._schedule_of(s).actor)
                ]
            if service := q.get("service-type"):
                found = [
                    s
                    for s in found
                    if any(c.code == service for t in s.serviceType or () for c in t.coding or ())
                ]
            entries: list[dict[str, Any]] = [
                {"resource": s, "search": {"mode": "match"}} for s in found
            ]
            if q.get("_include") == "Slot:schedule":
                used = {self._schedule_of(s).id: self._schedule_of(s) for s in found}
                entries += [{"resource": s, "search": {"mode": "include"}} for s in used.values()]
            return _reply(Bundle(type="searchset", total=len(found), entry=entries or None))

        @app.post("/fhir/Appointment")
        async def create(request: Request) -> Response:
            if self.mode != "book_then_hang" and (fault := self._fault()) is not None:
                return fault
            try:
                data = json.loads(await request.body())
                appointment = Appointment.model_validate(data)
            except (ValueError, ValidationError) as err:
                return _problem(f"invalid Appointment: {str(err)[:200]}")
            self.received.append(data)
            if self.before_create is not None:
                self.before_create()
            condition = request.headers.get("if-none-exist", "")
            with self._lock:
                if condition.startswith("identifier="):
                    system, _, value = condition.removeprefix("identifier=").partition("|")
                    for existing in self.appointments.values():
                        if any(
                            i.system == system and i.value == value
                            for i in existing.identifier or ()
                        ):
                            return _reply(existing, 200)
                slot_ids = [
                    (r.reference or "").removeprefix("Slot/") for r in appointment.slot or ()
                ]
                if not slot_ids or any(self.slots.get(s) is None for s in slot_ids):
                    return _problem("the Appointment must name a Slot of this clinic")
                if any(self.slots[s].status != "free" for s in slot_ids):
                    return _problem("that slot is busy", 409)
                aid = f"a{next(self._ids)}"
                stored = Appointment.model_validate(
                    _dump(appointment) | {"id": aid, "meta": {"lastUpdated": self._now()}}
                )
                self.appointments[aid] = stored
                self._set_slot(stored, "busy")
            if self.mode == "book_then_hang":
                self._released.wait(30)
            return _reply(stored, 201)

        @app.get("/fhir/Appointment/{aid}")
        def read(aid: str) -> Response:
            if (fault := self._fault()) is not None:
                return fault
            if aid not in self.appointments:
                return _problem("not found", 404)
            return _reply(self.appointments[aid])

        @app.put("/fhir/Appointment/{aid}")
        async def replace(aid: str, request: Request) -> Response:
            if (fault := self._fault()) is not None:
                return fault
            try:
                data = json.loads(await request.body())
                appointment = Appointment.model_validate(data)
            except (ValueError, ValidationError) as err:
                return _problem(f"invalid Appointment: {str(err)[:200]}")
            self.received.append(data)
            with self._lock:
                if aid not in self.appointments:
                    return _problem("not found", 404)
                stored = Appointment.model_validate(
                    _dump(appointment) | {"id": aid, "meta": {"lastUpdated": self._now()}}
                )
                self.appointments[aid] = stored
                if stored.status == "cancelled":
                    self._set_slot(stored, "free")
            return _reply(stored)

        @app.get("/fhir/Appointment")
        def search_appointments(request: Request) -> Response:
            if (fault := self._fault()) is not None:
                return fault
            q = request.query_params
            found = list(self.appointments.values())
            if since := q.get("_lastUpdated"):
                after = datetime.fromisoformat(since.removeprefix("gt"))
                found = [a for a in found if a.meta.lastUpdated > after]
            found.sort(key=lambda a: a.meta.lastUpdated)
            entries = [{"resource": a, "search": {"mode": "match"}} for a in found]
            return _reply(Bundle(type="searchset", total=len(found), entry=entries or None))

        return app

    def _schedule_of(self, slot: Slot) -> Schedule:
        return self.schedules[(slot.schedule.reference or "").removeprefix("Schedule/")]
