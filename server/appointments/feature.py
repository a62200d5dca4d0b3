"""What the appointments feature adds to the server: its JSON routes and the daily roll of
the slots' window."""

from __future__ import annotations

from server.appointments import routes
from server.appointments.demo import seed_appointments
from server.appointments.sweep import ROLL_SECONDS, roll_window
from server.features import Feature, every

FEATURE = Feature(
    name="appointments",
    routers=(routes.router,),
    sweeps=(every(ROLL_SECONDS, roll_window),),
    demo=(seed_appointments,),
)
