"""SOS on the box: the red key, the cancel window, and "Do you need help?".

`SosController` owns the SOS screen. The red key (and the SOS tile) sends at once; a
sensor, voice or check-in SOS gets a spoken cancel window first. Every SOS goes through
the outbox with an idempotency key, so it is delivered whatever the link does; the screen
says whether it went and who answered. The daily check-in (`check_in.CheckInController`)
asks on the same screen and sends through `send`. No Kivy.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from protocol import SosAcknowledged, SosRaise, SosResolved, SosSource
from tvbox.context import BoxContext
from tvbox.events import LinkState, LinkStateChanged, OutboxAcked
from tvbox.outbox import new_key
from tvbox.router import Controller, Screen
from tvbox.sos.view import SosPhase, SosViewModel
from tvbox.speech import Priority
from tvbox.ui.i18n import text
from tvbox.ui.keys import RemoteAction

log = logging.getLogger(__name__)

# Keys that answer "Do you need help?" (OK: yes; Back, Home, Yellow: no; Green: say it again).
ASK_KEYS = frozenset(
    {RemoteAction.OK, RemoteAction.BACK, RemoteAction.HOME, RemoteAction.YELLOW, RemoteAction.GREEN}
)
# How long the box waits for an answer to "Do you need help?" (the question takes ~8 s).
SOS_ASK_SECONDS = 30.0


class SosController(Controller):
    """The SOS screen and its timer (the cancel window, or a question waiting for an answer)."""

    screens = (Screen.SOS,)

    def __init__(
        self, ctx: BoxContext, sos: SosViewModel, *, ask_seconds: float = SOS_ASK_SECONDS
    ) -> None:
        self.ctx = ctx
        self.sos = sos
        self.ask_seconds = ask_seconds
        self._timer: Callable[[], None] | None = None

    # -- the router's hooks ------------------------------------------------

    def prompt(self, screen: Screen) -> str:
        return self.sos.prompt(self.ctx.lang)

    def global_keys(self) -> dict[RemoteAction, Callable[[], None]]:
        return {RemoteAction.RED: lambda: self.raise_sos(SosSource.RED_KEY)}

    def intercept(self, screen: Screen, action: RemoteAction) -> bool:
        """The keys of "Do you need help?" answer it, whatever else they would do."""
        if self.sos.phase is SosPhase.ASK and screen is Screen.SOS and action in ASK_KEYS:
            if action is RemoteAction.GREEN:
                self.ctx.repeat_prompt()
            else:
                self.answer_sos_ask(action is RemoteAction.OK, by_key=True)
            return True
        return False

    def handle_key(self, screen: Screen, action: RemoteAction) -> bool:
        """OK sends at once and Back cancels in the cancel window; Back leaves a sent SOS."""
        if action not in (RemoteAction.BACK, RemoteAction.OK):
            return False
        if self.sos.phase is SosPhase.COUNTDOWN:
            if action is RemoteAction.BACK:
                self.cancel_pending_sos()
            else:
                self.send(self.sos.source, self.sos.detail)
        elif action is RemoteAction.BACK:
            self.ctx.go_home()  # the call stays under way; red key shows it again
        else:
            self.ctx.repeat_prompt()
        return True

    def handlers(self) -> dict[type, Callable[[Any], None]]:
        return {
            SosAcknowledged: self._acknowledged,
            SosResolved: self._resolved,
            LinkStateChanged: self._link_changed,
            OutboxAcked: self._outbox_acked,
        }

    # -- SOS -------------------------------------------------------------

    def raise_sos(self, source: SosSource = SosSource.RED_KEY, detail: str = "") -> None:
        """Call for help: the red key and SOS tile send at once; other sources get a
        cancel window first. While a call is under way, this only shows where it stands."""
        if self.sos.phase is SosPhase.COUNTDOWN and source is SosSource.RED_KEY:
            self.send(self.sos.source, self.sos.detail)
        elif self.sos.active:
            self.ctx.show(Screen.SOS, Priority.URGENT)
        elif source is SosSource.RED_KEY:
            self.send(source, detail)
        else:
            self.stop_timer()  # a check-in or "Do you need help?" answered by a cry
            self.sos.start_countdown(source, detail)
            self.ctx.show(Screen.SOS, Priority.URGENT)
            self._timer = self.ctx.clock.call_later(1.0, self._tick)
        self.ctx.changed()

    def cancel_pending_sos(self) -> bool:
        """Cancel an SOS still in its cancel window (Back, or "no" by voice); True if one was."""
        if self.sos.phase is not SosPhase.COUNTDOWN:
            return False
        self.stop_timer()
        self.sos.reset()
        self.ctx.show(self.ctx.base_screen, None)
        self.ctx.say(text(self.ctx.lang, "help.cancelled"), Priority.URGENT, cut=True)
        self.ctx.changed()
        return True

    def _tick(self) -> None:
        if self.sos.phase is not SosPhase.COUNTDOWN:
            return
        self.sos.seconds_left -= 1
        if self.sos.seconds_left <= 0:
            self.send(self.sos.source, self.sos.detail)
        else:
            self._timer = self.ctx.clock.call_later(1.0, self._tick)
        self.ctx.changed()

    def start_timer(self, delay: float, fn: Callable[[], None]) -> None:
        """Run `fn` after `delay` seconds unless the SOS moves on first (one timer at a time)."""
        self._timer = self.ctx.clock.call_later(delay, fn)

    def timer_fired(self) -> None:
        """The timer's function runs: there is no timer to cancel any more."""
        self._timer = None

    def stop_timer(self) -> None:
        """Cancel the timer, if one is set."""
        if self._timer is not None:
            self._timer()
            self._timer = None

    def send(self, source: SosSource, detail: str) -> None:
        """Store the SOS in the outbox (sent with retries until acked) and say so."""
        self.stop_timer()
        raised = SosRaise(key=new_key(), source=source, detail=detail[:200])
        self.sos.sending(raised.key, source, detail)
        self.sos.online = self.ctx.link_state is LinkState.ONLINE
        self.ctx.send_durable(raised)
        self.ctx.show(Screen.SOS, Priority.URGENT)
        self.ctx.changed()

    # -- "Do you need help?": a cry for help heard once ----------------------

    def hear_maybe_sos(self, detail: str) -> bool:
        """A cry for help heard once: ask before calling; heard while asking, call."""
        phase = self.sos.phase
        if phase in (SosPhase.ASK, SosPhase.CHECK_IN):
            # The box asked "Do you need help?" or "Are you all right?" and heard a cry.
            self.raise_sos(SosSource.VOICE, detail)
            return True
        if phase not in (SosPhase.IDLE, SosPhase.ACKNOWLEDGED):
            return False  # help is already being called
        self.sos.ask(detail)
        self.ctx.show(Screen.SOS, Priority.URGENT)
        self._timer = self.ctx.clock.call_later(self.ask_seconds, self._ask_unanswered)
        self.ctx.changed()
        return True

    def answer_sos_ask(self, help_wanted: bool, by_key: bool = False) -> bool:
        """The answer to "Do you need help?"; True if the box was asking."""
        if self.sos.phase is not SosPhase.ASK:
            return False
        self.stop_timer()
        detail = self.sos.detail
        if help_wanted and by_key:
            self.send(SosSource.VOICE, f"{detail}, then OK")  # as OK in the cancel window
        elif help_wanted:
            self.raise_sos(SosSource.VOICE, f"{detail}, then yes")
        else:
            self._end_ask()
        return True

    def _ask_unanswered(self) -> None:
        self._timer = None
        if self.sos.phase is SosPhase.ASK:
            self._end_ask()

    def _end_ask(self) -> None:
        self.sos.reset()
        if self.ctx.screen is Screen.SOS:
            self.ctx.show(self.ctx.base_screen, None)
        self.ctx.say(text(self.ctx.lang, "help.ask_dismissed"), cut=True)
        self.ctx.changed()

    # -- what the server and the link say ------------------------------------

    def _acknowledged(self, message: SosAcknowledged) -> None:
        if self.sos.phase is SosPhase.ACKNOWLEDGED and (self.sos.key, self.sos.acked_by) == (
            message.key,
            message.by_name,
        ):
            return  # the server may tell twice (a sweep and a push crossing): say it once
        self.sos.acknowledged(message)
        self.ctx.show(Screen.SOS, Priority.URGENT)

    def _resolved(self, message: SosResolved) -> None:
        if self.sos.key not in (None, message.key):
            return  # an older alert; the current call is still under way
        self.sos.reset()
        if self.ctx.screen is Screen.SOS:
            self.ctx.go_home()

    def _link_changed(self, event: LinkStateChanged) -> None:
        was_online = self.sos.online
        self.sos.online = event.state is LinkState.ONLINE
        if self.sos.phase is SosPhase.SENDING and was_online and not self.sos.online:
            if self.ctx.screen is Screen.SOS:
                self.ctx.say(self.ctx.prompt(), Priority.URGENT, cut=True)

    def _outbox_acked(self, event: OutboxAcked) -> None:
        if event.key == self.sos.key and self.sos.phase is SosPhase.SENDING:
            self.sos.delivered()
            if self.ctx.screen is Screen.SOS:
                self.ctx.say(self.ctx.prompt(), Priority.URGENT, cut=True)
