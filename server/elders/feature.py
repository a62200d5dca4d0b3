"""What the elders feature adds to the server: the elder API, the speech form, the box's
language change, the register, and the doctor's elder list and record."""

from __future__ import annotations

from protocol import BoxSettings
from server.elders import admin_pages, doctor_pages, pages, routes
from server.elders.socket import box_settings
from server.features import Feature

FEATURE = Feature(
    name="elders",
    routers=(routes.router, pages.router, admin_pages.router, doctor_pages.router),
    box_handlers={BoxSettings: box_settings},
)
