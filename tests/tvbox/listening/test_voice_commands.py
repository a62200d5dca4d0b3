"""Voice commands on the box's view-model: what each spoken intent does on each screen,
what the recognizer listens for, and a box without a model (no Kivy, real SQLite)."""

from __future__ import annotations

import asyncio
import os
import threading
import time as clock_time
from datetime import time
from pathlib import Path

import pytest

from protocol import Message
from tests.support.viewmodels import RecordingSpeaker
from tests.support.waiting import async_wait_until, wait_until
from tests.tvbox.reminders.test_reminders_vm import CREATED, Clock, answers, make_vm, plan, push
from tvbox.box import AppViewModel, Screen
from tvbox.calls.controller import CallPhase
from tvbox.config import BoxConfig
from tvbox.events import LinkState, LinkStateChanged
from tvbox.listening.controller import SOS_AND_REPEAT, VoiceState
from tvbox.listening.voice_control import FifoSource, VoiceControl
from tvbox.store import BoxStore
from tvbox.ui.keys import RemoteAction
from voice.audio import chunk_bytes
from voice.intents import ANSWER_INTENTS, IDLE_INTENTS, Intent, IntentEvent


def heard(intent: Intent, phrase: str = "") -> IntentEvent:
    """What the recognizer hands the box for an accepted utterance."""
    now = clock_time.monotonic()
    return IntentEvent(intent, phrase or intent.value, "ko", 0.97, now - 0.2, now)


@pytest.fixture
def clock() -> Clock:
    c = Clock(CREATED)
    c.at_local("Asia/Shanghai", 2026, 11, 22, 7, 59)
    return c


@pytest.fixture
def reminder_vm(store: BoxStore, clock: Clock, speaker: RecordingSpeaker) -> AppViewModel:
    """A paired box showing the 08:00 Amlodipine reminder."""
    vm = make_vm(store, clock, speaker)
    push(vm, plan(1, "Amlodipine", time(8, 0)), plan(2, "Metformin", time(20, 0)))
    vm.open_settings()
    clock.at_local("Asia/Shanghai", 2026, 11, 22, 8, 0)
    assert vm.check_reminders()
    return vm


def test_home_listens_for_idle_intents_and_a_reminder_for_answers(
    reminder_vm: AppViewModel,
) -> None:
    assert reminder_vm.voice.listened_intents() == ANSWER_INTENTS
    reminder_vm.handle(RemoteAction.OK)  # answered with the remote
    assert reminder_vm.screen is Screen.SETTINGS
    assert reminder_vm.voice.listened_intents() == IDLE_INTENTS


@pytest.mark.parametrize("said", [Intent.TAKEN, Intent.YES])
def test_taken_or_yes_answers_the_reminder(
    reminder_vm: AppViewModel, store: BoxStore, speaker: RecordingSpeaker, said: Intent
) -> None:
    assert reminder_vm.voice.handle(heard(said))
    assert answers(store) == [("taken", "08:00")]
    assert reminder_vm.screen is Screen.SETTINGS, "the reminder gives the screen back"
    assert "took it" in speaker.last


def test_no_skips_the_dose(reminder_vm: AppViewModel, store: BoxStore) -> None:
    assert reminder_vm.voice.handle(heard(Intent.NO))
    assert answers(store) == [("skipped", "08:00")]
    assert reminder_vm.screen is Screen.SETTINGS


def test_repeat_says_the_reminder_again(
    reminder_vm: AppViewModel, speaker: RecordingSpeaker
) -> None:
    first = speaker.last
    assert reminder_vm.voice.handle(heard(Intent.REPEAT))
    assert speaker.last == first and "Amlodipine" in first
    assert reminder_vm.screen is Screen.REMINDER


def test_answers_mean_nothing_without_a_reminder(
    paired_vm: AppViewModel, store: BoxStore, speaker: RecordingSpeaker
) -> None:
    said = len(speaker.said)
    for intent in (Intent.YES, Intent.NO, Intent.TAKEN):
        assert not paired_vm.voice.handle(heard(intent))
    assert paired_vm.screen is Screen.HOME and len(speaker.said) == said
    assert answers(store) == []


def test_what_is_my_next_medicine_is_answered_from_the_store(
    store: BoxStore, clock: Clock, speaker: RecordingSpeaker
) -> None:
    vm = make_vm(store, clock, speaker)
    push(vm, plan(1, "Amlodipine", time(8, 0)))
    vm.go_home()
    assert vm.voice.handle(heard(Intent.NEXT_MEDICINE))
    assert speaker.last == vm.next_medicine_summary()
    assert "Amlodipine" in speaker.last and "08:00" in speaker.last
    assert vm.screen is Screen.HOME


async def test_call_a_doctor_requests_a_consult(
    paired_vm: AppViewModel, speaker: RecordingSpeaker
) -> None:
    sent: list[Message] = []

    async def send_live(message: Message) -> bool:
        sent.append(message)
        return True

    paired_vm.send_live = send_live
    assert paired_vm.voice.handle(heard(Intent.CALL_DOCTOR))
    assert paired_vm.screen is Screen.CALL
    await async_wait_until(lambda: sent, 5, "the consult request")
    assert [m.type for m in sent] == ["consult_request"]
    # On the call screen only SOS and "say that again" are listened for.
    assert paired_vm.voice.listened_intents() == SOS_AND_REPEAT
    assert not paired_vm.voice.handle(heard(Intent.CALL_DOCTOR))
    await async_wait_until(lambda: not paired_vm.call._tasks, 5, "the send to finish")


async def test_call_my_family_rings_the_family(
    paired_vm: AppViewModel, speaker: RecordingSpeaker
) -> None:
    sent: list[Message] = []

    async def send_live(message: Message) -> bool:
        sent.append(message)
        return True

    paired_vm.send_live = send_live
    paired_vm.handle_link_event(LinkStateChanged(LinkState.ONLINE))
    assert paired_vm.voice.handle(heard(Intent.CALL_FAMILY))
    assert paired_vm.screen is Screen.CALL and speaker.last.startswith("Calling your family…")
    await async_wait_until(lambda: sent, 5, "the family call request")
    assert [m.type for m in sent] == ["family_call_request"]
    assert paired_vm.voice.listened_intents() == SOS_AND_REPEAT
    paired_vm.handle(RemoteAction.BACK)  # Back is still safe: it asks first
    assert paired_vm.call.phase is CallPhase.CONFIRM_CANCEL
    await async_wait_until(lambda: not paired_vm.call._tasks, 5, "the send to finish")


def test_call_my_family_offline_says_the_tv_is_not_connected(
    paired_vm: AppViewModel, speaker: RecordingSpeaker
) -> None:
    assert paired_vm.voice.handle(heard(Intent.CALL_FAMILY))
    assert paired_vm.screen is Screen.CALL and "not connected to the internet" in speaker.last
    paired_vm.handle(RemoteAction.BACK)
    assert paired_vm.screen is Screen.HOME


def test_repeat_on_home_says_the_home_prompt(
    paired_vm: AppViewModel, speaker: RecordingSpeaker
) -> None:
    assert paired_vm.voice.handle(heard(Intent.REPEAT))
    assert speaker.last == paired_vm.home.prompt(paired_vm.lang)


def test_no_model_is_shown_and_said_once_and_the_remote_keeps_working(
    paired_vm: AppViewModel, speaker: RecordingSpeaker
) -> None:
    voice = paired_vm.voice
    message = "There is no Chinese speech model, so voice commands are off."
    voice.unavailable("zh", lambda ui_lang: message)
    assert paired_vm.screen is Screen.NOTICE
    assert paired_vm.notice.view(paired_vm.lang).body == message
    assert speaker.last == message
    assert paired_vm.snapshot()["voice"]["state"] == "unavailable"
    said = len(speaker.said)
    voice.unavailable("zh", lambda ui_lang: message)  # e.g. the microphone fails later
    assert len(speaker.said) == said, "said once"
    paired_vm.handle(RemoteAction.OK)
    assert paired_vm.screen is Screen.HOME
    paired_vm.handle(RemoteAction.DIGIT_2)
    assert paired_vm.screen is Screen.MEDICINES


def test_no_model_never_covers_a_reminder(
    reminder_vm: AppViewModel, speaker: RecordingSpeaker
) -> None:
    reminder_vm.voice.unavailable("zh", lambda ui_lang: "Voice commands are off.")
    assert reminder_vm.screen is Screen.REMINDER
    assert speaker.last == "Voice commands are off."


async def test_voice_control_without_a_model_says_why_in_the_box_language(
    paired_vm: AppViewModel, speaker: RecordingSpeaker, tmp_path: Path
) -> None:
    config = BoxConfig(
        data_dir=tmp_path, voice_model=str(tmp_path / "no-model"), voice_download=False
    )
    control = VoiceControl(paired_vm, config)
    await asyncio.wait_for(control.run(), 30)
    assert paired_vm.voice.state is VoiceState.UNAVAILABLE
    assert paired_vm.screen is Screen.NOTICE
    assert "speech model" in speaker.last and "voice commands are off" in speaker.last
    await asyncio.wait_for(control.close(), 10)


async def test_voice_control_off_stays_silent(
    paired_vm: AppViewModel, speaker: RecordingSpeaker, tmp_path: Path
) -> None:
    control = VoiceControl(paired_vm, BoxConfig(data_dir=tmp_path, voice_model="off"))
    await asyncio.wait_for(control.run(), 5)
    assert paired_vm.voice.state is VoiceState.OFF
    assert speaker.said == [] and paired_vm.screen is Screen.HOME


def test_fifo_source_reads_whole_samples_across_writers(tmp_path: Path) -> None:
    path = tmp_path / "mic.pcm"
    source = FifoSource(path)
    got: list[bytes] = []
    done = threading.Event()

    def read() -> None:
        for chunk in source.chunks():
            got.append(chunk.pcm)
            if sum(map(len, got)) >= 2 * chunk_bytes(50) + 2:
                done.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    wait_until(path.exists, 5, "the box to create its pipe")
    for payload in (bytes(chunk_bytes(50)) + b"\x01", b"\x02" + bytes(chunk_bytes(50))):
        fd = os.open(path, os.O_WRONLY)  # a writer comes and goes: no end of audio
        os.write(fd, payload)
        os.close(fd)
    assert done.wait(5)
    source.close()
    reader.join(5)
    assert not reader.is_alive()
    assert all(len(pcm) % 2 == 0 for pcm in got)
    joined = b"".join(got)
    assert joined[chunk_bytes(50) : chunk_bytes(50) + 2] == b"\x01\x02"


def test_no_model_notice_waits_for_home(
    reminder_vm: AppViewModel, speaker: RecordingSpeaker
) -> None:
    reminder_vm.voice.unavailable("zh", lambda ui_lang: "Voice commands are off.")
    assert reminder_vm.screen is Screen.REMINDER, "a reminder is never covered"
    assert speaker.last == "Voice commands are off."
    reminder_vm.handle(RemoteAction.OK)
    reminder_vm.handle(RemoteAction.HOME)
    assert reminder_vm.screen is Screen.NOTICE
    assert reminder_vm.notice.view(reminder_vm.lang).body == "Voice commands are off."
    reminder_vm.handle(RemoteAction.BACK)
    assert reminder_vm.screen is Screen.HOME, "shown once"
    assert [s[0] for s in speaker.said].count("Voice commands are off.") == 1
