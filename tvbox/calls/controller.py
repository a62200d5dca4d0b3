"""Video calls on the TV: one press to see a doctor or to call the family, the queue,
ringing, the call itself.

No Kivy, no aiortc: the view-model sends protocol messages through `send` (fire and
forget; the app wires it to the link's live socket) and drives media through the
`CallMediaPort` seam (`tvbox.calls.call_media.BoxCallMedia` on a real box). Phases::

    IDLE -> REQUESTING -> QUEUED <-> CONFIRM_CANCEL            (Back, then OK, cancels)
                                \\-> CONNECTING -> IN_CALL <-> CONFIRM_HANG_UP
    IDLE -> RINGING (OK answers, Back declines, or auto-answer) -> CONNECTING -> ...
    IDLE -> FAMILY_CALLING <-> CONFIRM_CANCEL                 (the elder calls the family)
                \\-> CONNECTING (a family member answered) -> IN_CALL ...
                \\-> IDLE (nobody answered: "we have told your family")
    IDLE -> FAMILY_INFO (not connected, or nobody linked: said and shown; OK/Back home)
    any  -> IDLE on call_ended / media lost (the TV says so and goes home)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

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
    CallStart,
    ConsultRequest,
    Error,
    ErrorCode,
    FamilyCallRequest,
    FamilyCallRinging,
    Lang,
    Message,
)
from tvbox.context import BoxContext, FeatureHost
from tvbox.events import LinkState, LinkStateChanged
from tvbox.router import Controller, Screen
from tvbox.speech import Priority
from tvbox.ui.i18n import text
from tvbox.ui.keys import RemoteAction

log = logging.getLogger(__name__)

# The messages the box's call feature receives from the server.
CALL_PUSHES: tuple[type[Message], ...] = (
    CallQueued,
    CallRinging,
    CallStart,
    CallOffer,
    CallAnswer,
    CallEnded,
    FamilyCallRinging,
)


class CallPhase(Enum):
    """Where the TV is in a call."""

    IDLE = "idle"
    REQUESTING = "requesting"
    QUEUED = "queued"
    CONFIRM_CANCEL = "confirm_cancel"
    RINGING = "ringing"
    CONNECTING = "connecting"
    IN_CALL = "in_call"
    CONFIRM_HANG_UP = "confirm_hang_up"
    FAMILY_CALLING = "family_calling"  # the elder is calling the family; waiting for an answer
    FAMILY_INFO = "family_info"  # why the family cannot be called now (offline, nobody linked)


class CallMediaPort(Protocol):
    """What the view-model needs from the media layer (implemented by `BoxCallMedia`)."""

    def start(
        self,
        start: CallStart,
        on_local_sdp: Callable[[str, str], None],
        on_connected: Callable[[], None],
        on_lost: Callable[[str], None],
    ) -> None:
        """Open local media and a peer connection for `start` (non-blocking)."""

    def remote_description(self, kind: str, sdp: str) -> None:
        """Apply the peer's offer or answer."""

    def stop(self) -> None:
        """Hang up the media side (non-blocking)."""

    def stats(self) -> dict[str, Any]:
        """Frame counters and timings for tests and the local API."""


@dataclass(frozen=True)
class CallView:
    """What the call screen shows, already translated."""

    phase: CallPhase
    title: str
    body: str
    hint: str
    peer: str
    video: bool
    confirm: bool


class CallViewModel(Controller):
    """The box's side of consults and family calls (the call screen's controller)."""

    screens = (Screen.CALL,)
    # After the other side closes its connection, how long to wait for the server to say why
    # (a hang-up) before ending the call as lost.
    peer_closed_grace_s = 3.0

    def __init__(self, host: BoxContext, media: CallMediaPort | None = None) -> None:
        self.host = host
        self.media = media
        self.phase = CallPhase.IDLE
        self.call_id: int | None = None
        self.kind: CallKind | None = None
        self.peer = ""
        self.visit_id: int | None = None  # a booked video visit the doctor opened
        self.position: int | None = None
        self.wait_s: int | None = None
        self.auto_answer = False
        self.auto_answer_after_s = 5.0
        self.last_end: CallEndReason | None = None
        # The elder placed this call (Family tile / "call my family").
        self.outgoing = False
        self.rung: int | None = None
        self.info = "call.offline"  # catalog prefix of the FAMILY_INFO screen
        self._auto_timer: Callable[[], None] | None = None
        self._lost_timer: Callable[[], None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- state -------------------------------------------------------------

    @property
    def lang(self) -> Lang:
        """The UI language."""
        return self.host.lang

    @property
    def active(self) -> bool:
        """Whether a call (or request) is in progress."""
        return self.phase not in (CallPhase.IDLE, CallPhase.FAMILY_INFO)

    @property
    def in_call(self) -> bool:
        """Whether the TV is ringing or in a call (nothing else may take the screen)."""
        return self.phase in (
            CallPhase.RINGING,
            CallPhase.CONNECTING,
            CallPhase.IN_CALL,
            CallPhase.CONFIRM_HANG_UP,
        )

    def snapshot(self) -> dict[str, Any]:
        """State for the local API and tests."""
        return {
            "phase": self.phase.value,
            "call_id": self.call_id,
            "kind": None if self.kind is None else self.kind.value,
            "peer": self.peer,
            "position": self.position,
            "expected_wait_s": self.wait_s,
            "auto_answer": self.auto_answer,
            "outgoing": self.outgoing,
            "rung": self.rung,
            "last_end": None if self.last_end is None else self.last_end.value,
            "media": self.media.stats() if self.media is not None else {},
        }

    def _t(self, key: str, **fields: object) -> str:
        return text(self.lang, key, **fields)

    def _minutes(self) -> int:
        return max(1, round((self.wait_s or 0) / 60))

    def view(self) -> CallView:
        """The translated call screen."""
        p = self.phase
        title, body, hint = "", "", ""
        if p is CallPhase.REQUESTING:
            title, body, hint = (
                self._t("call.doctor_title"),
                self._t("call.requesting"),
                self._t("call.hint_cancel"),
            )
        elif p is CallPhase.QUEUED:
            title = self._t("call.doctor_title")
            body = self._t("call.queue", position=self.position or 1, minutes=self._minutes())
            hint = self._t("call.hint_cancel")
        elif p is CallPhase.FAMILY_CALLING:
            title, body, hint = (
                self._t("call.family_calling_title"),
                self._t("call.family_calling_body"),
                self._t("call.hint_cancel"),
            )
        elif p is CallPhase.CONFIRM_CANCEL:
            title, body, hint = (
                self._t("call.family_cancel_title" if self.outgoing else "call.cancel_title"),
                self._t("call.cancel_body"),
                self._t("call.hint_confirm"),
            )
        elif p is CallPhase.RINGING:
            title = self._t(
                "call.visit_ready_title" if self.visit_id else "call.ringing_title",
                name=self.peer,
            )
            body = (
                self._t("call.auto_answer", seconds=round(self.auto_answer_after_s))
                if self.auto_answer
                else self._t("call.visit_ready_body" if self.visit_id else "call.ringing_body")
            )
            hint = self._t("call.hint_answer")
        elif p is CallPhase.CONNECTING:
            title, body, hint = (
                self._t("call.connecting", name=self.peer),
                "",
                self._t("call.hint_hang_up"),
            )
        elif p is CallPhase.IN_CALL:
            title, hint = self.peer, self._t("call.hint_hang_up")
        elif p is CallPhase.CONFIRM_HANG_UP:
            title, body, hint = (
                self._t("call.hang_up_title"),
                "",
                self._t("call.hint_confirm_hang_up"),
            )
        elif p is CallPhase.FAMILY_INFO:
            title, body, hint = (
                self._t(f"{self.info}_title"),
                self._t(f"{self.info}_body"),
                self._t("notice.hint"),
            )
        return CallView(
            phase=p,
            title=title,
            body=body,
            hint=hint,
            peer=self.peer,
            video=p in (CallPhase.IN_CALL, CallPhase.CONFIRM_HANG_UP, CallPhase.CONNECTING),
            confirm=p in (CallPhase.CONFIRM_CANCEL, CallPhase.CONFIRM_HANG_UP),
        )

    def prompt(self, screen: Screen = Screen.CALL) -> str:
        """What is said when the call screen changes."""
        view = self.view()
        if self.phase is CallPhase.IN_CALL:
            return self._t("call.connected", name=self.peer)
        if self.phase is CallPhase.CONFIRM_HANG_UP:
            return self._t("call.hang_up_spoken")
        return " ".join(part for part in (view.title, view.body, view.hint) if part)

    # -- actions (also hooks for the voice feature) -------------------------

    def request_consult(self) -> None:
        """One press on "See a doctor": send the request and show the queue."""
        if self.active:
            self.host.show(Screen.CALL)
            return
        self._reset()
        self.kind = CallKind.CONSULT
        self.phase = CallPhase.REQUESTING
        self.host.show(Screen.CALL)
        self._send(ConsultRequest(id="consult"))

    def call_family(self) -> None:
        """One press on the Family tile (or "call my family"): ring every linked family member.

        Offline, nothing is queued for later (a call that rings an hour late is worse than
        none): the TV says it is not connected and that trying again later will work."""
        if self.active:
            self.host.show(Screen.CALL)
            return
        self._reset()
        if self.host.send_live is None or self.host.link_state is not LinkState.ONLINE:
            self._show_info("call.offline")
            return
        self.kind = CallKind.FAMILY
        self.outgoing = True
        self.phase = CallPhase.FAMILY_CALLING
        self.host.show(Screen.CALL)
        self._send(FamilyCallRequest(id="family"))

    def link_changed(self, state: LinkState) -> None:
        """The link went down while the family was being rung: no answer can reach us now."""
        if state is not LinkState.ONLINE and self._waiting_for_family():
            self._fail_offline()

    def _waiting_for_family(self) -> bool:
        return self.outgoing and self.phase in (CallPhase.FAMILY_CALLING, CallPhase.CONFIRM_CANCEL)

    def _fail_offline(self) -> None:
        # The server ends a call it made by its ring timeout (the family hears of it).
        self._reset()
        self.call_id = None
        self.last_end = CallEndReason.FAILED
        self._show_info("call.offline")

    def _show_info(self, prefix: str) -> None:
        self.info = prefix
        self.phase = CallPhase.FAMILY_INFO
        self.host.show(Screen.CALL)

    def hang_up(self) -> None:
        """End the current call or request at once (no confirmation: voice/explicit hook)."""
        if self.call_id is None or not self.active:
            # Not yet acknowledged by the server: a call it makes later is hung up on arrival.
            if self.phase in (
                CallPhase.REQUESTING,
                CallPhase.FAMILY_CALLING,
                CallPhase.CONFIRM_CANCEL,
            ):
                self._finish(CallEndReason.CANCELLED)
            return
        reason = CallEndReason.HUNG_UP
        if self.phase in (CallPhase.QUEUED, CallPhase.CONFIRM_CANCEL, CallPhase.FAMILY_CALLING):
            reason = CallEndReason.CANCELLED
        self._send(CallHangUp(call_id=self.call_id, reason=reason))
        self._finish(reason)

    def answer(self) -> None:
        """Answer a ringing call."""
        if self.phase is not CallPhase.RINGING or self.call_id is None:
            return
        self._cancel_auto_answer()
        self.phase = CallPhase.CONNECTING
        self._send(CallAccept(call_id=self.call_id))
        self._announce()

    def decline(self) -> None:
        """Decline a ringing call."""
        if self.phase is not CallPhase.RINGING or self.call_id is None:
            return
        self._send(CallDecline(call_id=self.call_id))
        self._finish(CallEndReason.DECLINED)

    # -- the router's hooks ----------------------------------------------------

    def handle_key(self, screen: Screen, action: RemoteAction) -> bool:
        """Every key but Green on the call screen; Home/Yellow act like Back (they ask)."""
        if action is RemoteAction.GREEN:
            return False
        if action in (RemoteAction.HOME, RemoteAction.YELLOW):
            action = RemoteAction.BACK
        self.handle_call_key(action)
        return True

    def handlers(self) -> dict[type, Callable[[Any], None]]:
        """The call pushes, errors about calls, and the link going up or down."""
        handlers: dict[type, Callable[[Any], None]] = dict.fromkeys(CALL_PUSHES, self.on_push)
        handlers[Error] = self.on_error
        handlers[LinkStateChanged] = lambda event: self.link_changed(event.state)
        return handlers

    def handle_call_key(self, action: RemoteAction) -> None:
        """Remote keys on the call screen: OK confirms/answers, Back asks or declines."""
        p = self.phase
        ok, back = action is RemoteAction.OK, action is RemoteAction.BACK
        if p in (CallPhase.REQUESTING, CallPhase.QUEUED, CallPhase.FAMILY_CALLING) and back:
            self.phase = CallPhase.CONFIRM_CANCEL
            self._announce()
        elif p is CallPhase.CONFIRM_CANCEL:
            if ok:
                self.hang_up()
            elif back:
                if self.outgoing:
                    self.phase = CallPhase.FAMILY_CALLING
                elif self.call_id is not None:
                    self.phase = CallPhase.QUEUED
                else:
                    self.phase = CallPhase.REQUESTING
                self._announce()
        elif p is CallPhase.RINGING:
            if ok:
                self.answer()
            elif back:
                self.decline()
        elif p in (CallPhase.CONNECTING, CallPhase.IN_CALL) and back:
            self.phase = CallPhase.CONFIRM_HANG_UP
            self._announce()
        elif p is CallPhase.CONFIRM_HANG_UP:
            if ok:
                self.hang_up()
            elif back:
                self.phase = CallPhase.IN_CALL
                self._announce()
        elif p is CallPhase.FAMILY_INFO and (ok or back):
            self.phase = CallPhase.IDLE
            self.host.go_home()
        elif p is CallPhase.IDLE and (ok or back):
            self.host.go_home()

    # -- server pushes -------------------------------------------------------

    def on_push(self, message: Message) -> None:
        """Handle one call message pushed by the server."""
        if isinstance(message, CallQueued):
            self._queued(message)
        elif isinstance(message, CallRinging):
            self._ringing(message)
        elif isinstance(message, FamilyCallRinging):
            self._family_rung(message)
        elif isinstance(message, CallStart):
            self._started(message)
        elif isinstance(message, CallOffer | CallAnswer):
            if message.call_id == self.call_id and self.media is not None:
                kind = "offer" if isinstance(message, CallOffer) else "answer"
                self.media.remote_description(kind, message.sdp)
        elif isinstance(message, CallEnded):
            if message.call_id == self.call_id:
                self._finish(message.reason, remote=True)
        self.host.changed()

    def on_error(self, error: Error) -> None:
        """A refused request (e.g. no clinic, nobody linked): tell the elder."""
        if error.ref == "consult" and self.phase is CallPhase.REQUESTING:
            self._finish(CallEndReason.FAILED)
            self.host.changed()
        elif error.ref == "family" and self._waiting_for_family() and self.call_id is None:
            if error.code is ErrorCode.NOT_FOUND:
                self._reset()
                self.phase = CallPhase.IDLE
                self._show_info("call.family_none")
            else:
                self._finish(CallEndReason.FAILED)
            self.host.changed()

    def _family_rung(self, message: FamilyCallRinging) -> None:
        if not self._waiting_for_family() or self.call_id is not None:
            # Cancelled before the server's answer came: end the call it has just made.
            self._send(CallHangUp(call_id=message.call_id, reason=CallEndReason.CANCELLED))
            return
        self.call_id = message.call_id
        self.rung = message.rung

    def _queued(self, message: CallQueued) -> None:
        if self.phase not in (CallPhase.REQUESTING, CallPhase.QUEUED, CallPhase.CONFIRM_CANCEL):
            return
        moved = message.position != self.position or self.call_id != message.call_id
        self.call_id = message.call_id
        self.position = message.position
        self.wait_s = message.expected_wait_s
        if self.phase is CallPhase.REQUESTING:
            self.phase = CallPhase.QUEUED
        if moved and self.phase is CallPhase.QUEUED:
            self._announce()

    def _ringing(self, message: CallRinging) -> None:
        if self.active:
            # Busy: the elder is already in a call or waiting for a doctor.
            self._send(CallDecline(call_id=message.call_id))
            return
        self._reset()
        self.call_id = message.call_id
        self.kind = message.kind
        self.peer = message.caller_name
        self.visit_id = message.visit_id
        self.auto_answer = message.auto_answer
        self.auto_answer_after_s = message.auto_answer_after_s
        self.phase = CallPhase.RINGING
        self.host.show(Screen.CALL, None)
        self.host.say(self.prompt(), Priority.HIGH, cut=True)
        if self.auto_answer:
            with contextlib.suppress(RuntimeError):  # no loop: plain tests answer by hand
                after = self.auto_answer_after_s
                self._auto_timer = self.host.clock.call_later(after, self._auto_answer)

    def _auto_answer(self) -> None:
        self._auto_timer = None
        if self.phase is CallPhase.RINGING:
            self.answer()
            self.host.changed()

    def _started(self, message: CallStart) -> None:
        if message.call_id != self.call_id and self.phase is not CallPhase.REQUESTING:
            return
        self.call_id = message.call_id
        self.kind = message.kind
        self.peer = message.peer_name
        self.phase = CallPhase.CONNECTING
        self.host.show(Screen.CALL, None)
        self._announce()
        if self.media is not None:
            call_id = message.call_id
            self.media.start(
                message,
                on_local_sdp=lambda kind, sdp: self._local_sdp(call_id, kind, sdp),
                on_connected=lambda: self._connected(call_id),
                on_lost=lambda why: self._media_lost(call_id, why),
            )

    # -- media callbacks -------------------------------------------------------

    def _local_sdp(self, call_id: int, kind: str, sdp: str) -> None:
        if call_id != self.call_id:
            return
        message = CallOffer if kind == "offer" else CallAnswer
        self._send(message(call_id=call_id, sdp=sdp))

    def _connected(self, call_id: int) -> None:
        if call_id == self.call_id and self.phase is CallPhase.CONNECTING:
            self.phase = CallPhase.IN_CALL
            self._announce()
            self.host.changed()

    def _media_lost(self, call_id: int, why: str) -> None:
        if call_id != self.call_id or not self.active:
            return
        if why == "peer_closed" and self._lost_timer is None:
            # The other side closed its connection: that is how a hang-up from a page arrives
            # first, ahead of the server's `call_ended`, which carries the real reason. Wait a
            # little for it before calling the call lost.
            self._lost_timer = self.host.clock.call_later(
                self.peer_closed_grace_s, lambda: self._peer_closed_timeout(call_id)
            )
            return
        self._end_lost(call_id, why)

    def _peer_closed_timeout(self, call_id: int) -> None:
        self._lost_timer = None
        if call_id == self.call_id and self.active:
            self._end_lost(call_id, "peer_closed")

    def _end_lost(self, call_id: int, why: str) -> None:
        log.warning("call %s media lost: %s", call_id, why)
        # aiortc cannot restart ICE: end cleanly and tell the other side why.
        self._send(CallHangUp(call_id=call_id, reason=CallEndReason.CONNECTION_LOST))
        self._finish(CallEndReason.CONNECTION_LOST)
        self.host.changed()

    # -- ending ------------------------------------------------------------------

    def _finish(self, reason: CallEndReason, remote: bool = False) -> None:
        self._cancel_auto_answer()
        if self.media is not None:
            self.media.stop()
        was_ringing = self.phase is CallPhase.RINGING
        calling_family = self._waiting_for_family()
        self.last_end = reason
        self.phase = CallPhase.IDLE
        self.call_id = None
        self.position = None
        key = {
            CallEndReason.CANCELLED: "call.ended_cancelled",
            CallEndReason.DECLINED: "call.ended_declined",
            CallEndReason.CONNECTION_LOST: "call.ended_lost",
            CallEndReason.FAILED: "call.ended_failed",
            CallEndReason.UNANSWERED: "call.ended_missed",
        }.get(reason, "call.ended")
        if was_ringing and remote and reason is CallEndReason.HUNG_UP:
            key = "call.ended_missed"
        if calling_family:
            key = {
                CallEndReason.CANCELLED: "call.family_cancelled",
                CallEndReason.UNANSWERED: "call.family_unanswered",
            }.get(reason, key)
        self.outgoing = False
        self.host.leave_with(self._t(key))

    def _reset(self) -> None:
        self._cancel_auto_answer()
        self.call_id = None
        self.kind = None
        self.peer = ""
        self.visit_id = None
        self.position = None
        self.wait_s = None
        self.auto_answer = False
        self.outgoing = False
        self.rung = None

    def _cancel_auto_answer(self) -> None:
        if self._auto_timer is not None:
            self._auto_timer()
            self._auto_timer = None
        if self._lost_timer is not None:
            self._lost_timer()
            self._lost_timer = None

    def _announce(self) -> None:
        self.host.say(self.prompt(), Priority.HIGH, cut=True)

    def _send(self, message: Message) -> None:
        sender = self.host.send_live
        if sender is None:
            log.warning("no live link; %s not sent", message.type)
            if isinstance(message, ConsultRequest):
                self._finish(CallEndReason.FAILED)
            elif isinstance(message, FamilyCallRequest) and self._waiting_for_family():
                self._fail_offline()
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            log.warning("no event loop; %s not sent", message.type)
            return

        async def deliver() -> bool:
            return await sender(message)

        task = loop.create_task(deliver())
        self._tasks.add(task)
        task.add_done_callback(lambda t: self._sent(t, message))

    def _sent(self, task: asyncio.Task[Any], message: Message) -> None:
        self._tasks.discard(task)
        if task.cancelled() or task.exception() is not None or task.result():
            return
        # The link is down: a request or answer that cannot go ends the attempt.
        if isinstance(message, FamilyCallRequest) and self._waiting_for_family():
            self._fail_offline()
            self.host.changed()
        elif isinstance(message, ConsultRequest | CallAccept | CallAnswer) and self.active:
            self._finish(CallEndReason.FAILED)
            self.host.changed()


def build(host: FeatureHost) -> tuple[Controller, ...]:
    """The calls feature's controller (see `tvbox.features`)."""
    return (CallViewModel(host, host.call_media),)
