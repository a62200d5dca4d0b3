"""The Speaker says things in order, cuts off for SOS, and survives missing sound hardware."""

from __future__ import annotations

import array
import subprocess
import wave
from pathlib import Path

import pytest

from tests.support.waiting import wait_until
from tests.voice.conftest import SpeechLog
from voice.errors import SpeechError, VoiceErrorCode
from voice.speech import (
    PlaybackOutput,
    Priority,
    Speaker,
    SpeechEventKind,
    WavFileOutput,
    wav_duration_s,
)

LONG_KO = (
    "오늘은 날씨가 맑고 따뜻합니다. 산책하기 좋은 날이에요. 물을 충분히 드시고 약도 잊지 마세요."
)


def peak_amplitude(path: Path) -> int:
    with wave.open(str(path), "rb") as wav:
        assert wav.getsampwidth() == 2
        samples = array.array("h", wav.readframes(wav.getnframes()))
    return max((abs(s) for s in samples), default=0)


def say_and_wait(speaker: Speaker, log: SpeechLog, text: str, lang: str) -> None:
    speaker.speak(text, lang)
    assert wait_until(lambda: log.ended(text), timeout=10)


def test_wav_output_writes_audible_speech_in_each_language(tmp_path: Path, speech_log) -> None:
    output = WavFileOutput(tmp_path)
    with Speaker(output=output) as speaker:
        speaker.add_listener(speech_log)
        prompts = [("약 드실 시간입니다", "ko"), ("该吃药了", "zh"), ("Time for your pills", "en")]
        for text, lang in prompts:
            say_and_wait(speaker, speech_log, text, lang)
            assert speech_log.kinds_for(text) == [SpeechEventKind.STARTED, SpeechEventKind.FINISHED]
    assert len(output.written) == 3
    for path in output.written:
        assert wav_duration_s(path) > 0.5
        assert peak_amplitude(path) > 3000, f"{path.name} is silent"
        # sox agrees that the file is real audio with non-zero level
        stat = subprocess.run(["sox", str(path), "-n", "stat"], capture_output=True, text=True)
        lines = stat.stderr.splitlines()
        max_amp = next(float(line.split(":")[1]) for line in lines if "Maximum amplitude" in line)
        assert max_amp > 0.1


def test_rate_and_volume_are_applied(tmp_path: Path, speech_log) -> None:
    output = WavFileOutput(tmp_path)
    text = "Please take your blood pressure medicine now"
    with Speaker(rate=90, volume=1.0, output=output) as speaker:
        speaker.add_listener(speech_log)
        speaker.speak(text, "en")
        speaker.set_voice(rate=260)  # applies from the next utterance
        speaker.speak(text, "en")
        speaker.set_voice(rate=260, volume=0.2)
        speaker.speak(text, "en")
        assert wait_until(lambda: len(speech_log.texts(SpeechEventKind.FINISHED)) == 3, timeout=10)
        assert speaker.rate == 260 and speaker.volume == pytest.approx(0.2)
    slow, fast, quiet = output.written
    assert wav_duration_s(slow) > 1.8 * wav_duration_s(fast)
    assert peak_amplitude(quiet) < 0.4 * peak_amplitude(fast)


def test_queue_says_higher_priority_first(tmp_path: Path, speech_log) -> None:
    with Speaker(rate=320, output=WavFileOutput(tmp_path, paced=True)) as speaker:
        speaker.add_listener(speech_log)
        speaker.speak("first thing being said now", "en", Priority.NORMAL)
        assert wait_until(lambda: speaker.speaking, timeout=5)
        speaker.speak("low", "en", Priority.LOW)
        speaker.speak("normal", "en", Priority.NORMAL)
        speaker.speak("high", "en", Priority.HIGH)
        speaker.speak("normal two", "en", Priority.NORMAL)
        assert wait_until(lambda: len(speech_log.texts(SpeechEventKind.FINISHED)) == 5, timeout=15)
    assert speech_log.texts(SpeechEventKind.FINISHED) == [
        "first thing being said now",
        "high",
        "normal",
        "normal two",
        "low",
    ]
    assert speech_log.texts(SpeechEventKind.INTERRUPTED) == []  # HIGH waits its turn


def test_urgent_interrupts_current_utterance(tmp_path: Path, speech_log) -> None:
    with Speaker(rate=120, output=WavFileOutput(tmp_path, paced=True)) as speaker:
        speaker.add_listener(speech_log)
        speaker.speak(LONG_KO, "ko", Priority.LOW)
        assert wait_until(lambda: SpeechEventKind.STARTED in speech_log.kinds_for(LONG_KO), 5)
        started = speech_log.events[-1].at
        speaker.speak("긴급 호출을 보낼까요", "ko", Priority.URGENT)
        assert wait_until(lambda: speech_log.ended("긴급 호출을 보낼까요"), timeout=10)
    assert speech_log.kinds_for(LONG_KO) == [SpeechEventKind.STARTED, SpeechEventKind.INTERRUPTED]
    cut_at = next(e.at for e in speech_log.events if e.kind == SpeechEventKind.INTERRUPTED)
    assert cut_at - started < 1.0, "the long reminder (~10 s) was not cut off promptly"
    assert speech_log.kinds_for("긴급 호출을 보낼까요") == [
        SpeechEventKind.STARTED,
        SpeechEventKind.FINISHED,
    ]


def test_speaking_is_true_only_while_sound_plays(tmp_path: Path, speech_log) -> None:
    with Speaker(rate=250, output=WavFileOutput(tmp_path, paced=True)) as speaker:
        speaker.add_listener(speech_log)
        assert not speaker.speaking and not speaker.busy
        speaker.speak("네 알겠습니다", "ko")
        assert speaker.busy  # queued: about to speak, before the worker takes it
        assert wait_until(lambda: speaker.speaking, timeout=5)
        assert wait_until(lambda: speech_log.ended("네 알겠습니다"), timeout=10)
        assert wait_until(lambda: not speaker.speaking and not speaker.busy, timeout=1)


def test_stop_cuts_current_and_drops_queue(tmp_path: Path, speech_log) -> None:
    with Speaker(rate=120, output=WavFileOutput(tmp_path, paced=True)) as speaker:
        speaker.add_listener(speech_log)
        speaker.speak(LONG_KO, "ko")
        speaker.speak("queued one", "en")
        speaker.speak("queued two", "en")
        assert wait_until(lambda: speaker.speaking, timeout=5)
        speaker.stop()
        assert wait_until(lambda: speech_log.ended(LONG_KO), timeout=2)
        assert wait_until(lambda: not speaker.speaking, timeout=2)
        speaker.speak("after stop", "en")
        assert wait_until(lambda: speech_log.ended("after stop"), timeout=10)
    assert SpeechEventKind.INTERRUPTED in speech_log.kinds_for(LONG_KO)
    assert speech_log.kinds_for("queued one") == []
    assert speech_log.kinds_for("queued two") == []


def test_no_sound_device_reports_failure_and_keeps_going(speech_log) -> None:
    # A device name no machine has, so this holds on boxes with and without sound cards.
    output = PlaybackOutput(player=("aplay", "-q", "-D", "anxin_no_such_device"))
    with Speaker(output=output) as speaker:
        speaker.add_listener(speech_log)
        say_and_wait(speaker, speech_log, "first prompt", "en")
        say_and_wait(speaker, speech_log, "second prompt", "en")
    failures = [e for e in speech_log.events if e.kind == SpeechEventKind.FAILED]
    assert [e.text for e in failures] == ["first prompt", "second prompt"]
    assert all(e.error is not None for e in failures)
    assert failures[0].error.code == VoiceErrorCode.NO_SOUND_DEVICE


def test_missing_player_program_reports_failure(speech_log) -> None:
    with Speaker(output=PlaybackOutput(player=("/nonexistent/aplay",))) as speaker:
        speaker.add_listener(speech_log)
        say_and_wait(speaker, speech_log, "hello", "en")
    assert speech_log.kinds_for("hello") == [SpeechEventKind.STARTED, SpeechEventKind.FAILED]


def test_unknown_language_fails_that_utterance_only(tmp_path: Path, speech_log) -> None:
    output = WavFileOutput(tmp_path)
    with Speaker(output=output) as speaker:
        speaker.add_listener(speech_log)
        say_and_wait(speaker, speech_log, "gibberish", "xx-nonexistent")
        say_and_wait(speaker, speech_log, "hello", "en")
    assert speech_log.kinds_for("gibberish") == [SpeechEventKind.FAILED]
    assert speech_log.kinds_for("hello") == [SpeechEventKind.STARTED, SpeechEventKind.FINISHED]
    assert len(output.written) == 1


def test_closed_speaker_refuses_new_speech(tmp_path: Path) -> None:
    speaker = Speaker(output=WavFileOutput(tmp_path))
    speaker.close()
    with pytest.raises(SpeechError):
        speaker.speak("hello", "en")
    with pytest.raises(ValueError):
        Speaker(volume=1.5, output=WavFileOutput(tmp_path)).close()
