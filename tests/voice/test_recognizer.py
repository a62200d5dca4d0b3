"""Spoken Korean through the real Vosk model becomes intents, and nothing else does."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

from tests.support.waiting import wait_until
from tests.voice.conftest import joined_wav, spoken_wav
from voice.audio import (
    ArecordSource,
    AudioSource,
    StreamSource,
    WavFileSource,
    chunk_bytes,
    read_pcm16k,
)
from voice.echo import EchoGate
from voice.errors import VoiceErrorCode
from voice.intents import ANSWER_INTENTS, IDLE_INTENTS, HeardUtterance, Intent, IntentEvent
from voice.recognizer import PhraseRecognizer, RecognizerState
from voice.speech import Priority, Speaker, WavFileOutput

ORDINARY_SENTENCES = [
    "안녕하세요",
    "오늘 날씨가 정말 좋네요",
    "저녁 뉴스를 시작하겠습니다",
    "내일은 전국에 비가 내리겠습니다",
    "이 드라마 정말 재미있어요",
    "점심은 뭘 먹을까",
    "손주가 주말에 온대요",
    "텔레비전 소리 좀 줄여 줘",
    "다음 주에 시장에 가요",
    "광고 후에 계속됩니다",
    "축구 경기가 곧 시작됩니다",
    "고맙습니다 잘 지내세요",
]


class IntentLog:
    """Collects IntentEvents and everything heard, from the worker thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.intents: list[IntentEvent] = []
        self.heard: list[HeardUtterance] = []

    def on_intent(self, event: IntentEvent) -> None:
        with self.lock:
            self.intents.append(event)

    def on_heard(self, heard: HeardUtterance) -> None:
        with self.lock:
            self.heard.append(heard)

    def kinds(self) -> list[Intent]:
        with self.lock:
            return [e.intent for e in self.intents]


def run_to_end(recognizer: PhraseRecognizer, source: AudioSource, timeout: float = 60) -> None:
    recognizer.start(source)
    assert recognizer.wait(timeout), "recognizer did not finish the audio in time"
    assert recognizer.state == RecognizerState.STOPPED, recognizer.error


def make_recognizer(ko_model, ko_grammar, log: IntentLog, **kwargs) -> PhraseRecognizer:
    return PhraseRecognizer(ko_model, ko_grammar, log.on_intent, on_heard=log.on_heard, **kwargs)


def test_sos_streamed_in_real_time_is_asked_about(ko_model, ko_grammar, speech_dir: Path) -> None:
    # Heard once, a cry for help makes the box ask "Do you need help?" (test_sos_check.py).
    log = IntentLog()
    recognizer = make_recognizer(ko_model, ko_grammar, log, intents=IDLE_INTENTS)
    wav = spoken_wav(speech_dir, "도와주세요")
    run_to_end(recognizer, WavFileSource(wav, realtime=True))
    assert log.kinds() == [Intent.MAYBE_SOS]
    event = log.intents[0]
    assert event.phrase == "도와주 세요" and event.lang == "ko"
    assert event.confidence >= ko_grammar.min_word_confidence
    # Decided soon after the elder stopped speaking, measured on the capture clock.
    assert 0.0 < event.latency_s < 1.0


@pytest.mark.parametrize(
    ("text", "voice", "speed", "expected"),
    [
        ("아니요", "ko", 150, Intent.NO),
        ("네", "ko", 150, Intent.YES),
        # Recognition is deterministic (dither off); these voices/speeds are recognized.
        ("약 먹었어요", "ko+f3", 150, Intent.TAKEN),
        ("먹었어요", "ko+m3", 150, Intent.TAKEN),
        ("도와주세요", "ko", 150, Intent.MAYBE_SOS),  # a cry is heard while a reminder waits too
    ],
)
def test_reminder_answers(
    ko_model, ko_grammar, speech_dir: Path, text: str, voice: str, speed: int, expected: Intent
) -> None:
    log = IntentLog()
    recognizer = make_recognizer(ko_model, ko_grammar, log, intents=ANSWER_INTENTS)
    wav = spoken_wav(speech_dir, text, voice=voice, speed=speed)
    run_to_end(recognizer, WavFileSource(wav, realtime=True))
    assert log.kinds() == [expected]


@pytest.mark.parametrize("intents", [IDLE_INTENTS, ANSWER_INTENTS], ids=["idle", "answer"])
def test_ordinary_talk_raises_nothing(ko_model, ko_grammar, speech_dir: Path, intents) -> None:
    log = IntentLog()
    recognizer = make_recognizer(ko_model, ko_grammar, log, intents=intents)
    voices = ("ko", "ko+f3")
    parts = [spoken_wav(speech_dir, s, voice=v) for s in ORDINARY_SENTENCES for v in voices]
    stream = joined_wav(speech_dir, parts, f"ordinary-{len(intents)}.wav")
    run_to_end(recognizer, WavFileSource(stream))
    assert len(log.heard) >= len(ORDINARY_SENTENCES), "the recognizer did not hear the talk"
    assert log.kinds() == [], [h.text for h in log.heard if h.intent]
    # What it heard was made of grammar words, and the strict rule threw it away.
    assert all(h.reason in {"no_phrase", "low_confidence"} for h in log.heard)


def test_listen_for_switches_what_is_accepted(ko_model, ko_grammar, speech_dir: Path) -> None:
    log = IntentLog()
    recognizer = make_recognizer(ko_model, ko_grammar, log, intents=IDLE_INTENTS)
    source = StreamSource()
    recognizer.start(source)
    pcm = read_pcm16k(spoken_wav(speech_dir, "네"))
    size = chunk_bytes(50)

    def say_yes() -> None:
        for offset in range(0, len(pcm), size):
            source.push(pcm[offset : offset + size])

    say_yes()  # "yes" means nothing on the idle screen
    pushed_s = len(pcm) / 32000
    assert wait_until(lambda: recognizer.consumed_s >= pushed_s - 1e-6, timeout=10)
    assert log.intents == []
    recognizer.listen_for(ANSWER_INTENTS)  # a reminder now asks a question
    say_yes()
    assert wait_until(lambda: len(log.intents) == 1, timeout=10)
    source.end()
    assert recognizer.wait(10)
    assert log.kinds() == [Intent.YES]
    assert recognizer.intents == ANSWER_INTENTS


def test_audio_is_ignored_while_the_box_speaks(
    ko_model, ko_grammar, speech_dir: Path, tmp_path: Path
) -> None:
    log = IntentLog()
    with Speaker(rate=170, output=WavFileOutput(tmp_path, paced=True)) as speaker:
        gate = EchoGate(speaker, tail_s=0.3)
        recognizer = make_recognizer(ko_model, ko_grammar, log, echo_gate=gate)
        source = StreamSource()
        recognizer.start(source)
        pcm = read_pcm16k(spoken_wav(speech_dir, "도와주세요"))

        def play_sos() -> None:
            size = chunk_bytes(50)
            for offset in range(0, len(pcm), size):
                source.push(pcm[offset : offset + size])

        prompt = "약 드실 시간입니다. 드셨으면 네 라고 말씀하세요."
        speaker.speak(prompt, "ko", Priority.HIGH)
        assert gate.muted()  # from the moment the prompt is queued
        assert wait_until(lambda: speaker.speaking, timeout=5)
        play_sos()  # the microphone hears an SOS-like sound while the box talks
        assert wait_until(lambda: not speaker.busy, timeout=20)
        assert wait_until(lambda: not gate.muted(), timeout=2)
        assert log.intents == [], "acted on audio heard while the box was speaking"
        play_sos()  # the elder calls for help after the prompt
        assert wait_until(lambda: len(log.intents) == 1, timeout=10)
        source.end()
        assert recognizer.wait(10)
    # Heard once: the cry under the prompt did not count as a first hearing either.
    assert log.kinds() == [Intent.MAYBE_SOS]


async def test_decoding_keeps_the_event_loop_responsive(
    ko_model, ko_grammar, speech_dir: Path
) -> None:
    loop = asyncio.get_running_loop()
    delivered = asyncio.Event()
    received: list[tuple[IntentEvent, bool]] = []

    def on_intent(event: IntentEvent) -> None:
        received.append((event, threading.current_thread() is threading.main_thread()))
        delivered.set()

    recognizer = PhraseRecognizer(
        ko_model, ko_grammar, on_intent, intents=ANSWER_INTENTS, loop=loop
    )
    parts = [spoken_wav(speech_dir, s) for s in ORDINARY_SENTENCES]
    parts.append(spoken_wav(speech_dir, "네"))
    stream = joined_wav(speech_dir, parts, "talk-then-yes.wav")
    ticks = 0
    worst_lag = 0.0

    async def tick() -> None:
        nonlocal ticks, worst_lag
        while not delivered.is_set():
            before = loop.time()
            await asyncio.sleep(0.01)
            worst_lag = max(worst_lag, loop.time() - before - 0.01)
            ticks += 1

    started = time.monotonic()
    recognizer.start(WavFileSource(stream))  # as fast as the CPU decodes: the worst case
    await asyncio.wait_for(asyncio.gather(tick(), delivered.wait()), timeout=60)
    assert await asyncio.wait_for(recognizer.wait_async(10), timeout=15)
    decode_s = time.monotonic() - started
    assert [e.intent for e, _ in received] == [Intent.YES]
    assert received[0][1], "the callback did not run on the event loop's thread"
    # Decoding this stream on the loop would block it for seconds (about 40 s of audio
    # at a real-time factor of 0.05-0.1); the bounds leave room for a busy machine.
    assert ticks >= decode_s / 0.1, f"loop starved: {ticks} ticks in {decode_s:.2f} s"
    assert worst_lag < 0.3, f"event loop blocked for {worst_lag * 1000:.0f} ms"


def test_missing_microphone_fails_cleanly(ko_model, ko_grammar) -> None:
    log = IntentLog()
    recognizer = make_recognizer(ko_model, ko_grammar, log)
    recognizer.start(ArecordSource("anxin_no_such_device"))
    assert recognizer.wait(10)
    assert recognizer.state == RecognizerState.FAILED
    assert recognizer.error is not None
    assert recognizer.error.code == VoiceErrorCode.AUDIO_SOURCE_FAILED
    assert "arecord" in recognizer.error.message


def test_stop_ends_a_live_stream(ko_model, ko_grammar) -> None:
    recognizer = make_recognizer(ko_model, ko_grammar, IntentLog())
    source = StreamSource()
    recognizer.start(source)
    source.push(bytes(chunk_bytes(200)))
    recognizer.stop(timeout=5)
    assert recognizer.wait(0)
    assert recognizer.state == RecognizerState.STOPPED


def test_arecord_capture_path_streams_chunks(ko_model, ko_grammar) -> None:
    # ALSA's "null" device exists without a sound card and records silence: the real
    # arecord subprocess, pipe and chunking, minus the microphone.
    source = ArecordSource("null")
    log = IntentLog()
    recognizer = make_recognizer(ko_model, ko_grammar, log)
    seen: list[float] = []
    chunks = source.chunks()
    for chunk in chunks:
        assert len(chunk.pcm) == chunk_bytes(50)
        seen.append(chunk.captured_at)
        if len(seen) == 5:
            break
    chunks.close()  # ends the arecord process
    assert seen == sorted(seen)
    # The same source kind feeds the recognizer until stopped.
    recognizer.start(ArecordSource("null"))
    assert wait_until(lambda: recognizer.state == RecognizerState.LISTENING, timeout=2)
    recognizer.stop(timeout=5)
    assert recognizer.wait(0)
    assert recognizer.state == RecognizerState.STOPPED
    assert log.heard == []
