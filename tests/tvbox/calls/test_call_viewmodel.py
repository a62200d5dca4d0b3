"""The call view-model: one press to queue, spoken confirmations, ringing, auto-answer,
media callbacks, busy boxes and a link that is down."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from protocol import (
    CallAccept,
    CallAnswer,
    CallDecline,
    CallEnded,
    CallEndReason,
    CallHangUp,
    CallKind,
    CallOffer,
    CallQueued,
    CallRinging,
    CallRole,
    CallStart,
    ConsultRequest,
    Error,
    ErrorCode,
    FamilyCallRequest,
    FamilyCallRinging,
    Message,
)
from tests.support.viewmodels import RecordingSpeaker
from tests.support.waiting import async_wait_until
from tvbox.box import AppViewModel, Screen
from tvbox.calls.controller import CallPhase
from tvbox.events import LinkState, LinkStateChanged, ServerMessage
from tvbox.ui.keys import RemoteAction as A

STEP = 5.0


class RecordingMedia:
    """The media seam: records what the view-model asks, lets the test play the media side."""

    def __init__(self) -> None:
        self.started: list[CallStart] = []
        self.remote: list[tuple[str, str]] = []
        self.stops = 0
        self.callbacks: dict[str, Callable[..., None]] = {}

    def start(self, start: CallStart, on_local_sdp: Any, on_connected: Any, on_lost: Any) -> None:
        self.started.append(start)
        self.callbacks = {"sdp": on_local_sdp, "connected": on_connected, "lost": on_lost}

    def remote_description(self, kind: str, sdp: str) -> None:
        self.remote.append((kind, sdp))

    def stop(self) -> None:
        self.stops += 1

    def stats(self) -> dict[str, Any]:
        return {"stops": self.stops}


@pytest.fixture
def sent(paired_vm: AppViewModel) -> list[Message]:
    out: list[Message] = []

    async def send_live(message: Message) -> bool:
        out.append(message)
        return True

    paired_vm.send_live = send_live
    return out


@pytest.fixture
def media(paired_vm: AppViewModel) -> RecordingMedia:
    fake = RecordingMedia()
    paired_vm.call.media = fake
    return fake


def push(vm: AppViewModel, message: Message) -> None:
    vm.handle_link_event(ServerMessage(message))


async def until(predicate: Callable[[], Any]) -> None:
    await async_wait_until(predicate, STEP, "condition")


def start(call_id: int, kind: CallKind = CallKind.CONSULT) -> CallStart:
    return CallStart(
        call_id=call_id, kind=kind, role=CallRole.ANSWERER, peer_name="Dr Zhang", elder_id=1
    )


async def test_one_press_queues_and_back_cancels_after_confirmation(
    paired_vm: AppViewModel, speaker: RecordingSpeaker, sent: list[Message]
) -> None:
    paired_vm.handle(A.OK)  # "See a doctor" is the first tile
    assert paired_vm.screen is Screen.CALL and paired_vm.call.phase is CallPhase.REQUESTING
    assert "Calling a doctor" in speaker.last
    await until(lambda: sent)
    assert isinstance(sent[0], ConsultRequest)
    push(paired_vm, CallQueued(call_id=5, position=2, expected_wait_s=600))
    assert "number 2 in the queue" in speaker.last and "10 minutes" in speaker.last
    push(paired_vm, CallQueued(call_id=5, position=1, expected_wait_s=120))
    assert "number 1" in speaker.last  # the place is updated live and spoken
    paired_vm.handle(A.BACK)
    assert paired_vm.call.phase is CallPhase.CONFIRM_CANCEL and "Stop calling" in speaker.last
    paired_vm.handle(A.BACK)  # keep waiting
    assert paired_vm.call.phase is CallPhase.QUEUED
    paired_vm.handle(A.BACK)
    paired_vm.handle(A.OK)
    await until(lambda: len(sent) == 2)
    assert sent[1] == CallHangUp(call_id=5, reason=CallEndReason.CANCELLED)
    assert paired_vm.screen is Screen.HOME and "stopped calling" in speaker.last


async def test_doctor_joins_call_starts_by_itself_and_hang_up_asks_first(
    paired_vm: AppViewModel, speaker: RecordingSpeaker, sent: list[Message], media: RecordingMedia
) -> None:
    paired_vm.request_consult()  # the voice feature's hook
    push(paired_vm, CallQueued(call_id=7, position=1, expected_wait_s=60))
    push(paired_vm, start(7))
    assert paired_vm.call.phase is CallPhase.CONNECTING and media.started[0].call_id == 7
    push(paired_vm, CallOffer(call_id=7, sdp="v=0 offer"))
    assert media.remote == [("offer", "v=0 offer")]
    media.callbacks["sdp"]("answer", "v=0 answer")
    media.callbacks["connected"]()
    assert paired_vm.call.phase is CallPhase.IN_CALL and "Dr Zhang" in speaker.last
    assert paired_vm.call.view().video
    paired_vm.handle(A.HOME)  # Home during a call asks too
    assert paired_vm.call.phase is CallPhase.CONFIRM_HANG_UP and "Hang up?" in speaker.last
    paired_vm.handle(A.BACK)
    assert paired_vm.call.phase is CallPhase.IN_CALL
    paired_vm.handle(A.BACK)
    paired_vm.handle(A.OK)
    await until(lambda: any(isinstance(m, CallHangUp) for m in sent))
    assert CallAnswer(call_id=7, sdp="v=0 answer") in sent
    assert media.stops >= 1 and paired_vm.screen is Screen.HOME
    assert "The call has ended" in speaker.last


async def test_remote_hang_up_and_lost_media_end_cleanly(
    paired_vm: AppViewModel, speaker: RecordingSpeaker, sent: list[Message], media: RecordingMedia
) -> None:
    paired_vm.request_consult()
    push(paired_vm, CallQueued(call_id=8, position=1, expected_wait_s=60))
    push(paired_vm, start(8))
    push(paired_vm, CallEnded(call_id=99, reason=CallEndReason.HUNG_UP))  # not ours: ignored
    assert paired_vm.call.phase is CallPhase.CONNECTING
    media.callbacks["lost"]("ice_failed")
    await until(lambda: any(isinstance(m, CallHangUp) for m in sent))
    hang_up = next(m for m in sent if isinstance(m, CallHangUp))
    assert hang_up.reason is CallEndReason.CONNECTION_LOST
    assert paired_vm.screen is Screen.HOME and "connection was lost" in speaker.last


async def test_a_page_closing_its_connection_first_still_ends_as_hung_up(
    paired_vm: AppViewModel, speaker: RecordingSpeaker, sent: list[Message], media: RecordingMedia
) -> None:
    """A page that hangs up closes its peer connection at once; the server's `call_ended`
    (the real reason) may arrive after the box notices. The box waits for it."""
    paired_vm.call.peer_closed_grace_s = 30.0  # the reason must win however slow the server
    paired_vm.request_consult()
    push(paired_vm, CallQueued(call_id=9, position=1, expected_wait_s=60))
    push(paired_vm, start(9))
    media.callbacks["connected"]()
    media.callbacks["lost"]("peer_closed")
    assert paired_vm.call.phase is CallPhase.IN_CALL  # not yet called lost
    push(paired_vm, CallEnded(call_id=9, reason=CallEndReason.HUNG_UP, by="doctor"))
    assert paired_vm.screen is Screen.HOME
    assert paired_vm.call.last_end is CallEndReason.HUNG_UP
    assert "connection was lost" not in speaker.last
    assert not any(isinstance(m, CallHangUp) for m in sent)

    # With no word from the server, the call is called lost after the grace period.
    paired_vm.call.peer_closed_grace_s = 0.2
    paired_vm.request_consult()
    push(paired_vm, CallQueued(call_id=10, position=1, expected_wait_s=60))
    push(paired_vm, start(10))
    media.callbacks["connected"]()
    media.callbacks["lost"]("peer_closed")
    await until(lambda: paired_vm.call.last_end is CallEndReason.CONNECTION_LOST)
    hang_up = next(m for m in sent if isinstance(m, CallHangUp))
    assert hang_up == CallHangUp(call_id=10, reason=CallEndReason.CONNECTION_LOST)
    assert paired_vm.screen is Screen.HOME and "connection was lost" in speaker.last


async def test_family_call_rings_answers_declines_and_auto_answers(
    paired_vm: AppViewModel, speaker: RecordingSpeaker, sent: list[Message]
) -> None:
    push(paired_vm, CallRinging(call_id=3, kind=CallKind.FAMILY, caller_name="Li Na"))
    assert paired_vm.screen is Screen.CALL and "Li Na is calling" in speaker.last
    paired_vm.handle(A.BACK)
    await until(lambda: sent)
    assert sent[-1] == CallDecline(call_id=3) and paired_vm.screen is Screen.HOME

    push(paired_vm, CallRinging(call_id=4, kind=CallKind.FAMILY, caller_name="Li Na"))
    paired_vm.handle(A.OK)
    await until(lambda: CallAccept(call_id=4) in sent)
    push(paired_vm, CallEnded(call_id=4, reason=CallEndReason.HUNG_UP, by="caller"))
    assert paired_vm.screen is Screen.HOME

    push(
        paired_vm,
        CallRinging(
            call_id=6,
            kind=CallKind.FAMILY,
            caller_name="Li Na",
            auto_answer=True,
            auto_answer_after_s=1.0,
        ),
    )
    assert "Answering by itself in 1 seconds" in speaker.last
    await until(lambda: CallAccept(call_id=6) in sent)  # nobody pressed anything
    assert paired_vm.call.phase is CallPhase.CONNECTING


async def test_a_busy_box_declines_a_second_caller(
    paired_vm: AppViewModel, sent: list[Message]
) -> None:
    paired_vm.request_consult()
    push(paired_vm, CallQueued(call_id=1, position=1, expected_wait_s=60))
    push(paired_vm, CallRinging(call_id=2, kind=CallKind.FAMILY, caller_name="Li Na"))
    await until(lambda: CallDecline(call_id=2) in sent)
    assert paired_vm.call.phase is CallPhase.QUEUED and paired_vm.call.call_id == 1


async def test_offline_or_refused_request_says_so_and_goes_home(
    paired_vm: AppViewModel, speaker: RecordingSpeaker
) -> None:
    async def offline(message: Message) -> bool:
        return False

    paired_vm.send_live = offline
    paired_vm.request_consult()
    await until(lambda: paired_vm.screen is Screen.HOME)
    assert "could not be made" in speaker.last

    paired_vm.send_live = None
    paired_vm.request_consult()
    assert paired_vm.screen is Screen.HOME

    async def online(message: Message) -> bool:
        return True

    paired_vm.send_live = online
    paired_vm.request_consult()
    push(paired_vm, Error(code=ErrorCode.CONFLICT, message="no clinic", ref="consult"))
    assert paired_vm.screen is Screen.HOME and "could not be made" in speaker.last
    await until(lambda: not paired_vm.call._tasks)  # the fire-and-forget send finished


def online(vm: AppViewModel) -> None:
    vm.handle_link_event(LinkStateChanged(LinkState.ONLINE))


async def test_family_tile_calls_the_family_and_a_family_member_answers(
    paired_vm: AppViewModel, speaker: RecordingSpeaker, sent: list[Message], media: RecordingMedia
) -> None:
    online(paired_vm)
    paired_vm.handle(A.DIGIT_5)  # one press on the Family tile: no choices
    assert paired_vm.screen is Screen.CALL and paired_vm.call.phase is CallPhase.FAMILY_CALLING
    assert speaker.last.startswith("Calling your family…") and "Back: stop calling" in speaker.last
    view = paired_vm.call.view()
    assert view.title == "Calling your family…" and not view.video
    await until(lambda: sent)
    assert sent == [FamilyCallRequest(id="family")]
    push(paired_vm, FamilyCallRinging(call_id=8, rung=2, timeout_s=45))
    assert paired_vm.call.call_id == 8 and paired_vm.call.snapshot()["rung"] == 2

    # Li Na answers on her page: the call starts by itself, the same way as every call.
    push(paired_vm, start(8, CallKind.FAMILY).model_copy(update={"peer_name": "Li Na"}))
    assert paired_vm.call.phase is CallPhase.CONNECTING and "Connecting to Li Na" in speaker.last
    assert media.started[0].call_id == 8
    media.callbacks["connected"]()
    assert paired_vm.call.phase is CallPhase.IN_CALL
    assert speaker.last == "You are talking with Li Na."
    paired_vm.handle(A.BACK)
    paired_vm.handle(A.OK)
    await until(lambda: CallHangUp(call_id=8) in sent)
    assert paired_vm.screen is Screen.HOME and speaker.last == "The call has ended."


async def test_back_cancels_calling_the_family_after_a_spoken_confirmation(
    paired_vm: AppViewModel, speaker: RecordingSpeaker, sent: list[Message]
) -> None:
    online(paired_vm)
    paired_vm.call_family()
    push(paired_vm, FamilyCallRinging(call_id=9, rung=1, timeout_s=45))
    paired_vm.handle(A.BACK)
    assert paired_vm.call.phase is CallPhase.CONFIRM_CANCEL
    assert speaker.last.startswith("Stop calling your family?")
    assert paired_vm.call.view().title == "Stop calling your family?"
    paired_vm.handle(A.BACK)  # keep waiting
    assert paired_vm.call.phase is CallPhase.FAMILY_CALLING
    assert speaker.last.startswith("Calling your family")
    paired_vm.handle(A.BACK)
    paired_vm.handle(A.OK)
    await until(lambda: CallHangUp(call_id=9, reason=CallEndReason.CANCELLED) in sent)
    assert paired_vm.screen is Screen.HOME and speaker.last == "You stopped calling your family."
    assert paired_vm.call.snapshot()["last_end"] == "cancelled"


async def test_cancelled_before_the_server_answered_hangs_up_the_call_it_made(
    paired_vm: AppViewModel, sent: list[Message]
) -> None:
    online(paired_vm)
    paired_vm.call_family()
    paired_vm.handle(A.BACK)
    paired_vm.handle(A.OK)
    assert paired_vm.screen is Screen.HOME
    push(paired_vm, FamilyCallRinging(call_id=10, rung=1, timeout_s=45))
    await until(lambda: CallHangUp(call_id=10, reason=CallEndReason.CANCELLED) in sent)
    assert paired_vm.screen is Screen.HOME


async def test_nobody_answers_the_tv_says_the_family_was_told_and_goes_home(
    paired_vm: AppViewModel, speaker: RecordingSpeaker, sent: list[Message]
) -> None:
    online(paired_vm)
    paired_vm.call_family()
    push(paired_vm, FamilyCallRinging(call_id=11, rung=0, timeout_s=45))
    push(paired_vm, CallEnded(call_id=11, reason=CallEndReason.UNANSWERED))
    assert paired_vm.screen is Screen.HOME
    assert speaker.last == "Nobody answered. We have told your family."
    await until(lambda: not paired_vm.call._tasks)


async def test_family_call_offline_says_so_plainly_and_queues_nothing(
    paired_vm: AppViewModel, speaker: RecordingSpeaker, sent: list[Message]
) -> None:
    paired_vm.handle(A.DIGIT_5)  # the link is not up
    assert paired_vm.call.phase is CallPhase.FAMILY_INFO
    assert "not connected to the internet" in speaker.last and "try again" in speaker.last
    assert paired_vm.call.view().title == "The TV is not connected"
    assert not sent and not paired_vm.outbox.pending()  # nothing kept to ring later
    paired_vm.handle(A.OK)
    assert paired_vm.screen is Screen.HOME

    # Online, but the socket drops as the request goes out: the same plain message.
    online(paired_vm)

    async def dropped(message: Message) -> bool:
        return False

    paired_vm.send_live = dropped
    paired_vm.call_family()
    await until(lambda: paired_vm.call.phase is CallPhase.FAMILY_INFO)
    assert "not connected to the internet" in speaker.last

    # The link goes down while the family is being rung.
    paired_vm.handle(A.BACK)
    paired_vm.send_live = sent_to(sent)
    paired_vm.call_family()
    push(paired_vm, FamilyCallRinging(call_id=12, rung=1, timeout_s=45))
    paired_vm.handle_link_event(LinkStateChanged(LinkState.CONNECTING))
    assert paired_vm.call.phase is CallPhase.FAMILY_INFO and paired_vm.call.call_id is None
    assert "not connected to the internet" in speaker.last


async def test_nobody_linked_is_said_and_a_busy_box_is_refused(
    paired_vm: AppViewModel, speaker: RecordingSpeaker, sent: list[Message]
) -> None:
    online(paired_vm)
    paired_vm.call_family()
    push(paired_vm, Error(code=ErrorCode.NOT_FOUND, message="nobody linked", ref="family"))
    assert paired_vm.call.phase is CallPhase.FAMILY_INFO
    assert "Nobody in your family has linked this TV" in speaker.last
    paired_vm.handle(A.BACK)
    assert paired_vm.screen is Screen.HOME

    paired_vm.call_family()
    push(paired_vm, Error(code=ErrorCode.CONFLICT, message="busy", ref="family"))
    assert paired_vm.screen is Screen.HOME and "could not be made" in speaker.last

    # While calling the family, someone calling in gets "busy".
    paired_vm.call_family()
    push(paired_vm, FamilyCallRinging(call_id=13, rung=1, timeout_s=45))
    push(paired_vm, CallRinging(call_id=14, kind=CallKind.FAMILY, caller_name="Li Na"))
    await until(lambda: CallDecline(call_id=14) in sent)
    assert paired_vm.call.phase is CallPhase.FAMILY_CALLING and paired_vm.call.call_id == 13


def sent_to(out: list[Message]) -> Callable[[Message], Any]:
    async def send_live(message: Message) -> bool:
        out.append(message)
        return True

    return send_live
