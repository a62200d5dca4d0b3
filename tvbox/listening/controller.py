"""Voice commands on the box: what the elder may say on each screen, and what it does.

`VoiceViewModel` turns a recognized `voice.IntentEvent` into the same actions the remote
triggers (the hooks on `AppViewModel`), and says which intents the recognizer should
listen for right now: a phrase grammar is a loop over its words, so every word the
screen cannot use is one more way to mishear. No Kivy, no Vosk: `tvbox/listening/voice_control.py`
runs the recognizer and calls in here on the app's loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import Enum
from typing import Any, Protocol

from protocol import Lang, SosSource
from tvbox.notice.view import NoticeKind
from tvbox.reminders.view import Choice, ReminderViewModel
from tvbox.router import Screen
from tvbox.sos.view import SosPhase, SosViewModel
from tvbox.speech import Priority
from voice.intents import ANSWER_INTENTS, IDLE_INTENTS, Intent, IntentEvent

log = logging.getLogger(__name__)

# While help is being called, a call is on, or the box is not paired yet, the elder can
# still call for help and ask to hear the screen again; nothing else is listened for.
SOS_AND_REPEAT: frozenset[Intent] = frozenset({Intent.SOS, Intent.REPEAT})
# The spoken cancel window of a voice (or sensor) SOS: "no" cancels it.
CANCEL_WINDOW_INTENTS: frozenset[Intent] = SOS_AND_REPEAT | {Intent.NO}
# "Are you all right?" (the daily check-in): "yes" answers it.
CHECK_IN_INTENTS: frozenset[Intent] = SOS_AND_REPEAT | {Intent.YES}
# "Do you need help?" (a cry heard once): the cry again or "yes" calls, "no" does not.
SOS_ASK_INTENTS: frozenset[Intent] = SOS_AND_REPEAT | {Intent.YES, Intent.NO}


class VoiceState(Enum):
    """Whether the box hears voice commands."""

    OFF = "off"  # turned off in the settings
    STARTING = "starting"  # loading the model
    LISTENING = "listening"
    UNAVAILABLE = "unavailable"  # no model, no microphone: said once, the remote still works


class VoiceHost(Protocol):
    """The app's hooks that voice commands use: the same ones the remote's keys reach."""

    sos: SosViewModel
    reminders: ReminderViewModel

    @property
    def screen(self) -> Screen: ...
    @property
    def lang(self) -> Lang: ...
    def note_activity(self) -> None: ...
    def notify(self) -> None: ...
    def subscribe(self, callback: Callable[[], None]) -> None: ...
    def say(self, words: str, priority: Priority = ..., *, cut: bool = ...) -> None: ...
    def repeat_prompt(self) -> None: ...
    def raise_sos(self, source: SosSource = ..., detail: str = ...) -> None: ...
    def hear_maybe_sos(self, detail: str) -> bool: ...
    def cancel_pending_sos(self) -> bool: ...
    def answer_check_in(self) -> bool: ...
    def answer_sos_ask(self, help_wanted: bool, by_key: bool = ...) -> bool: ...
    def answer_current_reminder(self, taken: bool) -> bool: ...
    def answer_reminder(self, choice: Choice) -> None: ...
    def next_medicine_summary(self) -> str: ...
    def request_consult(self) -> None: ...
    def call_family(self) -> None: ...
    def show_notice(self, kind: NoticeKind, title_key: str, body_text: str) -> None: ...


class VoiceViewModel:
    """Routes spoken intents to the box's actions; knows the voice status for the screen."""

    def __init__(self, host: VoiceHost) -> None:
        self.host = host
        self.state = VoiceState.OFF
        self.model_lang = ""
        self.last_intent: Intent | None = None
        self.acted = 0  # intents that did something (for /state and tests)
        # Text of why voice is unavailable, per UI language (set by voice_control).
        self._reason: Callable[[str], str | None] | None = None
        self._announced = False
        self._notice_pending = False
        # Whether the microphone is muted because the box is speaking (the EchoGate, once
        # recognition runs: see `listening`).
        self.muted: Callable[[], bool] = lambda: False

    # -- what to listen for -------------------------------------------------

    def listened_intents(self) -> frozenset[Intent]:
        """The intents that make sense on the current screen (SOS always)."""
        vm = self.host
        if vm.sos.phase is SosPhase.COUNTDOWN:
            return CANCEL_WINDOW_INTENTS
        if vm.sos.phase is SosPhase.CHECK_IN:
            return CHECK_IN_INTENTS
        if vm.sos.phase is SosPhase.ASK and vm.screen is Screen.SOS:
            return SOS_ASK_INTENTS
        if vm.screen is Screen.REMINDER and vm.reminders.showing:
            return ANSWER_INTENTS
        if vm.screen in (Screen.SOS, Screen.CALL, Screen.PAIRING):
            return SOS_AND_REPEAT
        return IDLE_INTENTS

    # -- what an intent does ------------------------------------------------

    def handle(self, event: IntentEvent) -> bool:
        """Act on a recognized intent as the remote would; True if it did something."""
        vm = self.host
        vm.note_activity()  # speaking to the box counts for the daily check-in
        self.last_intent = event.intent
        acted = self._act(event)
        log.info("voice: %s (%r, %.2f) -> %s", event.intent, event.phrase, event.confidence,
                 "acted" if acted else "nothing to do here")  # fmt: skip
        if acted:
            self.acted += 1
        vm.notify()
        return acted

    def _act(self, event: IntentEvent) -> bool:
        vm = self.host
        intent = event.intent
        if intent is Intent.SOS:
            # The same path as the red key, with the spoken cancel window first.
            vm.raise_sos(SosSource.VOICE, f"said: {event.phrase}")
            return True
        if intent is Intent.MAYBE_SOS:
            return vm.hear_maybe_sos(f"said: {event.phrase}")
        if intent is Intent.REPEAT:
            vm.repeat_prompt()
            return True
        # The recognizer switches grammar between utterances, so an intent can arrive
        # for the screen before: act only if it still makes sense on this one.
        if intent not in self.listened_intents():
            return False
        if vm.sos.phase is SosPhase.COUNTDOWN:
            return intent is Intent.NO and vm.cancel_pending_sos()
        if vm.sos.phase is SosPhase.CHECK_IN:
            return intent is Intent.YES and vm.answer_check_in()
        if vm.sos.phase is SosPhase.ASK:
            return intent in (Intent.YES, Intent.NO) and vm.answer_sos_ask(intent is Intent.YES)
        if vm.screen is Screen.REMINDER:
            if intent in (Intent.TAKEN, Intent.YES):
                return vm.answer_current_reminder(True)
            if intent is Intent.NO:
                # "No" to "did you take it?" records the dose as skipped (the issue's
                # rule); the hook's False would snooze it instead.
                vm.answer_reminder(Choice.SKIP)
                return True
            return False
        if intent is Intent.CALL_DOCTOR:
            vm.request_consult()
        elif intent is Intent.CALL_FAMILY:
            vm.call_family()
        elif intent is Intent.NEXT_MEDICINE:
            vm.say(vm.next_medicine_summary(), cut=True)
        else:
            return False
        return True

    # -- status ---------------------------------------------------------------

    def listening(self, model_lang: str, muted: Callable[[], bool] | None = None) -> None:
        """Recognition is running for `model_lang`; `muted` says whether the microphone is
        muted because the box is speaking (the recognizer's `EchoGate`)."""
        self.state = VoiceState.LISTENING
        self.model_lang = model_lang
        if muted is not None:
            self.muted = muted
        self.host.notify()

    def unavailable(self, model_lang: str, reason: Callable[[str], str | None]) -> None:
        """No voice commands (no model, no microphone): show and say why, once."""
        self.state = VoiceState.UNAVAILABLE
        self.model_lang = model_lang
        self._reason = reason
        if self._announced:
            return
        self._announced = True
        vm = self.host
        message = self.reason(vm.lang)
        if message:
            vm.say(message, Priority.HIGH)
            # Shown on the home screen: a pairing code, a reminder, a call or an SOS
            # matter more, so the notice waits for the elder to get home.
            self._notice_pending = True
            vm.subscribe(self._show_notice_at_home)
            self._show_notice_at_home()
        vm.notify()

    def _show_notice_at_home(self) -> None:
        vm = self.host
        message = self.reason(vm.lang)
        if not self._notice_pending or vm.screen is not Screen.HOME or not message:
            return
        self._notice_pending = False
        vm.show_notice(NoticeKind.VOICE_OFF, "voice.title", message)
        vm.notify()

    def reason(self, lang: Lang) -> str | None:
        """Why voice commands are unavailable, in `lang` (None when they work)."""
        if self.state is not VoiceState.UNAVAILABLE or self._reason is None:
            return None
        return self._reason(lang.value)

    def snapshot(self) -> dict[str, Any]:
        """Voice status as JSON-able data (for /state)."""
        return {
            "state": self.state.value,
            "model_lang": self.model_lang,
            "intents": sorted(i.value for i in self.listened_intents()),
            "last_intent": None if self.last_intent is None else self.last_intent.value,
            "acted": self.acted,
            "muted": self.muted(),
            "message": self.reason(self.host.lang),
        }
