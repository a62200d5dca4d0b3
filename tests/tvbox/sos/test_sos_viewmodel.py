"""SOS on the TV without Kivy: red key at once, cancel window, delivery, who answered."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from protocol import CheckInRuleSet, Lang, Role, SosAcknowledged, SosRaise, SosResolved, SosSource
from tests.support.viewmodels import ELDER, RecordingSpeaker
from tvbox.box import AppViewModel, Screen
from tvbox.context import Clock as BoxClock
from tvbox.events import LinkState, LinkStateChanged, OutboxAcked, ServerMessage
from tvbox.outbox import Outbox
from tvbox.sos.view import SosPhase, relation_in
from tvbox.speech import Priority
from tvbox.store import BoxStore
from tvbox.ui.keys import RemoteAction as A


class FakeClock:
    """Timers fired by hand: `advance(seconds)` runs whatever falls due."""

    def __init__(self) -> None:
        self.now = 0.0
        self.timers: list[tuple[float, Callable[[], None]]] = []

    def schedule(self, delay: float, fn: Callable[[], None]) -> Callable[[], None]:
        entry = (self.now + delay, fn)
        self.timers.append(entry)
        return lambda: self.timers.remove(entry) if entry in self.timers else None

    def advance(self, seconds: float) -> None:
        end = self.now + seconds
        while True:
            due = sorted((t for t in self.timers if t[0] <= end), key=lambda t: t[0])
            if not due:
                break
            self.timers.remove(due[0])
            self.now = due[0][0]
            due[0][1]()
        self.now = end


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sos_vm(tmp_path: Path, speaker: RecordingSpeaker, clock: FakeClock) -> AppViewModel:
    store = BoxStore(tmp_path / "box.sqlite3")
    store.save_pairing(7, "token-7", ELDER.model_copy(update={"lang": Lang.EN}))
    box_clock = BoxClock(call_later=clock.schedule)
    vm = AppViewModel(store, Outbox(store), speaker, Lang.EN, clock=box_clock)
    vm.handle_link_event(LinkStateChanged(LinkState.ONLINE))
    return vm


def queued(vm: AppViewModel) -> list[SosRaise]:
    return [i.message for i in vm.outbox.pending() if isinstance(i.message, SosRaise)]


def test_red_key_sends_at_once_from_any_screen(
    sos_vm: AppViewModel, speaker: RecordingSpeaker
) -> None:
    sos_vm.open_settings()
    sos_vm.handle(A.RED)
    assert sos_vm.screen is Screen.SOS and sos_vm.sos.phase is SosPhase.SENDING
    [raised] = queued(sos_vm)
    assert raised.source is SosSource.RED_KEY
    assert speaker.said[-1][2] is Priority.URGENT and "Calling for help" in speaker.last
    # Pressing again while nobody has answered shows the same call; no second SOS.
    sos_vm.handle(A.BACK)
    assert sos_vm.screen is Screen.HOME
    sos_vm.handle(A.DIGIT_6)  # the SOS tile takes the same path
    assert sos_vm.screen is Screen.SOS and len(queued(sos_vm)) == 1


def test_delivery_then_who_answered_is_shown_and_spoken(
    sos_vm: AppViewModel, speaker: RecordingSpeaker
) -> None:
    sos_vm.handle(A.RED)
    key = queued(sos_vm)[0].key
    sos_vm.handle_link_event(OutboxAcked(key, False))
    assert sos_vm.sos.phase is SosPhase.DELIVERED and "reached the care centre" in speaker.last
    sos_vm.handle(A.BACK)  # the elder wanders home; the answer still comes up
    told = SosAcknowledged(
        alert_id=1, key=key, by_name="Li Na", relation="女儿 daughter", by_role=Role.FAMILY
    )
    sos_vm.handle_link_event(ServerMessage(told))
    assert sos_vm.screen is Screen.SOS
    said = "Your daughter Li Na has seen your call. Help is coming."
    assert speaker.last == said and speaker.said[-1][2] is Priority.URGENT
    assert sos_vm.snapshot()["sos"]["body"] == said
    sos_vm.handle(A.BACK)
    spoken = len(speaker.said)
    sos_vm.handle_link_event(ServerMessage(told))  # told again: not said again
    assert len(speaker.said) == spoken and sos_vm.screen is Screen.HOME
    sos_vm.handle_link_event(ServerMessage(SosResolved(alert_id=1, key=key)))
    assert sos_vm.sos.phase is SosPhase.IDLE and sos_vm.screen is Screen.HOME


def test_the_elder_hears_plainly_when_the_call_is_not_sent_yet(
    sos_vm: AppViewModel, speaker: RecordingSpeaker
) -> None:
    sos_vm.handle_link_event(LinkStateChanged(LinkState.OFFLINE))
    sos_vm.handle(A.RED)
    assert "Not sent yet" in speaker.last and "keeps trying" in speaker.last
    assert sos_vm.snapshot()["outbox_pending"] == 1


def test_sensor_sos_waits_out_the_cancel_window(
    sos_vm: AppViewModel, speaker: RecordingSpeaker, clock: FakeClock
) -> None:
    sos_vm.raise_sos(SosSource.SENSOR, "fall")
    assert sos_vm.screen is Screen.SOS and sos_vm.sos.phase is SosPhase.COUNTDOWN
    assert "Calling for help" in speaker.last and "cancel" in speaker.last
    assert queued(sos_vm) == []
    clock.advance(9)
    assert queued(sos_vm) == [] and sos_vm.sos.seconds_left == 1
    clock.advance(1)
    [raised] = queued(sos_vm)
    assert raised.source is SosSource.SENSOR and raised.detail == "fall"


def test_back_or_no_cancels_within_the_window(
    sos_vm: AppViewModel, speaker: RecordingSpeaker, clock: FakeClock
) -> None:
    sos_vm.raise_sos(SosSource.VOICE)
    clock.advance(3)
    sos_vm.handle(A.BACK)
    assert sos_vm.screen is Screen.HOME and "Cancelled" in speaker.last
    clock.advance(60)
    assert queued(sos_vm) == [], "a cancelled SOS is never sent"
    # The voice feature's "no" uses the hook; outside a window it does nothing.
    sos_vm.raise_sos(SosSource.CHECK_IN)
    assert sos_vm.cancel_pending_sos() is True
    assert sos_vm.cancel_pending_sos() is False


def test_a_cry_heard_once_asks_and_no_answer_calls_nobody(
    sos_vm: AppViewModel, speaker: RecordingSpeaker, clock: FakeClock
) -> None:
    assert sos_vm.hear_maybe_sos("said: 도와주 세요")
    assert sos_vm.screen is Screen.SOS and sos_vm.sos.phase is SosPhase.ASK
    view = sos_vm.sos.view(sos_vm.lang)
    assert view.title == "Do you need help?" and "Say it again" in view.body
    assert "Red or OK: call for help" in view.hint and view.phase == "ask"
    assert speaker.said[-1][2] is Priority.URGENT and "I heard a call for help" in speaker.last
    clock.advance(sos_vm.sos_ask_seconds)
    assert sos_vm.sos.phase is SosPhase.IDLE and sos_vm.screen is Screen.HOME
    assert "Press the red key whenever you need help" in speaker.last
    clock.advance(600)
    assert queued(sos_vm) == [], "an unanswered question calls nobody"


def test_the_cry_again_or_yes_opens_the_cancel_window(
    sos_vm: AppViewModel, clock: FakeClock
) -> None:
    sos_vm.hear_maybe_sos("said: 도와주 세요")
    sos_vm.hear_maybe_sos("said: 도와주 세요")  # heard again while asking
    assert sos_vm.sos.phase is SosPhase.COUNTDOWN and sos_vm.sos.source is SosSource.VOICE
    clock.advance(sos_vm.sos_ask_seconds)  # the question's timer is gone
    assert sos_vm.sos.phase is SosPhase.SENDING
    [raised] = queued(sos_vm)
    assert raised.source is SosSource.VOICE and raised.detail == "said: 도와주 세요"

    sos_vm.sos.reset()
    sos_vm.screen = Screen.HOME
    sos_vm.hear_maybe_sos("said: 살려 주세요")
    assert sos_vm.answer_sos_ask(True)  # "yes"
    assert sos_vm.sos.phase is SosPhase.COUNTDOWN
    assert sos_vm.sos.detail == "said: 살려 주세요, then yes"


@pytest.mark.parametrize(
    ("key", "phase"),
    [(A.OK, SosPhase.SENDING), (A.RED, SosPhase.SENDING), (A.BACK, SosPhase.IDLE),
     (A.HOME, SosPhase.IDLE)],
)  # fmt: skip
def test_keys_answer_the_question(
    sos_vm: AppViewModel, speaker: RecordingSpeaker, clock: FakeClock, key: A, phase: SosPhase
) -> None:
    sos_vm.hear_maybe_sos("said: 도와주 세요")
    sos_vm.handle(key)
    assert sos_vm.sos.phase is phase
    assert len(queued(sos_vm)) == (phase is SosPhase.SENDING)
    if phase is SosPhase.IDLE:
        assert sos_vm.screen is Screen.HOME and "whenever you need help" in speaker.last
    clock.advance(600)
    assert len(queued(sos_vm)) == (phase is SosPhase.SENDING)


def test_a_cry_heard_once_while_help_is_coming_changes_nothing(sos_vm: AppViewModel) -> None:
    sos_vm.handle(A.RED)
    assert not sos_vm.hear_maybe_sos("said: 도와주 세요")
    assert sos_vm.sos.phase is SosPhase.SENDING and len(queued(sos_vm)) == 1


def test_red_key_during_the_window_sends_now(sos_vm: AppViewModel, clock: FakeClock) -> None:
    sos_vm.raise_sos(SosSource.SENSOR, "bed")
    sos_vm.handle(A.RED)
    [raised] = queued(sos_vm)
    assert raised.source is SosSource.SENSOR
    clock.advance(60)
    assert len(queued(sos_vm)) == 1


def test_relation_is_said_in_the_elders_language() -> None:
    assert relation_in(Lang.ZH, "女儿 daughter") == "女儿"
    assert relation_in(Lang.EN, "女儿 daughter") == "daughter"
    assert relation_in(Lang.EN, "son") == "son"


# -- daily check-in ---------------------------------------------------------------------

MORNING = datetime(2026, 11, 22, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai, the elder's zone


@pytest.fixture
def check_vm(tmp_path: Path, speaker: RecordingSpeaker, clock: FakeClock) -> AppViewModel:
    store = BoxStore(tmp_path / "box.sqlite3")
    store.save_pairing(7, "token-7", ELDER.model_copy(update={"lang": Lang.EN}))
    vm = AppViewModel(
        store,
        Outbox(store),
        speaker,
        Lang.EN,
        clock=BoxClock(
            now=lambda: MORNING + timedelta(seconds=clock.now), call_later=clock.schedule
        ),
    )
    vm.start()
    vm.handle_link_event(ServerMessage(CheckInRuleSet(time_local="09:00")))
    return vm


def test_no_sign_of_life_by_the_check_in_time_asks_then_calls_for_help(
    check_vm: AppViewModel, speaker: RecordingSpeaker, clock: FakeClock
) -> None:
    clock.advance(3599)
    assert check_vm.screen is Screen.HOME
    clock.advance(1)
    assert (
        check_vm.screen is Screen.SOS and speaker.last == "Are you all right? Press OK if you are."
    )
    clock.advance(299)
    assert queued(check_vm) == []
    clock.advance(1)
    [raised] = queued(check_vm)
    assert raised.source is SosSource.CHECK_IN and check_vm.sos.phase is SosPhase.SENDING


def test_an_answer_or_earlier_activity_means_no_sos(
    check_vm: AppViewModel, speaker: RecordingSpeaker, clock: FakeClock
) -> None:
    clock.advance(3600)
    check_vm.handle(A.OK)  # "I am all right"
    assert check_vm.screen is Screen.HOME and "Glad you are well" in speaker.last
    clock.advance(600)
    assert queued(check_vm) == []
    # Next day: the elder used the remote in the morning, so the TV does not ask.
    clock.advance(22 * 3600)
    check_vm.handle(A.RIGHT)
    clock.advance(3 * 3600)
    assert check_vm.sos.phase is SosPhase.IDLE and queued(check_vm) == []


def test_switching_the_rule_off_disarms_it(check_vm: AppViewModel, clock: FakeClock) -> None:
    check_vm.handle_link_event(ServerMessage(CheckInRuleSet(time_local=None)))
    clock.advance(2 * 86400)
    assert check_vm.sos.phase is SosPhase.IDLE and check_vm.store.get("check_in_time") is None
