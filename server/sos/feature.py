"""What the SOS feature adds to the server."""

from __future__ import annotations

from protocol import SosRaise
from server.features import Feature, Section, every
from server.sos import pages, record, routes
from server.sos.check_in import rule_on_connect
from server.sos.delivery import sos_sweep
from server.sos.socket import box_sos

BOARD = "sos/_board.html"

FEATURE = Feature(
    name="sos",
    routers=(routes.router, pages.router),
    box_handlers={SosRaise: box_sos},
    on_box_connected=(rule_on_connect,),
    sweeps=(every(1.0, sos_sweep),),
    sections=(
        Section("operator", BOARD, 5, pages.operator_board),
        Section("family", BOARD, 40, pages.family_board, title="home.panel_sos"),
        Section("family", "sos/_urgent.html", 5, pages.family_urgent, place="urgent"),
        Section("record", record.TEMPLATE, 20, record.record_section),
    ),
)
