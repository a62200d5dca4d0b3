"""Video calls: consult requests, the doctors' queue, ringing, SDP relay and hang-up.

Every call has a server-issued ``call_id``. Flow of a consultation::

    box   -> server  consult_request                -> box gets call_queued (position, wait)
    server -> doctors consult_queue (live, per clinic)
    doctor -> server  call_join(call_id)            -> one doctor wins; the others get CONFLICT
    server -> both    call_start(role, ice_servers) -> the doctor (offerer) sends call_offer
    box    -> server  call_answer                   -> relayed to the doctor
    either -> server  call_hang_up                  -> server sends call_ended to both

A family (or operator, after SOS) call: the page sends ``call_invite``; the box gets
``call_ringing`` (with ``auto_answer``), answers with ``call_accept`` or ``call_decline``;
then ``call_start`` as above.

The elder calls the family (the Family tile, or "call my family")::

    box    -> server  family_call_request           -> box gets family_call_ringing (call id)
    server -> family  call_incoming (every linked family member's open pages)
    family -> server  call_accept(call_id)          -> first wins: call_start to both sides,
                                                       call_picked_up to the other family pages
    family -> server  call_decline(call_id)         -> all rung declined = unanswered
    nobody within the ring timeout                  -> call_ended(unanswered) + missed-call e-mail

SDP is sent complete (no trickle: aiortc gathers first), but
``call_ice`` exists for peers that trickle. The server relays only between the call's parties.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import Field

from protocol.enums import Lang
from protocol.ids import RowId
from protocol.messages import Message, WireModel

MAX_SDP = 60_000


class CallKind(StrEnum):
    """What a call is for."""

    CONSULT = "consult"
    FAMILY = "family"


class CallRole(StrEnum):
    """Which side makes the SDP offer."""

    OFFERER = "offerer"
    ANSWERER = "answerer"


class CallEndReason(StrEnum):
    """Why a call ended, as both sides are told."""

    HUNG_UP = "hung_up"
    CANCELLED = "cancelled"
    DECLINED = "declined"
    UNANSWERED = "unanswered"
    CONNECTION_LOST = "connection_lost"
    FAILED = "failed"


class IceServer(WireModel):
    """One STUN/TURN server, spelled as the browser's `RTCIceServer`."""

    urls: list[str]
    username: str | None = None
    credential: str | None = None


class ConsultRequest(Message):
    """Box → server: the elder pressed "See a doctor"."""

    type: Literal["consult_request"] = "consult_request"


class CallQueued(Message):
    """Server → box: the request waits; sent again whenever the place in the queue changes."""

    type: Literal["call_queued"] = "call_queued"
    call_id: RowId
    position: int = Field(ge=1)
    expected_wait_s: int = Field(ge=0)


class QueueEntry(WireModel):
    """One waiting elder as the doctors' queue shows them."""

    call_id: RowId
    elder_id: RowId
    elder_name: str
    age: int | None = None
    lang: Lang
    summary: str = ""
    requested_at: datetime


class ConsultQueue(Message):
    """Server → doctors: the whole queue of their clinic, oldest first."""

    type: Literal["consult_queue"] = "consult_queue"
    entries: list[QueueEntry]


class QueueSubscribe(Message):
    """Doctor page → server: send me the current queue now (then on every change)."""

    type: Literal["queue_subscribe"] = "queue_subscribe"


class CallJoin(Message):
    """Doctor → server: I take this consult request."""

    type: Literal["call_join"] = "call_join"
    call_id: RowId


class CallInvite(Message):
    """Family/operator page → server: ring the elder's box.

    ``auto_answer`` asks the box to answer by itself after a short notice; it is honoured
    only when the elder's family enabled auto-answer (or for an SOS responder).
    """

    type: Literal["call_invite"] = "call_invite"
    elder_id: RowId
    auto_answer: bool = False


class CallRinging(Message):
    """Server → box: someone is calling; also tells the caller the call id."""

    type: Literal["call_ringing"] = "call_ringing"
    call_id: RowId
    kind: CallKind
    caller_name: str
    auto_answer: bool = False
    auto_answer_after_s: float = 5.0
    # The doctor opens a booked video visit (the TV says "Dr. Wang is ready for your
    # video visit"); None for every other call.
    visit_id: RowId | None = None


class FamilyCallRequest(Message):
    """Box → server: the elder pressed the Family tile (or said "call my family")."""

    type: Literal["family_call_request"] = "family_call_request"


class FamilyCallRinging(Message):
    """Server → box: the family is being rung; ``rung`` pages got the call (0: nobody online)."""

    type: Literal["family_call_ringing"] = "family_call_ringing"
    call_id: RowId
    rung: int = Field(ge=0)
    timeout_s: float = Field(gt=0)


class CallIncoming(Message):
    """Server → each linked family member's pages: the elder is calling."""

    type: Literal["call_incoming"] = "call_incoming"
    call_id: RowId
    elder_id: RowId
    elder_name: str
    timeout_s: float = Field(gt=0)


class CallPickedUp(Message):
    """Server → the family members rung: ``by`` answered this call (stop ringing)."""

    type: Literal["call_picked_up"] = "call_picked_up"
    call_id: RowId
    by: str = Field(max_length=120)


class CallAccept(Message):
    """Box → server: the elder answered (or a family page answers the elder's call)."""

    type: Literal["call_accept"] = "call_accept"
    call_id: RowId


class CallDecline(Message):
    """Box → server: the elder declined (or a family page declines the elder's call)."""

    type: Literal["call_decline"] = "call_decline"
    call_id: RowId


class CallStart(Message):
    """Server → each party: the call is on; ``offerer`` sends the offer."""

    type: Literal["call_start"] = "call_start"
    call_id: RowId
    kind: CallKind
    role: CallRole
    peer_name: str
    elder_id: RowId
    ice_servers: list[IceServer] = Field(default_factory=list)
    ice_transport_policy: Literal["all", "relay"] = "all"


class CallOffer(Message):
    """Offerer → server → answerer: complete SDP offer."""

    type: Literal["call_offer"] = "call_offer"
    call_id: RowId
    sdp: str = Field(min_length=1, max_length=MAX_SDP)


class CallAnswer(Message):
    """Answerer → server → offerer: complete SDP answer."""

    type: Literal["call_answer"] = "call_answer"
    call_id: RowId
    sdp: str = Field(min_length=1, max_length=MAX_SDP)


class CallIce(Message):
    """Either → server → the other: one trickled ICE candidate (empty = end of candidates)."""

    type: Literal["call_ice"] = "call_ice"
    call_id: RowId
    candidate: str = Field(default="", max_length=1024)
    sdp_mid: str | None = Field(default=None, max_length=64)


class CallHangUp(Message):
    """Either party → server: end (or cancel, or give up on) this call."""

    type: Literal["call_hang_up"] = "call_hang_up"
    call_id: RowId
    reason: CallEndReason = CallEndReason.HUNG_UP


class CallEnded(Message):
    """Server → every party: the call is over."""

    type: Literal["call_ended"] = "call_ended"
    call_id: RowId
    reason: CallEndReason
    by: str | None = Field(default=None, max_length=16)


class ConsultNotes(Message):
    """Doctor → server: the consult's notes and outcome (saved as its record)."""

    type: Literal["consult_notes"] = "consult_notes"
    call_id: RowId
    notes: str = Field(max_length=20_000)
    outcome: str | None = Field(default=None, max_length=200)


CALL_MESSAGES: tuple[type[Message], ...] = (
    ConsultRequest,
    CallQueued,
    ConsultQueue,
    QueueSubscribe,
    CallJoin,
    CallInvite,
    CallRinging,
    FamilyCallRequest,
    FamilyCallRinging,
    CallIncoming,
    CallPickedUp,
    CallAccept,
    CallDecline,
    CallStart,
    CallOffer,
    CallAnswer,
    CallIce,
    CallHangUp,
    CallEnded,
    ConsultNotes,
)
