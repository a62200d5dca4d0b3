"""The box as a whole: which screen is up, the link state, the language, and what keys do.

`AppViewModel` receives remote actions (from the key table) and link events (from
`ServerLink`), changes state, speaks prompts, and tells its subscribers that something
changed. The Kivy app is one such subscriber; it only reads state and forwards keys.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from protocol import (
    SPEECH_RATE_WPM_DEFAULT,
    SPEECH_VOLUME_PCT_DEFAULT,
    BoxSettings,
    CheckInRuleSet,
    ElderInfo,
    Error,
    Lang,
    MedPlans,
    MedPlansRequest,
    Message,
    SosAcknowledged,
    SosRaise,
    SosResolved,
    SosSource,
)
from tvbox.calls.controller import CALL_PUSHES, CallViewModel
from tvbox.home.view import HomeViewModel, Tile
from tvbox.link.events import (
    ElderChanged,
    LinkEvent,
    LinkState,
    LinkStateChanged,
    OutboxAcked,
    PairedWithElder,
    PairingCodeIssued,
    ServerMessage,
    Unpaired,
    Welcomed,
)
from tvbox.link.pairing import PairingViewModel
from tvbox.listening.controller import VoiceViewModel
from tvbox.notice.view import NoticeKind, NoticeViewModel
from tvbox.outbox import Outbox, new_key
from tvbox.reminders.store import ReminderStore
from tvbox.reminders.view import Choice, ReminderViewModel, utcnow
from tvbox.settings.view import SettingsViewModel
from tvbox.sos.check_in import ANSWER_SECONDS, active_today, next_due
from tvbox.sos.view import SosPhase, SosViewModel
from tvbox.speech import Priority, SpeechSink
from tvbox.store import BoxStore
from tvbox.ui.i18n import text
from tvbox.ui.keys import RemoteAction

log = logging.getLogger(__name__)

_ARROWS = {RemoteAction.UP, RemoteAction.DOWN, RemoteAction.LEFT, RemoteAction.RIGHT}
# Keys that answer "Do you need help?" (OK: yes; Back, Home, Yellow: no; Green: say it again).
_ASK_KEYS = {
    RemoteAction.OK,
    RemoteAction.BACK,
    RemoteAction.HOME,
    RemoteAction.YELLOW,
    RemoteAction.GREEN,
}
# How long the box waits for an answer to "Do you need help?" (the question takes ~8 s).
SOS_ASK_SECONDS = 30.0
# schedule(delay_s, fn) -> cancel(): timers for the SOS cancel window (tests pass a fake clock).
Schedule = Callable[[float, Callable[[], None]], Callable[[], None]]


def loop_schedule(delay: float, fn: Callable[[], None]) -> Callable[[], None]:
    """Run ``fn`` after ``delay`` seconds on the running asyncio loop; returns a canceller."""
    return asyncio.get_running_loop().call_later(delay, fn).cancel


class Screen(Enum):
    """The screens of the box."""

    PAIRING = "pairing"
    HOME = "home"
    SETTINGS = "settings"
    NOTICE = "notice"
    CALL = "call"
    SOS = "sos"
    REMINDER = "reminder"
    MEDICINES = "medicines"


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
        on_outbox_added: Callable[[], None] | None = None,
        sos_cancel_seconds: float = 10.0,
        schedule: Schedule = loop_schedule,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        check_in_answer_seconds: float = ANSWER_SECONDS,
        clock: Callable[[], datetime] = utcnow,
        sos_ask_seconds: float = SOS_ASK_SECONDS,
    ) -> None:
        self.store = store
        self.outbox = outbox
        self.speaker = speaker
        self.default_lang = default_lang
        self.on_outbox_added = on_outbox_added
        self.elder: ElderInfo | None = store.elder
        self.link_state = LinkState.OFFLINE
        self.home = HomeViewModel()
        self.pairing = PairingViewModel()
        self.settings = SettingsViewModel()
        self.notice = NoticeViewModel()
        self.sos = SosViewModel(sos_cancel_seconds)
        self.schedule = schedule
        self._sos_timer: Callable[[], None] | None = None
        self.now = now
        self.check_in_answer_seconds = check_in_answer_seconds
        self.sos_ask_seconds = sos_ask_seconds
        self.last_activity: datetime | None = None
        self._check_in_timer: Callable[[], None] | None = None
        self.clock = clock
        self.reminders = ReminderViewModel(
            ReminderStore(store), outbox, on_outbox_added=self._outbox_added
        )
        if self.elder is not None:
            self.reminders.timezone = self.elder.timezone
        self._apply_speech()
        # Set by the reminder clock: called when plans change so it can re-plan its jobs.
        self.on_plans_changed: Callable[[], None] | None = None
        self._under_reminder: Screen | None = None
        self._pending_sends: set[asyncio.Future[bool]] = set()
        self.screen = Screen.HOME if self.paired else Screen.PAIRING
        self._subscribers: list[Callable[[], None]] = []
        self._message_handlers: dict[type[Message], Callable[[Any], None]] = {}
        # Set by the app to the link's `send_now`: live messages (call signaling) that
        # make no sense later. Anything that must arrive goes through the outbox instead.
        self.send_live: Callable[[Message], Awaitable[bool]] | None = None
        # Video calls; the app sets `call.media` to the real media layer.
        self.call = CallViewModel(self)
        for kind in CALL_PUSHES:
            self.on_message(kind, self.call.on_push)
        self.on_message(Error, self.call.on_error)
        self.on_message(SosAcknowledged, self._sos_acknowledged)
        self.on_message(SosResolved, self._sos_resolved)
        self.on_message(CheckInRuleSet, self._check_in_rule)
        self.on_message(MedPlans, self._on_plans)
        # Voice commands; tvbox/listening/voice_control.py runs the recognizer and calls in here.
        self.voice = VoiceViewModel(self)

    # -- state -----------------------------------------------------------

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
        if self.screen is Screen.HOME:
            return self.home.focused.value
        if self.screen is Screen.SETTINGS:
            return self.settings.focused.value
        if self.screen is Screen.REMINDER:
            return self.reminders.focused.value
        return None

    def snapshot(self) -> dict[str, Any]:
        """The state as JSON-able data (served by the local API)."""
        return {
            "screen": self.screen.value,
            "focus": self.focus_name(),
            "link_state": self.link_state.value,
            "pairing_code": self.pairing.code,
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
                for r in self.reminders.today(self.lang, self.clock())
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
        }

    def on_message(self, kind: type[Message], handler: Callable[[Any], None]) -> None:
        """Let a feature handle one kind of message the server pushes to the box."""
        self._message_handlers[kind] = handler

    def subscribe(self, callback: Callable[[], None]) -> None:
        """Call `callback` after every change of state."""
        self._subscribers.append(callback)

    def _changed(self) -> None:
        for callback in list(self._subscribers):
            callback()

    # -- speech ----------------------------------------------------------

    def say(self, words: str, priority: Priority = Priority.NORMAL, *, cut: bool = False) -> None:
        """Speak `words` in the UI language; `cut` first silences what is being said."""
        if cut:
            self.speaker.stop()
        self.speaker.speak(words, self.lang.value, priority)

    def prompt(self) -> str:
        """The spoken prompt of the current screen."""
        lang = self.lang
        if self.screen is Screen.PAIRING:
            return self.pairing.prompt(lang)
        if self.screen is Screen.HOME:
            return self.home.prompt(lang)
        if self.screen is Screen.SETTINGS:
            return self.settings.prompt(lang)
        if self.screen is Screen.CALL:
            return self.call.prompt()
        if self.screen is Screen.SOS:
            return self.sos.prompt(lang)
        if self.screen is Screen.REMINDER:
            return self.reminders.prompt(lang)
        if self.screen is Screen.MEDICINES:
            return self.next_medicine_summary()
        return self.notice.prompt(lang)

    def repeat_prompt(self) -> None:
        """Say the current screen's prompt (again)."""
        self.say(self.prompt(), cut=True)

    def start(self) -> None:
        """Announce the first screen (or a dose that came due while the box was off)."""
        if not self.check_reminders():
            self.repeat_prompt()
        self._schedule_check_in()
        self._changed()

    # -- remote keys -----------------------------------------------------

    def handle(self, action: RemoteAction) -> None:
        """React to one remote key. Nothing here ever quits the app."""
        self.note_activity()
        if self.sos.phase is SosPhase.CHECK_IN and action is not RemoteAction.RED:
            self.answer_check_in()
        elif self.sos.phase is SosPhase.ASK and self.screen is Screen.SOS and action in _ASK_KEYS:
            if action is RemoteAction.GREEN:
                self.repeat_prompt()
            else:
                self.answer_sos_ask(action is RemoteAction.OK, by_key=True)
        elif self.screen is Screen.CALL and action is not RemoteAction.GREEN:
            # During a call Home/Yellow act like Back: they ask before hanging up.
            if action in (RemoteAction.HOME, RemoteAction.YELLOW):
                action = RemoteAction.BACK
            self.call.handle_key(action)
        elif self.screen is Screen.REMINDER and action is not RemoteAction.RED:
            self._handle_reminder(action)
        elif action is RemoteAction.RED:
            self.raise_sos(SosSource.RED_KEY)
        elif self.screen is Screen.SOS and action in (RemoteAction.BACK, RemoteAction.OK):
            self._handle_sos(action)
        elif action in (RemoteAction.HOME, RemoteAction.YELLOW):
            self.go_home()
        elif action is RemoteAction.BLUE:
            self.open_settings()
        elif action is RemoteAction.GREEN:
            self.repeat_prompt()
        elif self.screen is Screen.HOME:
            self._handle_home(action)
        elif self.screen is Screen.SETTINGS:
            self._handle_settings(action)
        elif self.screen in (Screen.NOTICE, Screen.MEDICINES):
            if action in (RemoteAction.OK, RemoteAction.BACK):
                self.go_home()
        elif self.screen is Screen.PAIRING:
            if action in (RemoteAction.OK, RemoteAction.BACK):
                self.repeat_prompt()
        self._changed()

    def _handle_home(self, action: RemoteAction) -> None:
        if action in _ARROWS:
            if self.home.move(action):
                self.say(text(self.lang, self.home.focused.label_key), Priority.LOW, cut=True)
        elif action is RemoteAction.OK:
            self.activate(self.home.focused)
        elif action is RemoteAction.BACK:
            self.repeat_prompt()  # already home: Back is safe and just says where we are
        elif action.digit is not None:
            tile = self.home.focus_number(action.digit)
            if tile is not None:
                self.activate(tile)

    def _handle_settings(self, action: RemoteAction) -> None:
        if action in _ARROWS:
            if self.settings.move(action):
                label = text(self.lang, f"lang.{self.settings.focused.value}")
                self.say(label, Priority.LOW, cut=True)
        elif action is RemoteAction.OK:
            self.choose_lang(self.settings.focused)
        elif action is RemoteAction.BACK:
            self.go_home()
        elif action.digit is not None:
            lang = self.settings.option_for_number(action.digit)
            if lang is not None:
                self.choose_lang(lang)

    # -- actions ---------------------------------------------------------

    def _show(self, screen: Screen) -> None:
        self.screen = screen
        self.repeat_prompt()

    def go_home(self) -> None:
        """Back to home (or to pairing while unpaired)."""
        self._show(self.base_screen)

    def activate(self, tile: Tile) -> None:
        """Open a home tile: SOS raises SOS, doctor and family open calls, others say "soon"."""
        if tile is Tile.SOS:
            self.raise_sos(SosSource.RED_KEY)
            return
        if tile is Tile.DOCTOR:
            self.request_consult()
            return
        if tile is Tile.FAMILY:
            self.call_family()
            return
        if tile is Tile.MEDICINES:
            self._show(Screen.MEDICINES)
            return
        self.notice.show(NoticeKind.COMING_SOON, tile.label_key)
        self._show(Screen.NOTICE)

    # -- calls (hooks for the voice feature too) ---------------------------

    def request_consult(self) -> None:
        """Ask for a doctor now (the "See a doctor" tile, or a spoken request)."""
        self.call.request_consult()
        self._changed()

    def hang_up(self) -> None:
        """End the current call or consult request without asking."""
        self.call.hang_up()
        self._changed()

    def call_family(self) -> None:
        """Call the family now (the "Family" tile, or "call my family" said)."""
        self.call.call_family()
        self._changed()

    def show_call(self, speak: bool = True) -> None:
        """Bring up the call screen (its prompt spoken unless `speak` is False)."""
        self.screen = Screen.CALL
        if speak:
            self.repeat_prompt()

    def end_call_screen(self, message: str) -> None:
        """Say how the call ended and go home."""
        self.screen = self.base_screen
        self.say(message, Priority.HIGH, cut=True)
        if self.reminders.showing:  # a dose came due during the call
            self._under_reminder = self.screen
            self.screen = Screen.REMINDER
            self.say(self.reminders.prompt(self.lang), Priority.URGENT)

    def notify(self) -> None:
        """Tell subscribers that state changed outside a key press or link event."""
        self._changed()

    # -- SOS -------------------------------------------------------------

    def raise_sos(self, source: SosSource = SosSource.RED_KEY, detail: str = "") -> None:
        """Call for help: the red key and SOS tile send at once; other sources get a
        cancel window first. While a call is under way, this only shows where it stands."""
        if self.sos.phase is SosPhase.COUNTDOWN and source is SosSource.RED_KEY:
            self._send_sos(self.sos.source, self.sos.detail)
        elif self.sos.active:
            self.screen = Screen.SOS
            self.say(self.prompt(), Priority.URGENT, cut=True)
        elif source is SosSource.RED_KEY:
            self._send_sos(source, detail)
        else:
            self._stop_sos_timer()  # a check-in or "Do you need help?" answered by a cry
            self.sos.start_countdown(source, detail)
            self.screen = Screen.SOS
            self.say(self.prompt(), Priority.URGENT, cut=True)
            self._sos_timer = self.schedule(1.0, self._sos_tick)
        self._changed()

    def cancel_pending_sos(self) -> bool:
        """Cancel an SOS still in its cancel window (Back, or "no" by voice); True if one was."""
        if self.sos.phase is not SosPhase.COUNTDOWN:
            return False
        self._stop_sos_timer()
        self.sos.reset()
        self.screen = self.base_screen
        self.say(text(self.lang, "help.cancelled"), Priority.URGENT, cut=True)
        self._changed()
        return True

    def _handle_sos(self, action: RemoteAction) -> None:
        if self.sos.phase is SosPhase.COUNTDOWN:
            if action is RemoteAction.BACK:
                self.cancel_pending_sos()
            else:
                self._send_sos(self.sos.source, self.sos.detail)
        elif action is RemoteAction.BACK:
            self.go_home()  # the call stays under way; red key shows it again
        else:
            self.repeat_prompt()

    def _sos_tick(self) -> None:
        if self.sos.phase is not SosPhase.COUNTDOWN:
            return
        self.sos.seconds_left -= 1
        if self.sos.seconds_left <= 0:
            self._send_sos(self.sos.source, self.sos.detail)
        else:
            self._sos_timer = self.schedule(1.0, self._sos_tick)
        self._changed()

    def _stop_sos_timer(self) -> None:
        if self._sos_timer is not None:
            self._sos_timer()
            self._sos_timer = None

    def _send_sos(self, source: SosSource, detail: str) -> None:
        """Store the SOS in the outbox (sent with retries until acked) and say so."""
        self._stop_sos_timer()
        raised = SosRaise(key=new_key(), source=source, detail=detail[:200])
        self.outbox.add(raised)
        self.sos.sending(raised.key, source, detail)
        self.sos.online = self.link_state is LinkState.ONLINE
        if self.on_outbox_added is not None:
            self.on_outbox_added()
        self.screen = Screen.SOS
        self.say(self.prompt(), Priority.URGENT, cut=True)
        self._changed()

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
        self.screen = Screen.SOS
        self.say(self.prompt(), Priority.URGENT, cut=True)
        self._sos_timer = self.schedule(self.sos_ask_seconds, self._sos_ask_unanswered)
        self._changed()
        return True

    def answer_sos_ask(self, help_wanted: bool, by_key: bool = False) -> bool:
        """The answer to "Do you need help?"; True if the box was asking."""
        if self.sos.phase is not SosPhase.ASK:
            return False
        self._stop_sos_timer()
        detail = self.sos.detail
        if help_wanted and by_key:
            self._send_sos(SosSource.VOICE, f"{detail}, then OK")  # as OK in the cancel window
        elif help_wanted:
            self.raise_sos(SosSource.VOICE, f"{detail}, then yes")
        else:
            self._end_sos_ask()
        return True

    def _sos_ask_unanswered(self) -> None:
        self._sos_timer = None
        if self.sos.phase is SosPhase.ASK:
            self._end_sos_ask()

    def _end_sos_ask(self) -> None:
        self.sos.reset()
        if self.screen is Screen.SOS:
            self.screen = self.base_screen
        self.say(text(self.lang, "help.ask_dismissed"), cut=True)
        self._changed()

    # -- daily check-in ----------------------------------------------------

    def note_activity(self) -> None:
        """The elder used the remote or spoke (the voice feature calls this too)."""
        self.last_activity = self.now()

    def answer_check_in(self) -> bool:
        """The elder answered "Are you all right?" (any key, or "yes" by voice)."""
        if self.sos.phase is not SosPhase.CHECK_IN:
            return False
        self._stop_sos_timer()
        self.sos.reset()
        self.screen = self.base_screen
        self.say(text(self.lang, "help.check_in_thanks"), cut=True)
        self._changed()
        return True

    def _check_in_rule(self, message: CheckInRuleSet) -> None:
        if message.time_local is None:
            self.store.delete("check_in_time")
        else:
            self.store.put("check_in_time", message.time_local)
        self._schedule_check_in()

    def _schedule_check_in(self) -> None:
        if self._check_in_timer is not None:
            self._check_in_timer()
            self._check_in_timer = None
        time_local = self.store.get("check_in_time")
        if time_local is None or not self.paired:
            return
        timezone = self.elder.timezone if self.elder else "UTC"
        delay = (next_due(self.now(), time_local, timezone) - self.now()).total_seconds()
        self._check_in_timer = self.schedule(max(0.0, delay), self._check_in_due)

    def _check_in_due(self) -> None:
        self._check_in_timer = None
        timezone = self.elder.timezone if self.elder else "UTC"
        if not active_today(self.last_activity, self.now(), timezone) and (
            self.sos.phase is SosPhase.IDLE or self.sos.phase is SosPhase.ACKNOWLEDGED
        ):
            self.sos.ask_check_in()
            self.screen = Screen.SOS
            self.say(self.prompt(), Priority.URGENT, cut=True)
            self._sos_timer = self.schedule(self.check_in_answer_seconds, self._check_in_missed)
        self._schedule_check_in()  # tomorrow's
        self._changed()

    def _check_in_missed(self) -> None:
        self._sos_timer = None
        if self.sos.phase is SosPhase.CHECK_IN:
            self._send_sos(SosSource.CHECK_IN, "no answer to the daily check-in")

    def _sos_acknowledged(self, message: SosAcknowledged) -> None:
        if self.sos.phase is SosPhase.ACKNOWLEDGED and (self.sos.key, self.sos.acked_by) == (
            message.key,
            message.by_name,
        ):
            return  # the server may tell twice (a sweep and a push crossing): say it once
        self.sos.acknowledged(message)
        self.screen = Screen.SOS
        self.say(self.prompt(), Priority.URGENT, cut=True)

    def _sos_resolved(self, message: SosResolved) -> None:
        if self.sos.key not in (None, message.key):
            return  # an older alert; the current call is still under way
        self.sos.reset()
        if self.screen is Screen.SOS:
            self.go_home()

    def open_settings(self) -> None:
        """Show the language settings, focused on the current language."""
        self.settings.focus_lang(self.lang)
        self._show(Screen.SETTINGS)

    def choose_lang(self, lang: Lang) -> None:
        """Store the elder's language choice and queue it for the server."""
        self.store.save_ui_lang(lang)
        self.outbox.add(BoxSettings(key=new_key(), lang=lang))
        if self.on_outbox_added is not None:
            self.on_outbox_added()
        self.settings.focus_lang(lang)
        self.say(text(lang, "settings.changed"), cut=True)

    # -- link events -----------------------------------------------------

    def handle_link_event(self, event: LinkEvent) -> None:
        """React to what the server link reports."""
        if isinstance(event, LinkStateChanged):
            self.link_state = event.state
            self.call.link_changed(event.state)
            was_online = self.sos.online
            self.sos.online = event.state is LinkState.ONLINE
            if self.sos.phase is SosPhase.SENDING and was_online and not self.sos.online:
                if self.screen is Screen.SOS:
                    self.say(self.prompt(), Priority.URGENT, cut=True)
        elif isinstance(event, PairingCodeIssued):
            self.pairing.show_code(event.code, event.expires_at)
            if self.screen is Screen.PAIRING:
                self.repeat_prompt()
        elif isinstance(event, PairedWithElder):
            self._set_elder(event.elder)
            self.pairing.clear()
            self.home.reset()
            self.screen = Screen.HOME
            self.say(text(self.lang, "pairing.done", name=event.elder.name), cut=True)
            self.say(self.home.prompt(self.lang))
        elif isinstance(event, Welcomed):
            self._request_plans()
            if event.elder is not None:
                self._set_elder(event.elder)
            if self.screen is Screen.PAIRING:
                self.home.reset()
                self._show(Screen.HOME)
        elif isinstance(event, ElderChanged):
            self._set_elder(event.elder)
        elif isinstance(event, Unpaired):
            self.default_lang = self.lang  # keep speaking the language the elder was using
            self.elder = None
            self.pairing.clear(revoked=True)
            self.screen = Screen.PAIRING
            self.say(text(self.lang, "pairing.revoked"), Priority.HIGH, cut=True)
        elif isinstance(event, OutboxAcked):
            log.info("outbox item %s acked (duplicate=%s)", event.key, event.duplicate)
            if event.key == self.sos.key and self.sos.phase is SosPhase.SENDING:
                self.sos.delivered()
                if self.screen is Screen.SOS:
                    self.say(self.prompt(), Priority.URGENT, cut=True)
        elif isinstance(event, ServerMessage):
            handler = self._message_handlers.get(type(event.message))
            if handler is not None:
                handler(event.message)
        self._changed()

    # -- medication reminders -------------------------------------------

    def _outbox_added(self) -> None:
        if self.on_outbox_added is not None:
            self.on_outbox_added()

    def _set_elder(self, elder: ElderInfo) -> None:
        """A new elder record: their time zone and how the TV speaks to them follow it."""
        self.elder = elder
        self._set_timezone(elder.timezone)
        self._apply_speech()

    def _apply_speech(self) -> None:
        """Speak at the elder's rate and volume (set by the family for poor hearing)."""
        elder = self.elder
        rate = elder.speech_rate_wpm if elder else SPEECH_RATE_WPM_DEFAULT
        volume = elder.speech_volume_pct if elder else SPEECH_VOLUME_PCT_DEFAULT
        self.speaker.set_voice(rate=rate, volume=volume / 100)

    def _set_timezone(self, name: str) -> None:
        if name != self.reminders.timezone:
            self.reminders.timezone = name
            if self.on_plans_changed is not None:
                self.on_plans_changed()

    def _request_plans(self) -> None:
        if self.send_live is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (plain view-model tests): nothing to send on
        task: asyncio.Future[bool] = asyncio.ensure_future(
            self.send_live(MedPlansRequest()), loop=loop
        )
        self._pending_sends.add(task)
        task.add_done_callback(self._pending_sends.discard)

    def _on_plans(self, message: MedPlans) -> None:
        self.reminders.set_plans(message.plans, self.clock())
        if self.screen is Screen.REMINDER and not self.reminders.showing:
            self._leave_reminder()
        if self.on_plans_changed is not None:
            self.on_plans_changed()
        self.check_reminders()

    def check_reminders(self) -> bool:
        """Show doses that are due now (the reminder clock calls this); True if one appeared."""
        now = self.clock()
        grew = self.reminders.check(now)
        if grew and self.call.in_call:
            # Never cover a video call: the reminder shows once the call is over.
            self._changed()
            return grew
        if grew:
            if self.screen is not Screen.REMINDER:
                self._under_reminder = self.screen
            self.screen = Screen.REMINDER
            self.say(self.reminders.prompt(self.lang), Priority.URGENT, cut=True)
            self._changed()
        elif self.screen is Screen.REMINDER and not self.reminders.showing:
            self._leave_reminder()
            self._changed()
        return grew

    def repeat_reminder_if_due(self) -> None:
        """Say the reminder again if it has waited 5 minutes unanswered."""
        if self.screen is Screen.REMINDER and self.reminders.repeat_due(self.clock()):
            self.say(self.reminders.prompt(self.lang), Priority.URGENT, cut=True)

    def _handle_reminder(self, action: RemoteAction) -> None:
        if action in _ARROWS:
            if self.reminders.move(action):
                label = text(self.lang, f"reminder.choice.{self.reminders.focused.value}")
                self.say(label, Priority.LOW, cut=True)
        elif action is RemoteAction.OK:
            self.answer_reminder(self.reminders.focused)
        elif action in (RemoteAction.BACK, RemoteAction.HOME, RemoteAction.YELLOW):
            self.answer_reminder(Choice.SNOOZE)  # Back is safe: the reminder comes back
        elif action is RemoteAction.GREEN:
            self.repeat_prompt()
        elif action.digit is not None and 1 <= action.digit <= len(Choice):
            self.answer_reminder(list(Choice)[action.digit - 1])

    def answer_reminder(self, choice: Choice) -> None:
        """Answer the reminder on screen for every medicine on it."""
        if not self.reminders.answer(choice, self.clock()):
            return
        self.say(text(self.lang, f"reminder.said.{choice.value}"), cut=True)
        if choice is Choice.SNOOZE and self.on_plans_changed is not None:
            self.on_plans_changed()  # the clock must wake at the snooze's end
        if self.reminders.showing:
            # A medicine came due just before the key: it was not answered, so it stays.
            self.say(self.reminders.prompt(self.lang), Priority.URGENT)
        else:
            self._leave_reminder()
        self._changed()

    def answer_current_reminder(self, taken: bool) -> bool:
        """Voice hook: "I took it" (True) or "not now" (False, a snooze); False if none shown."""
        if self.screen is not Screen.REMINDER or not self.reminders.showing:
            return False
        self.answer_reminder(Choice.TAKEN if taken else Choice.SNOOZE)
        return True

    def next_medicine_summary(self) -> str:
        """Voice hook: today's doses taken so far and the next dose, as one sentence."""
        return self.reminders.summary(self.lang, self.clock())

    def _leave_reminder(self) -> None:
        back = self._under_reminder or self.base_screen
        self._under_reminder = None
        self.screen = back if back is not Screen.REMINDER else self.base_screen
