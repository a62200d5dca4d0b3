"""What the appointments feature adds to the server: its JSON routes, its FHIR routes, the
family page's visits section, the booking pages (family and hotline), the clinic's pages, the
daily roll of the slots' window and the poll of clinics that run their own FHIR server."""

from __future__ import annotations

from protocol import ApptBook, ApptCancel, ApptHold, ApptOptionsRequest
from server.appointments import (
    clinic_pages,
    fhir_routes,
    pages,
    routes,
    socket,
    travel_pages,
    visit_routes,
)
from server.appointments.demo import seed_appointments
from server.appointments.fhir_sync import POLL_SECONDS, poll_clinics
from server.appointments.sweep import ROLL_SECONDS, roll_window
from server.appointments.tv import visits_on_connect
from server.features import Feature, Section, every

FEATURE = Feature(
    name="appointments",
    routers=(
        routes.router,
        visit_routes.router,
        fhir_routes.router,
        pages.router,
        clinic_pages.router,
        travel_pages.router,
    ),
    box_handlers={
        ApptOptionsRequest: socket.options_request,
        ApptHold: socket.hold,
        ApptBook: socket.book,
        ApptCancel: socket.cancel,
    },
    on_box_connected=(visits_on_connect,),
    sweeps=(every(ROLL_SECONDS, roll_window), every(POLL_SECONDS, poll_clinics)),
    sections=(
        Section(
            "family", pages.TEMPLATE, 30, pages.family_section, title="home.panel_appointments"
        ),
        Section("family", "appointments/_glance.html", 30, pages.family_glance, place="glance"),
        Section("operator", "appointments/_operator.html", 30, pages.operator_section),
        Section("doctor", "appointments/_doctor.html", 10, clinic_pages.doctor_section),
    ),
    demo=(seed_appointments,),
)
