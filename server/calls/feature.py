"""What the calls feature adds to the server: consults, family calls, SOS calls."""

from __future__ import annotations

from protocol import (
    CallAccept,
    CallAnswer,
    CallDecline,
    CallHangUp,
    CallIce,
    CallInvite,
    CallJoin,
    CallOffer,
    ConsultNotes,
    ConsultRequest,
    FamilyCallRequest,
    QueueSubscribe,
)
from server.calls import elder_call, pages, record, routes, signaling
from server.features import Feature, Section, every

FEATURE = Feature(
    name="calls",
    routers=(routes.router, pages.router),
    box_handlers={
        ConsultRequest: signaling.consult_request,
        FamilyCallRequest: elder_call.family_call,
        CallAccept: signaling.box_accept,
        CallDecline: signaling.box_decline,
        CallHangUp: signaling.hang_up,
        CallOffer: signaling.relay,
        CallAnswer: signaling.relay,
        CallIce: signaling.relay,
    },
    web_handlers={
        QueueSubscribe: signaling.queue_subscribe,
        CallJoin: signaling.join,
        CallInvite: signaling.invite,
        ConsultNotes: signaling.notes,
        CallAccept: elder_call.answer,
        CallDecline: elder_call.decline_call,
        CallHangUp: signaling.hang_up,
        CallOffer: signaling.relay,
        CallAnswer: signaling.relay,
        CallIce: signaling.relay,
    },
    on_box_disconnected=(elder_call.box_gone,),
    sweeps=(every(15.0, elder_call.stale_ring_sweep),),
    sections=(
        Section("family", "calls/_family.html", 30, pages.family_section, title="home.panel_calls"),
        Section("family", "calls/_urgent.html", 30, pages.family_urgent, place="urgent"),
        Section("doctor", "calls/_doctor.html", 10, pages.doctor_section),
        Section("record", record.TEMPLATE, 30, record.record_section),
    ),
)
