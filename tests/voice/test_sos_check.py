"""A cry for help is believed when it is heard twice and survives a second decode against
everyday speech; heard once, the box asks "Do you need help?".

Real espeak-ng Korean through the real Korean Vosk model. On the call and SOS screens the
box listens only for SOS and "repeat", so almost any sentence comes out as SOS words:
"다 왔어요" ("we're here") is heard as "도와주 세요" with full confidence.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tests.support.waiting import wait_until
from tests.voice.conftest import joined_wav, spoken_wav
from tests.voice.test_recognizer import IntentLog, make_recognizer, run_to_end
from voice.audio import StreamSource, WavFileSource, chunk_bytes, read_pcm16k
from voice.grammar import PhraseGrammar
from voice.intents import IDLE_INTENTS, Intent
from voice.recognizer import SLICE_BYTES, SOS_REPEAT_WINDOW_S
from voice.sos_check import SosCheck

SOS_AND_REPEAT = frozenset({Intent.SOS, Intent.REPEAT})  # the call and SOS screens
LOOKALIKE = "다 왔어요"  # "we're here": to this grammar, a cry for help


def test_a_lookalike_sentence_is_not_an_sos_and_a_clear_cry_is_asked_about(
    ko_model, ko_grammar: PhraseGrammar, speech_dir: Path
) -> None:
    lookalike = spoken_wav(speech_dir, LOOKALIKE)

    # Without the check, the sentence would make the box ask "Do you need help?".
    unchecked = dataclasses.replace(ko_grammar, sos_check_words=())
    log = IntentLog()
    run_to_end(make_recognizer(ko_model, unchecked, log, intents=SOS_AND_REPEAT),
               WavFileSource(lookalike))  # fmt: skip
    assert log.kinds() == [Intent.MAYBE_SOS], [h.text for h in log.heard]

    # With it, the sentence is heard as what it is and nothing happens.
    log = IntentLog()
    run_to_end(make_recognizer(ko_model, ko_grammar, log, intents=SOS_AND_REPEAT),
               WavFileSource(lookalike))  # fmt: skip
    assert log.kinds() == []
    assert [h.reason for h in log.heard] == ["sos_unconfirmed"]
    assert log.heard[0].text == "도와주 세요"
    assert log.heard[0].sos_check_text.endswith("어요")  # "왔 어요"

    # A real cry for help passes the same check, in real time: heard once, the box asks.
    log = IntentLog()
    recognizer = make_recognizer(ko_model, ko_grammar, log, intents=SOS_AND_REPEAT)
    run_to_end(recognizer, WavFileSource(spoken_wav(speech_dir, "도와주세요"), realtime=True))
    assert log.kinds() == [Intent.MAYBE_SOS]
    assert [h.reason for h in log.heard] == ["sos_ask"]
    assert log.heard[0].sos_check_text.endswith("세요")
    assert 0.0 < log.intents[0].latency_s < 1.0


def test_a_cry_said_twice_calls_for_help(
    ko_model, ko_grammar: PhraseGrammar, speech_dir: Path
) -> None:
    # In one breath: "도와주세요 도와주세요".
    log = IntentLog()
    run_to_end(make_recognizer(ko_model, ko_grammar, log, intents=SOS_AND_REPEAT),
               WavFileSource(spoken_wav(speech_dir, "도와주세요 도와주세요")))  # fmt: skip
    assert log.kinds() == [Intent.SOS]
    assert [h.reason for h in log.heard] == ["accepted"]
    assert log.intents[0].phrase == "도와주 세요"

    # Two sentences a few seconds apart: asked about, then called.
    once = spoken_wav(speech_dir, "도와주세요", lead_s=0.5, tail_s=2.0)
    log = IntentLog()
    run_to_end(make_recognizer(ko_model, ko_grammar, log, intents=SOS_AND_REPEAT),
               WavFileSource(joined_wav(speech_dir, [once, once], "cry-twice.wav")))  # fmt: skip
    assert log.kinds() == [Intent.MAYBE_SOS, Intent.SOS]
    assert [h.reason for h in log.heard] == ["sos_ask", "accepted_repeated"]


def test_doubtful_hearings_twice_ask_thrice_call_and_far_apart_do_nothing(
    ko_model, ko_grammar: PhraseGrammar, speech_dir: Path
) -> None:
    # What the check doubts is not thrown away for good: two doubtful cries a few seconds
    # apart make the box ask (never call) - people repeat a cry for help.
    once = spoken_wav(speech_dir, LOOKALIKE, lead_s=0.5, tail_s=1.5)
    log = IntentLog()
    run_to_end(make_recognizer(ko_model, ko_grammar, log, intents=SOS_AND_REPEAT),
               WavFileSource(joined_wav(speech_dir, [once, once], "twice-close.wav")))  # fmt: skip
    assert log.kinds() == [Intent.MAYBE_SOS]
    assert [h.reason for h in log.heard] == ["sos_unconfirmed", "sos_ask"]

    # Three times is a cry, however doubtful each one sounded.
    log = IntentLog()
    run_to_end(make_recognizer(ko_model, ko_grammar, log, intents=SOS_AND_REPEAT),
               WavFileSource(joined_wav(speech_dir, [once] * 3, "thrice-close.wav")))  # fmt: skip
    assert log.kinds() == [Intent.MAYBE_SOS, Intent.SOS]
    assert [h.reason for h in log.heard] == ["sos_unconfirmed", "sos_ask", "accepted_repeated"]

    # Further apart than the window, each is doubted on its own.
    apart = spoken_wav(speech_dir, LOOKALIKE, lead_s=0.5, tail_s=SOS_REPEAT_WINDOW_S + 1)
    log = IntentLog()
    run_to_end(make_recognizer(ko_model, ko_grammar, log, intents=SOS_AND_REPEAT),
               WavFileSource(joined_wav(speech_dir, [apart, once], "twice-apart.wav")))  # fmt: skip
    assert log.kinds() == []
    assert [h.reason for h in log.heard] == ["sos_unconfirmed", "sos_unconfirmed"]


@pytest.mark.parametrize("lead_slices", [0, 1, 2])
def test_the_cry_again_after_the_box_asks_calls_across_a_grammar_change(
    ko_model, ko_grammar: PhraseGrammar, speech_dir: Path, lead_slices: int
) -> None:
    # The box asks "Do you need help?" and listens for yes/no too (a new Vosk grammar):
    # the first hearing still counts when the elder cries again. Where the new grammar
    # starts in the silence before the cry depends on thread timing; with one 50 ms slice
    # of it, Vosk hears a doubtful "네" before the cry (CI failed that way), so each phase
    # is tried.
    log = IntentLog()
    recognizer = make_recognizer(ko_model, ko_grammar, log, intents=IDLE_INTENTS)
    source = StreamSource()
    recognizer.start(source)
    pcm = read_pcm16k(spoken_wav(speech_dir, "도와주세요", tail_s=1.0))
    size = chunk_bytes(50)
    for offset in range(0, len(pcm), size):
        source.push(pcm[offset : offset + size])
    assert wait_until(lambda: log.kinds() == [Intent.MAYBE_SOS], timeout=10), log.kinds()
    # Everything pushed is decoded before the grammar changes.
    seconds = len(pcm) / (16_000 * 2)
    assert wait_until(lambda: recognizer.consumed_s >= seconds - 1e-6, timeout=10)
    recognizer.listen_for(SOS_AND_REPEAT | {Intent.YES, Intent.NO})
    if lead_slices:
        source.push(bytes(SLICE_BYTES * lead_slices))
    for offset in range(0, len(pcm), size):
        source.push(pcm[offset : offset + size])
    source.end()
    assert recognizer.wait(10)
    assert log.kinds() == [Intent.MAYBE_SOS, Intent.SOS], [(h.text, h.reason) for h in log.heard]
    assert [h.reason for h in log.heard] == ["sos_ask", "accepted_repeated"]


def test_sos_check_judges_real_audio(ko_model, ko_grammar: PhraseGrammar, speech_dir: Path) -> None:
    check = SosCheck(ko_model, ko_grammar)
    assert check.enabled
    assert check.verdict(read_pcm16k(spoken_wav(speech_dir, "도와주세요"))).confirmed
    doubted = check.verdict(read_pcm16k(spoken_wav(speech_dir, LOOKALIKE)))
    assert not doubted.confirmed and doubted.text
    # Without a garbage path in the grammar there is nothing to check against.
    plain = SosCheck(ko_model, dataclasses.replace(ko_grammar, sos_check_words=()))
    assert not plain.enabled
