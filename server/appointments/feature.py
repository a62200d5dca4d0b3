"""What the appointments feature adds to the server: its JSON routes, its FHIR routes, the
daily roll of the slots' window and the poll of clinics that run their own FHIR server."""

from __future__ import annotations

from server.appointments import fhir_routes, routes
from server.appointments.demo import seed_appointments
from server.appointments.fhir_sync import POLL_SECONDS, poll_clinics
from server.appointments.sweep import ROLL_SECONDS, roll_window
from server.features import Feature, every

FEATURE = Feature(
    name="appointments",
    routers=(routes.router, fhir_routes.router),
    sweeps=(every(ROLL_SECONDS, roll_window), every(POLL_SECONDS, poll_clinics)),
    demo=(seed_appointments,),
)
