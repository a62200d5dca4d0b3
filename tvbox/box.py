"""The box as a whole: the features' controllers, the router between them, and the app
state every feature reads (link state, elder, language).

`AppViewModel` is the composition: it builds each feature's view-model and controller,
hands them itself as their `BoxContext`, and lists them for the `Router`. Keys go to
`handle`, link events and server pushes to `handle_link_event`; after every change the
subscribers (the Kivy window, voice) are told. The hooks below (`raise_sos`,
`request_consult`, `answer_reminder`…) are what voice commands, the local API and tests
use; each forwards to its feature's controller.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from protocol import (
    SPEECH_RATE_WPM_DEFAULT,
    SPEECH_VOLUME_PCT_DEFAULT,
    ElderInfo,
    Lang,
    Message,
    SosSource,
)
from tvbox.appointments.controller import AppointmentsController
from tvbox.calls.controller import CallMediaPort, CallViewModel
from tvbox.context import Clock, SendLive
from tvbox.events import (
    ElderChanged,
    LinkEvent,
    LinkState,
    LinkStateChanged,
    OutboxAcked,
    PairedWithElder,
    ServerMessage,
    Unpaired,
    Welcomed,
)
from tvbox.features import FEATURES
from tvbox.home.controller import HomeController
from tvbox.home.view import Tile
from tvbox.link.controller import PairingController
from tvbox.listening.controller import VoiceViewModel
from tvbox.meals.controller import MealsController
from tvbox.notice.controller import NoticeController
from tvbox.notice.view import NoticeKind
from tvbox.outbox import Outbox
from tvbox.reminders.controller import ReminderController
from tvbox.reminders.view import Choice
from tvbox.router import Controller, Router, Screen
from tvbox.settings.controller import SettingsController
from tvbox.sos.check_in import ANSWER_SECONDS, CheckInController
from tvbox.sos.controller import SOS_ASK_SECONDS, SosController
from tvbox.speech import Priority, SpeechSink
from tvbox.store import BoxStore
from tvbox.ui.i18n import text
from tvbox.ui.keys import RemoteAction

__all__ = ["AppViewModel", "BadgeView", "Screen"]
C = TypeVar("C", bound=Controller)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BadgeView:
    """The always-visible connection badge."""

    state: LinkState
    label: str


class AppViewModel:
    """State and behaviour of the whole box, free of Kivy and of the network."""

    def __init__(
        self,
        store: BoxStore,
        outbox: Outbox,
        speaker: SpeechSink,
        default_lang: Lang = Lang.ZH,
        *,
        clock: Clock | None = None,
        send_live: SendLive | None = None,
        on_outbox_added: Callable[[], None] | None = None,
        call_media: CallMediaPort | None = None,
        sos_cancel_seconds: float = 10.0,
        check_in_answer_seconds: float = ANSWER_SECONDS,
        sos_ask_seconds: float = SOS_ASK_SECONDS,
    ) -> None:
        self.store = store
        self.outbox = outbox
        self.speaker = speaker
        self.default_lang = default_lang
        self.clock = clock or Clock()
        # The link's `send_now`: live messages (call signaling) that make no sense later.
        # Anything that must arrive goes through the outbox (`send_durable`) instead.
        self.send_live = send_live
        # The link's `outbox_changed`: wakes its pump when something was queued.
        self.on_outbox_added = on_outbox_added
        self.elder: ElderInfo | None = store.elder
        self.link_state = LinkState.OFFLINE
        self.sos_ask_seconds = sos_ask_seconds
        self._subscribers: list[Callable[[], None]] = []

        self.call_media = call_media
        self.sos_cancel_seconds = sos_cancel_seconds
        self.check_in_answer_seconds = check_in_answer_seconds

        # Every listed feature's controllers, built with this box as their host, in the
        # order of the list (the order they are offered keys and messages).
        controllers = [c for f in FEATURES if f.build is not None for c in f.build(self)]
        self.router = Router(controllers, Screen.HOME if self.paired else Screen.PAIRING)
        # The first features' controllers and views by name, for the hooks below, the
        # window, the local API and tests.
        self.call = _one(controllers, CallViewModel)
        self.check_in_control = _one(controllers, CheckInController)
        self.sos_control = _one(controllers, SosController)
        self.reminder_control = _one(controllers, ReminderController)
        self.home_control = _one(controllers, HomeController)
        self.settings_control = _one(controllers, SettingsController)
        self.notice_control = _one(controllers, NoticeController)
        self.pairing_control = _one(controllers, PairingController)
        self.appointments_control = _one(controllers, AppointmentsController)
        self.meals_control = _one(controllers, MealsController)
        self.sos = self.sos_control.sos
        self.reminders = self.reminder_control.reminders
        self.home = self.home_control.home
        self.settings = self.settings_control.settings
        self.notice = self.notice_control.notice
        self.pairing = self.pairing_control.pairing
        self._apply_speech()
        # Voice commands; tvbox/listening/voice_control.py runs the recognizer and calls in here.
        self.voice = VoiceViewModel(self)

    # -- state every feature reads (the BoxContext) -----------------------

    @property
    def screen(self) -> Screen:
        """The screen shown now."""
        return self.router.screen

    @screen.setter
    def screen(self, screen: Screen) -> None:
        self.router.screen = screen

    @property
    def paired(self) -> bool:
        """Whether this box holds a device token."""
        return self.store.device_token is not None

    @property
    def lang(self) -> Lang:
        """UI language: the elder's choice on this TV, else the elder record's, else the default."""
        chosen = self.store.ui_lang
        if chosen is not None:
            return chosen
        if self.elder is not None:
            return self.elder.lang
        return self.default_lang

    @property
    def base_screen(self) -> Screen:
        """Where Back and Home lead: home once paired, pairing before."""
        return Screen.HOME if self.paired else Screen.PAIRING

    @property
    def in_call(self) -> bool:
        """Whether the TV is ringing or in a call (nothing else may take the screen)."""
        return self.call.in_call

    @property
    def last_activity(self) -> datetime | None:
        """When the elder last used the remote or spoke (for the daily check-in)."""
        return self.check_in_control.last_activity

    def badge(self) -> BadgeView:
        """The connection badge in the current language."""
        key = {
            LinkState.ONLINE: "link.online",
            LinkState.OFFLINE: "link.offline",
            LinkState.CONNECTING: "link.connecting",
            LinkState.PAIRING: "link.pairing",
        }[self.link_state]
        return BadgeView(self.link_state, text(self.lang, key))

    def focus_name(self) -> str | None:
        """A name for the focused item on the current screen (for tests and the local API)."""
        return self.router.focus_name()

    def snapshot(self) -> dict[str, Any]:
        """The state as JSON-able data (served by the local API)."""
        return {
            "screen": self.screen.value,
            "focus": self.focus_name(),
            "link_state": self.link_state.value,
            "pairing_code": self.pairing.code,
            "pairing_title": self.pairing.view(self.lang, server_reachable=True).title,
            "lang": self.lang.value,
            "paired": self.paired,
            "elder": None if self.elder is None else self.elder.model_dump(mode="json"),
            "notice": self.notice.kind.value if self.screen is Screen.NOTICE else None,
            "outbox_pending": len(self.outbox.pending()),
            "call": self.call.snapshot(),
            "reminder": [
                {
                    "plan_id": d.slot.plan_id,
                    "local": d.slot.local.isoformat(),
                    "medicine": d.plan.medicine,
                }
                for d in self.reminders.showing
            ],
            "medicines": [
                {"time": r.time, "medicine": r.medicine, "state": r.state}
                for r in self.reminders.today(self.lang, self.clock.now())
            ],
            "plans": sorted(self.reminders.plans),
            "sos": {
                "phase": self.sos.phase.value,
                "key": self.sos.key,
                "source": self.sos.source.value,
                "body": self.sos.body(self.lang),
                "acked_by": self.sos.acked_by,
                "seconds_left": self.sos.seconds_left,
            },
            "speech": {
                "rate_wpm": self.elder.speech_rate_wpm if self.elder else None,
                "volume_pct": self.elder.speech_volume_pct if self.elder else None,
            },
            "voice": self.voice.snapshot(),
            "appointments": self.appointments_control.snapshot(),
            "meals": self.meals_control.snapshot(),
        }

    def on_message(self, kind: type[Message], handler: Callable[[Any], None]) -> None:
        """Let code outside the listed features handle one kind of server push too."""
        self.router.add_handler(kind, handler)

    def subscribe(self, callback: Callable[[], None]) -> None:
        """Call `callback` after every change of state."""
        self._subscribers.append(callback)

    def changed(self) -> None:
        """Tell subscribers that state changed."""
        for callback in list(self._subscribers):
            callback()

    notify = changed  # the name voice glue and older callers use

    # -- speaking and showing (the BoxContext) --------------------------------

    def say(self, words: str, priority: Priority = Priority.NORMAL, *, cut: bool = False) -> None:
        """Speak `words` in the UI language; `cut` first silences what is being said."""
        if cut:
            self.speaker.stop()
        self.speaker.speak(words, self.lang.value, priority)

    def prompt(self) -> str:
        """The spoken prompt of the current screen."""
        return self.router.prompt()

    def repeat_prompt(self) -> None:
        """Say the current screen's prompt (again)."""
        self.say(self.prompt(), cut=True)

    def show(
        self, screen: Screen, priority: Priority | None = Priority.NORMAL, *, reset: bool = False
    ) -> None:
        """Show `screen` and say its prompt at `priority` (None: show it silently)."""
        if reset:
            self.router.owner(screen).reset(screen)
        self.router.screen = screen
        if priority is not None:
            self.say(self.prompt(), priority, cut=True)

    def go_home(self) -> None:
        """Back to home (or to pairing while unpaired)."""
        self.show(self.base_screen)

    def leave_with(self, message: str) -> None:
        """Say how the call ended and go home (or to a dose that came due meanwhile)."""
        self.show(self.base_screen, None)
        self.say(message, Priority.HIGH, cut=True)
        self.reminder_control.show_after_call()

    def show_notice(self, kind: NoticeKind, title_key: str, body_text: str) -> None:
        """Put up a notice whose words were already said."""
        self.notice_control.show_silently(kind, title_key, body_text)

    def send_durable(self, message: Message) -> None:
        """Queue `message` in the outbox (sent until acked by key) and wake the link."""
        self.outbox.add(message)
        self.wake_outbox()

    def wake_outbox(self) -> None:
        """Tell the link something was queued in the outbox."""
        if self.on_outbox_added is not None:
            self.on_outbox_added()

    def start(self) -> None:
        """Announce the first screen (or a dose that came due while the box was off)."""
        if not self.check_reminders():
            self.repeat_prompt()
        self.check_in_control.schedule_check_in()
        self.changed()

    # -- remote keys and link events --------------------------------------------

    def handle(self, action: RemoteAction) -> None:
        """React to one remote key. Nothing here ever quits the app."""
        self.router.dispatch_key(
            action,
            {
                RemoteAction.HOME: self.go_home,
                RemoteAction.YELLOW: self.go_home,
                RemoteAction.GREEN: self.repeat_prompt,
            },
        )
        self.changed()

    def handle_link_event(self, event: LinkEvent) -> None:
        """React to what the server link reports."""
        if isinstance(event, LinkStateChanged):
            self.link_state = event.state
        elif isinstance(event, PairedWithElder | ElderChanged):
            self._set_elder(event.elder)
        elif isinstance(event, Welcomed) and event.elder is not None:
            self._set_elder(event.elder)
        elif isinstance(event, Unpaired):
            self.default_lang = self.lang  # keep speaking the language the elder was using
            self.elder = None
        elif isinstance(event, OutboxAcked):
            log.info("outbox item %s acked (duplicate=%s)", event.key, event.duplicate)
        self.router.dispatch(event.message if isinstance(event, ServerMessage) else event)
        self.changed()

    def _set_elder(self, elder: ElderInfo) -> None:
        """A new elder record: their time zone and how the TV speaks to them follow it."""
        self.elder = elder
        for controller in self.router.controllers:
            controller.elder_changed(elder)
        self._apply_speech()

    def _apply_speech(self) -> None:
        """Speak at the elder's rate and volume (set by the family for poor hearing)."""
        elder = self.elder
        rate = elder.speech_rate_wpm if elder else SPEECH_RATE_WPM_DEFAULT
        volume = elder.speech_volume_pct if elder else SPEECH_VOLUME_PCT_DEFAULT
        self.speaker.set_voice(rate=rate, volume=volume / 100)

    # -- hooks (voice commands, local API, tests): each forwards to its feature ---------

    def activate(self, tile: Tile) -> None:
        """Open a home tile."""
        self.home_control.activate(tile)

    def request_consult(self) -> None:
        """Ask for a doctor now (the "See a doctor" tile, or a spoken request)."""
        self.call.request_consult()
        self.changed()

    def hang_up(self) -> None:
        """End the current call or consult request without asking."""
        self.call.hang_up()
        self.changed()

    def call_family(self) -> None:
        """Call the family now (the "Family" tile, or "call my family" said)."""
        self.call.call_family()
        self.changed()

    def raise_sos(self, source: SosSource = SosSource.RED_KEY, detail: str = "") -> None:
        """Call for help (see `SosController.raise_sos`)."""
        self.sos_control.raise_sos(source, detail)

    def coming_soon(self, label_key: str) -> None:
        """Say and show that what was chosen does not work on this TV yet."""
        self.notice_control.coming_soon(label_key)

    def cancel_pending_sos(self) -> bool:
        """Cancel an SOS still in its cancel window; True if one was."""
        return self.sos_control.cancel_pending_sos()

    def hear_maybe_sos(self, detail: str) -> bool:
        """A cry for help heard once: ask before calling; heard while asking, call."""
        return self.sos_control.hear_maybe_sos(detail)

    def answer_sos_ask(self, help_wanted: bool, by_key: bool = False) -> bool:
        """The answer to "Do you need help?"; True if the box was asking."""
        return self.sos_control.answer_sos_ask(help_wanted, by_key)

    def note_activity(self) -> None:
        """The elder used the remote or spoke (counts for the daily check-in)."""
        self.check_in_control.note_activity()

    def answer_check_in(self) -> bool:
        """The elder answered "Are you all right?"."""
        return self.check_in_control.answer_check_in()

    def open_settings(self) -> None:
        """Show the language settings, focused on the current language."""
        self.settings_control.open_settings()

    def choose_lang(self, lang: Lang) -> None:
        """Store the elder's language choice and queue it for the server."""
        self.settings_control.choose_lang(lang)

    def check_reminders(self) -> bool:
        """Show doses that are due now; True if one appeared."""
        return self.reminder_control.check_reminders()

    def repeat_reminder_if_due(self) -> None:
        """Say the reminder again if it has waited 5 minutes unanswered."""
        self.reminder_control.repeat_reminder_if_due()

    def answer_reminder(self, choice: Choice) -> None:
        """Answer the reminder on screen for every medicine on it."""
        self.reminder_control.answer_reminder(choice)

    def answer_current_reminder(self, taken: bool) -> bool:
        """Voice hook: "I took it" (True) or "not now" (False); False if none shown."""
        return self.reminder_control.answer_current_reminder(taken)

    def next_medicine_summary(self) -> str:
        """Voice hook: today's doses taken so far and the next dose, as one sentence."""
        return self.reminder_control.next_medicine_summary()


def _one(controllers: list[Controller], kind: type[C]) -> C:
    """The one controller of type ``kind`` among ``controllers``."""
    found = [c for c in controllers if isinstance(c, kind)]
    if len(found) != 1:
        raise ValueError(f"{len(found)} controllers of type {kind.__name__}")
    return found[0]
