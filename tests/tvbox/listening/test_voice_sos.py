"""Voice SOS on the box's view-model: the spoken cancel window, "no" cancels, "yes" answers
the daily check-in (no Kivy, real SQLite, a fake timer for the window)."""

from __future__ import annotations

import time as clock_time
from collections.abc import Callable

import pytest

from protocol import Lang, SosRaise, SosSource
from tests.support.viewmodels import ELDER, RecordingSpeaker
from tvbox.box import AppViewModel, Screen
from tvbox.context import Clock as BoxClock
from tvbox.listening.controller import CANCEL_WINDOW_INTENTS, CHECK_IN_INTENTS, SOS_ASK_INTENTS
from tvbox.outbox import Outbox
from tvbox.sos.view import SosPhase
from tvbox.store import BoxStore
from voice.intents import IDLE_INTENTS, Intent, IntentEvent


class Timers:
    """Timers the test fires by hand."""

    def __init__(self) -> None:
        self.pending: list[Callable[[], None]] = []

    def schedule(self, delay: float, fn: Callable[[], None]) -> Callable[[], None]:
        self.pending.append(fn)
        return lambda: self.pending.remove(fn) if fn in self.pending else None

    def fire_all(self, times: int) -> None:
        for _ in range(times):
            due, self.pending = self.pending, []
            for fn in due:
                fn()


def heard(intent: Intent, phrase: str = "") -> IntentEvent:
    now = clock_time.monotonic()
    return IntentEvent(intent, phrase or intent.value, "ko", 0.97, now - 0.2, now)


@pytest.fixture
def timers() -> Timers:
    return Timers()


@pytest.fixture
def box(store: BoxStore, speaker: RecordingSpeaker, timers: Timers) -> AppViewModel:
    store.save_pairing(7, "token-7", ELDER.model_copy(update={"lang": Lang.EN}))
    return AppViewModel(
        store,
        Outbox(store),
        speaker,
        Lang.EN,
        sos_cancel_seconds=10,
        clock=BoxClock(call_later=timers.schedule),
    )


def raised(store: BoxStore) -> list[SosRaise]:
    return [i.message for i in Outbox(store).pending() if isinstance(i.message, SosRaise)]


def test_spoken_sos_opens_the_cancel_window_and_no_cancels_it(
    box: AppViewModel, store: BoxStore, speaker: RecordingSpeaker
) -> None:
    assert box.voice.handle(heard(Intent.SOS, "도와주 세요"))
    assert box.screen is Screen.SOS and box.sos.phase is SosPhase.COUNTDOWN
    assert box.sos.source is SosSource.VOICE
    assert box.voice.listened_intents() == CANCEL_WINDOW_INTENTS
    assert raised(store) == [], "nothing is sent during the cancel window"
    assert box.voice.handle(heard(Intent.NO))
    assert box.sos.phase is SosPhase.IDLE and box.screen is Screen.HOME
    assert raised(store) == []
    assert box.voice.listened_intents() == IDLE_INTENTS


def test_spoken_sos_not_cancelled_goes_out_like_the_red_key(
    box: AppViewModel, store: BoxStore, timers: Timers
) -> None:
    box.voice.handle(heard(Intent.SOS, "도와주 세요"))
    timers.fire_all(10)
    assert box.sos.phase is SosPhase.SENDING
    (message,) = raised(store)
    assert message.source is SosSource.VOICE and "도와주 세요" in message.detail
    assert not box.voice.handle(heard(Intent.NO)), "too late to cancel by voice"
    assert box.sos.phase is SosPhase.SENDING


def test_a_cry_heard_once_is_asked_about_and_answered_by_voice(
    box: AppViewModel, store: BoxStore, speaker: RecordingSpeaker, timers: Timers
) -> None:
    assert box.voice.handle(heard(Intent.MAYBE_SOS, "도와주 세요"))
    assert box.sos.phase is SosPhase.ASK and box.screen is Screen.SOS
    assert "Do you need help" not in speaker.last and "I heard a call for help" in speaker.last
    # While asking, the box listens for the cry again, "yes" and "no".
    assert box.voice.listened_intents() == SOS_ASK_INTENTS
    assert box.voice.handle(heard(Intent.NO))
    assert box.sos.phase is SosPhase.IDLE and box.screen is Screen.HOME
    assert box.voice.listened_intents() == IDLE_INTENTS

    box.voice.handle(heard(Intent.MAYBE_SOS, "도와주 세요"))
    assert box.voice.handle(heard(Intent.YES))
    assert box.sos.phase is SosPhase.COUNTDOWN
    assert box.voice.listened_intents() == CANCEL_WINDOW_INTENTS
    assert box.voice.handle(heard(Intent.NO))  # and the cancel window still works

    box.voice.handle(heard(Intent.MAYBE_SOS, "도와주 세요"))
    assert box.voice.handle(heard(Intent.SOS, "도와주 세요"))  # the cry again
    assert box.sos.phase is SosPhase.COUNTDOWN
    timers.fire_all(10)
    (message,) = raised(store)
    assert message.source is SosSource.VOICE and "도와주 세요" in message.detail


def test_yes_answers_the_daily_check_in(box: AppViewModel, store: BoxStore) -> None:
    box.sos.ask_check_in()
    box.screen = Screen.SOS
    assert box.voice.listened_intents() == CHECK_IN_INTENTS
    assert box.voice.handle(heard(Intent.YES))
    assert box.sos.phase is SosPhase.IDLE and box.screen is Screen.HOME
    assert raised(store) == []
