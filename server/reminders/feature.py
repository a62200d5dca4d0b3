"""What the reminders feature adds to the server."""

from __future__ import annotations

from protocol import DoseAnswer, MedPlansRequest
from server.features import Feature, Section, every
from server.reminders import pages, record, routes
from server.reminders.socket import dose_answer, plans_on_connect, plans_request
from server.reminders.sweep import SWEEP_SECONDS, missed_dose_sweep

FEATURE = Feature(
    name="reminders",
    routers=(routes.router, pages.router),
    box_handlers={DoseAnswer: dose_answer, MedPlansRequest: plans_request},
    on_box_connected=(plans_on_connect,),
    sweeps=(every(SWEEP_SECONDS, missed_dose_sweep),),
    sections=(
        Section("family", pages.TEMPLATE, 20, pages.family_section, title="home.panel_medicines"),
        Section("family", "reminders/_urgent.html", 20, pages.family_urgent, place="urgent"),
        Section("family", "reminders/_glance.html", 20, pages.family_glance, place="glance"),
        Section("record", record.TEMPLATE, 10, record.record_section),
    ),
)
