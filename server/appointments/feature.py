"""What the appointments feature adds to the server: its JSON routes and the daily roll of
the slots' window."""

from __future__ import annotations

from protocol import ApptBook, ApptCancel, ApptHold, ApptOptionsRequest
from server.appointments import routes, socket
from server.appointments.demo import seed_appointments
from server.appointments.sweep import ROLL_SECONDS, roll_window
from server.appointments.tv import visits_on_connect
from server.features import Feature, every

FEATURE = Feature(
    name="appointments",
    routers=(routes.router,),
    box_handlers={
        ApptOptionsRequest: socket.options_request,
        ApptHold: socket.hold,
        ApptBook: socket.book,
        ApptCancel: socket.cancel,
    },
    on_box_connected=(visits_on_connect,),
    sweeps=(every(ROLL_SECONDS, roll_window),),
    demo=(seed_appointments,),
)
