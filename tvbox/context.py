"""The one small interface between the box's features and the app around them.

A feature's controller is built with a `BoxContext` and uses nothing else of the app:
it speaks, shows screens, sends messages (durable through the outbox, or live on the
socket) and reads the time and a little read-only state. The app (`tvbox.box`) is the
only implementation; tests build the real one over a real store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from protocol import ElderInfo, Lang, Message, SosSource
from tvbox.events import LinkState
from tvbox.outbox import Outbox
from tvbox.router import Screen
from tvbox.speech import Priority
from tvbox.store import BoxStore

# call_later(delay_s, fn) -> cancel(): a timer on the app's loop (tests pass a fake one).
CallLater = Callable[[float, Callable[[], None]], Callable[[], None]]
# A live send: the socket's `send_now` (True if it went out); None before a link exists.
SendLive = Callable[[Message], Awaitable[bool]]


def utc_now() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


def loop_call_later(delay: float, fn: Callable[[], None]) -> Callable[[], None]:
    """Run ``fn`` after ``delay`` seconds on the running asyncio loop; returns a canceller."""
    return asyncio.get_running_loop().call_later(delay, fn).cancel


class Clock:
    """The box's one clock: wall time (aware UTC) and timers on the app's loop."""

    def __init__(
        self, now: Callable[[], datetime] = utc_now, call_later: CallLater = loop_call_later
    ) -> None:
        self._now = now
        self._call_later = call_later

    def now(self) -> datetime:
        """The current time, aware UTC."""
        return self._now()

    def call_later(self, delay: float, fn: Callable[[], None]) -> Callable[[], None]:
        """Run `fn` after `delay` seconds; returns a function that cancels it."""
        return self._call_later(delay, fn)


class BoxContext(Protocol):
    """What a feature's controller may ask of the app."""

    clock: Clock
    send_live: SendLive | None

    @property
    def lang(self) -> Lang:
        """The UI language."""

    @property
    def paired(self) -> bool:
        """Whether this box holds a device token."""

    @property
    def elder(self) -> ElderInfo | None:
        """The elder this box serves (None while unpaired)."""

    @property
    def link_state(self) -> LinkState:
        """The state of the server link."""

    @property
    def screen(self) -> Screen:
        """The screen shown now."""

    @property
    def base_screen(self) -> Screen:
        """Where Back and Home lead: home once paired, pairing before."""

    @property
    def in_call(self) -> bool:
        """Whether the TV is ringing or in a call (nothing else may take the screen)."""

    def say(self, words: str, priority: Priority = Priority.NORMAL, *, cut: bool = False) -> None:
        """Speak `words` in the UI language; `cut` first silences what is being said."""

    def prompt(self) -> str:
        """The spoken prompt of the current screen."""

    def show(
        self, screen: Screen, priority: Priority | None = Priority.NORMAL, *, reset: bool = False
    ) -> None:
        """Show `screen` and say its prompt at `priority` (None: show it silently); `reset`
        shows it afresh (focus on its first item)."""

    def go_home(self) -> None:
        """Back to the base screen, saying where we are."""

    def leave_with(self, message: str) -> None:
        """Say how something ended (a call) and go to the base screen, or to a reminder
        that came due meanwhile."""

    def repeat_prompt(self) -> None:
        """Say the current screen's prompt (again)."""

    def changed(self) -> None:
        """Tell the window (and other subscribers) that state changed."""

    def send_durable(self, message: Message) -> None:
        """Queue a message in the outbox: sent until the server acks its key."""


class FeatureHost(BoxContext, Protocol):
    """What a feature's `build` gets to make its controllers (`tvbox.features`): the app's
    interface, plus what some controllers are made with and the app's hooks they call."""

    store: BoxStore
    outbox: Outbox
    # The calls feature's media (a `tvbox.calls.controller.CallMediaPort`, or None in tests
    # without media); Any here, so that the shared interface names no feature.
    call_media: Any
    sos_cancel_seconds: float
    sos_ask_seconds: float
    check_in_answer_seconds: float

    def wake_outbox(self) -> None:
        """Tell the link something was queued in the outbox."""

    def raise_sos(self, source: SosSource = SosSource.RED_KEY, detail: str = "") -> None:
        """Call for help (the SOS feature's hook; the home tile and voice use it)."""

    def request_consult(self) -> None:
        """Ask for a doctor now (the calls feature's hook)."""

    def call_family(self) -> None:
        """Call the family now (the calls feature's hook)."""

    def coming_soon(self, label_key: str) -> None:
        """Say and show that what was chosen does not work on this TV yet."""
