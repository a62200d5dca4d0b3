"""Streaming phrase recognition with Vosk on a dedicated worker thread.

Audio chunks from an AudioSource are fed to a grammar-restricted KaldiRecognizer in
50 ms slices. Vosk waits about a second of silence before it ends an utterance, too
slow for an elder answering "네", so a small energy detector ends the utterance
after `endpoint_silence_s` of quiet and asks Vosk for its final result then. Each
final result is matched strictly against the grammar (whole utterance = one
phrase, every word confident). Accepted ones become IntentEvents for the callback,
everything else is ignored. Audio captured while the box speaks is dropped.

An SOS phrase is a cry for help only when it is heard twice within
SOS_REPEAT_WINDOW_S (in one breath, "도와주세요 도와주세요", or two sentences apart) and
at least one hearing survives a second decode of its audio against a garbage path
(`voice/sos_check.py`), or three times. A single hearing that survives it (or two
that do not) becomes MAYBE_SOS: the box asks "Do you need help?", and the answer
(the cry again, or "yes") calls. Why not one
hearing: to this model some everyday sentences are the cry itself ("다 왔어요" comes
out of both decodes as "도와주 세요" at confidence 1.00, bench/voice.py), so no rule on
a single sentence reaches zero false alarms without deafening the box to real cries.
"""

from __future__ import annotations

import array
import asyncio
import json
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from enum import Enum
from typing import Any

from voice.audio import BYTES_PER_SAMPLE, SAMPLE_RATE_HZ, AudioChunk, AudioSource
from voice.echo import EchoGate
from voice.errors import VoiceError, VoiceErrorCode
from voice.grammar import PhraseGrammar
from voice.intents import ALL_INTENTS, HeardUtterance, Intent, IntentEvent
from voice.models import LoadedModel
from voice.sos_check import SosCheck, SosVerdict

log = logging.getLogger(__name__)

SLICE_BYTES = SAMPLE_RATE_HZ * BYTES_PER_SAMPLE * 50 // 1000  # 50 ms
DEFAULT_ENDPOINT_SILENCE_S = 0.25
MAX_UTTERANCE_S = 8.0
_SPEECH_OVER_FLOOR = 4.0  # ~12 dB above the background counts as speech
_END_BELOW_PEAK = 0.2  # speech ends ~14 dB below the utterance's loudest slice
_MIN_SPEECH_RMS = 300.0  # absolute floor for a quiet room (16-bit full scale 32767)
_BACKGROUND_WINDOW_SLICES = 100  # 5 s
_TIMELINE_SLICES = 2400  # two minutes of slices to map word times back to capture times
_KEPT_AUDIO_S = 2 * MAX_UTTERANCE_S  # recent audio kept for the SOS check
_SOS_CHECK_LEAD_S = 0.3  # audio before the SOS words given to the check
_SOS_CHECK_TAIL_S = 0.15  # and after them (more lets a TV behind add words at the end)
# Speech less than this apart is one sentence for the SOS check: the endpointer cuts
# sentences at short pauses for quick answers, and "버스가 늦게 [pause] 왔어요" must
# not leave a "왔어요" that the grammar can only hear as "도와주 세요".
_SENTENCE_PAUSE_S = 0.6
_MAX_SENTENCE_CONTEXT_S = 3.0  # enough to judge, and bounds the check's work
# Two hearings of an SOS phrase this close (seconds of audio heard, so time the box
# spends talking and muted does not count) are one cry for help.
SOS_REPEAT_WINDOW_S = 8.0


_SOS_INTENT_BY_REASON: dict[str, Intent] = {
    "accepted": Intent.SOS,
    "accepted_repeated": Intent.SOS,
    "sos_ask": Intent.MAYBE_SOS,
}


class RecognizerState(Enum):
    """Life of a PhraseRecognizer."""

    IDLE = "idle"
    LISTENING = "listening"
    STOPPED = "stopped"
    FAILED = "failed"


class _LevelDetector:
    """Speech/non-speech per slice from its RMS level.

    Speech starts when a slice is ~12 dB above the background, the quietest slice
    of the last few seconds (speech always has gaps, so this follows a fan or a
    TV's quiet moments while a sentence never raises it). Speech ends when the
    level falls ~14 dB below the loudest slice of the utterance: a TV talking
    behind the elder is quieter than the elder, and would otherwise never let
    the utterance end.
    """

    def __init__(self) -> None:
        self.recent: deque[float] = deque(maxlen=_BACKGROUND_WINDOW_SLICES)
        self.utterance_peak = 0.0

    def is_speech(self, pcm: bytes, in_speech: bool) -> bool:
        samples = array.array("h", pcm[: len(pcm) - len(pcm) % 2])
        if not samples:
            return False
        rms = math.sqrt(sum(s * s for s in samples) / len(samples))
        self.recent.append(rms)
        threshold = max(_MIN_SPEECH_RMS, min(self.recent) * _SPEECH_OVER_FLOOR)
        if not in_speech:
            self.utterance_peak = 0.0
        else:
            threshold = max(threshold, self.utterance_peak * _END_BELOW_PEAK)
        speech = rms > threshold
        if speech:
            self.utterance_peak = max(self.utterance_peak, rms)
        return speech


class PhraseRecognizer:
    """Turns a stream of audio into IntentEvents, decoding in its own thread."""

    def __init__(
        self,
        model: LoadedModel,
        grammar: PhraseGrammar,
        on_intent: Callable[[IntentEvent], None],
        *,
        intents: Iterable[Intent] = ALL_INTENTS,
        echo_gate: EchoGate | None = None,
        on_heard: Callable[[HeardUtterance], None] | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        endpoint_silence_s: float = DEFAULT_ENDPOINT_SILENCE_S,
    ) -> None:
        self.model = model
        self.grammar = grammar
        self.echo_gate = echo_gate
        self.endpoint_silence_s = endpoint_silence_s
        self._on_intent = on_intent
        self._on_heard = on_heard
        self._loop = loop
        self._lock = threading.Lock()
        self._intents = frozenset(intents) | {Intent.SOS}
        self._grammar_changed = False
        self._state = RecognizerState.IDLE
        self._error: VoiceError | None = None
        self._source: AudioSource | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._consumed_s = 0.0

    # --- control, from any thread ---

    def start(self, source: AudioSource) -> None:
        """Start decoding `source` in a worker thread."""
        with self._lock:
            if self._thread is not None:
                raise RuntimeError("recognizer already started")
            self._source = source
            self._state = RecognizerState.LISTENING
            self._thread = threading.Thread(
                target=self._run, args=(source,), name="anxin-recognizer", daemon=True
            )
            self._thread.start()

    def listen_for(self, intents: Iterable[Intent]) -> None:
        """Restrict recognition to these intents (SOS always) from the next utterance."""
        with self._lock:
            self._intents = frozenset(intents) | {Intent.SOS}
            self._grammar_changed = True

    @property
    def intents(self) -> frozenset[Intent]:
        """Intents currently listened for."""
        with self._lock:
            return self._intents

    @property
    def state(self) -> RecognizerState:
        """Where the recognizer is in its life."""
        with self._lock:
            return self._state

    @property
    def consumed_s(self) -> float:
        """Seconds of audio taken from the source so far (muted audio included)."""
        return self._consumed_s

    @property
    def error(self) -> VoiceError | None:
        """Why the worker failed, if it did."""
        with self._lock:
            return self._error

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the source is exhausted or stop(); True if the worker ended."""
        thread = self._thread
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    async def wait_async(self, timeout: float | None = None) -> bool:
        """Await the end of the worker without blocking the event loop."""
        return await asyncio.to_thread(self.wait, timeout)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop listening and end the worker thread."""
        self._stopping.set()
        if self._source is not None:
            self._source.close()
        if self._thread is not None and threading.current_thread() is not self._thread:
            self._thread.join(timeout)
        with self._lock:
            if self._state == RecognizerState.LISTENING:
                self._state = RecognizerState.STOPPED

    # --- worker thread ---

    def _run(self, source: AudioSource) -> None:
        try:
            _Decoder(self).run(source)
        except VoiceError as err:
            self._fail(err)
        except Exception as err:
            log.exception("recognizer worker crashed")
            self._fail(VoiceError(VoiceErrorCode.AUDIO_SOURCE_FAILED, f"recognizer failed: {err}"))
        else:
            with self._lock:
                self._state = RecognizerState.STOPPED

    def _fail(self, err: VoiceError) -> None:
        with self._lock:
            self._error = err
            self._state = RecognizerState.FAILED

    def _take_grammar_change(self) -> frozenset[Intent] | None:
        with self._lock:
            if not self._grammar_changed:
                return None
            self._grammar_changed = False
            return self._intents

    def _deliver(self, callback: Callable[[Any], None] | None, event: object) -> None:
        if callback is None:
            return
        if self._loop is not None:
            self._loop.call_soon_threadsafe(callback, event)
            return
        try:
            callback(event)
        except Exception:
            log.exception("voice callback failed on %r", event)


class _Decoder:
    """The worker's decoding state: one Vosk recognizer, level detector and timeline."""

    def __init__(self, owner: PhraseRecognizer) -> None:
        self.owner = owner
        self.intents = owner.intents
        self.detector = _LevelDetector()
        self.recognizer: Any = None
        self.fed_samples = 0
        # Samples fed to earlier Vosk recognizers (one per grammar), so SOS hearings keep
        # one clock across a grammar change: the box asks, and the screen listens anew.
        self.earlier_samples = 0
        self.timeline: deque[tuple[int, float]] = deque(maxlen=_TIMELINE_SLICES)
        self.in_speech = False
        self.heard_audio = False  # anything fed since the last final result
        self.silence_s = 0.0
        self.speech_s = 0.0
        self.last_speech_at: float | None = None  # capture time of the last loud slice
        self.sos_check = SosCheck(owner.model, owner.grammar)
        # Recent audio and the Vosk sample index of its first byte, for the SOS check.
        self.audio = bytearray()
        self.audio_first_sample = 0
        # Vosk sample indices: where the current sentence's speech began, and where
        # the last loud slice ended.
        self.sentence_start_sample = 0
        self.speech_end_sample = -(10**9)
        # Recent SOS hearings: (end on the clock of all audio fed, confirmed by the check).
        self.sos_hearings: list[tuple[float, bool]] = []

    def run(self, source: AudioSource) -> None:
        self._new_recognizer()
        for chunk in source.chunks():
            if self.owner._stopping.is_set():
                return
            gate = self.owner.echo_gate
            if gate is not None and gate.muted(chunk.captured_at):
                self._drop_utterance()
            else:
                self._feed(chunk)
            self.owner._consumed_s += chunk.duration_s
        if self.heard_audio and not self.owner._stopping.is_set():
            self._finish(self.recognizer.FinalResult())

    def _new_recognizer(self) -> None:
        import vosk

        phrases = self.owner.grammar.vosk_phrases(self.intents)
        # ensure_ascii=False: Vosk reads the JSON text as-is and would look up "\ub124".
        grammar_json = json.dumps(phrases, ensure_ascii=False)
        self.recognizer = vosk.KaldiRecognizer(self.owner.model.model, SAMPLE_RATE_HZ, grammar_json)
        self.recognizer.SetWords(True)
        self.earlier_samples += self.fed_samples
        self.fed_samples = 0
        self.timeline.clear()
        self.audio.clear()
        self.audio_first_sample = 0
        self.sentence_start_sample = 0
        self.speech_end_sample = -(10**9)
        self._reset_utterance()

    def _reset_utterance(self) -> None:
        self.in_speech = False
        self.heard_audio = False
        self.silence_s = 0.0
        self.speech_s = 0.0
        self.last_speech_at = None

    def _drop_utterance(self) -> None:
        if self.heard_audio:
            self.recognizer.Reset()
        self._reset_utterance()

    def _feed(self, chunk: AudioChunk) -> None:
        pcm = chunk.pcm
        bytes_per_s = SAMPLE_RATE_HZ * BYTES_PER_SAMPLE
        for offset in range(0, len(pcm), SLICE_BYTES):
            piece = pcm[offset : offset + SLICE_BYTES]
            # The chunk's last sample was captured at chunk.captured_at.
            piece_end_at = chunk.captured_at - (len(pcm) - offset - len(piece)) / bytes_per_s
            self._feed_slice(piece, piece_end_at)

    def _feed_slice(self, piece: bytes, piece_end_at: float) -> None:
        if not self.in_speech:
            changed = self.owner._take_grammar_change()
            if changed is not None and changed != self.intents:
                self.intents = changed
                self._new_recognizer()
        duration_s = len(piece) / (SAMPLE_RATE_HZ * BYTES_PER_SAMPLE)
        speech = self.detector.is_speech(piece, self.in_speech)
        self.fed_samples += len(piece) // BYTES_PER_SAMPLE
        self.timeline.append((self.fed_samples, piece_end_at))
        self._keep_audio(piece)
        self.heard_audio = True
        if self.recognizer.AcceptWaveform(piece):
            self._finish(self.recognizer.Result())
            return
        if speech:
            onset = self.fed_samples - len(piece) // BYTES_PER_SAMPLE
            if onset - self.speech_end_sample > _SENTENCE_PAUSE_S * SAMPLE_RATE_HZ:
                self.sentence_start_sample = onset
            self.speech_end_sample = self.fed_samples
            self.in_speech = True
            self.silence_s = 0.0
            self.speech_s += duration_s
            self.last_speech_at = piece_end_at
        elif self.in_speech:
            self.silence_s += duration_s
        if self.in_speech and (
            self.silence_s >= self.owner.endpoint_silence_s or self.speech_s >= MAX_UTTERANCE_S
        ):
            self._finish(self.recognizer.FinalResult())

    def _finish(self, result_json: str) -> None:
        last_speech_at = self.last_speech_at
        speech_s = self.speech_s
        self._reset_utterance()
        result = json.loads(result_json)
        words_info = result.get("result") or []
        words = [w["word"] for w in words_info]
        confidences = [float(w.get("conf", 0.0)) for w in words_info]
        text = " ".join(words)
        if not words:
            return  # silence or noise Vosk kept to itself
        # The elder stopped speaking when the sound stopped; Vosk's word end can be a
        # little earlier, and is all we have when the level detector heard no speech.
        end_at = self._captured_at(float(words_info[-1].get("end", 0.0)))
        if last_speech_at is not None:
            end_at = max(end_at, last_speech_at)
        owner = self.owner
        match = owner.grammar.match(words, confidences, self.intents)
        check_text = ""  # what the SOS check heard, when it ran
        check_confidences: tuple[float, ...] = ()
        intent = match.intent if match else None
        if match is None:
            in_grammar = owner.grammar.match(words, [1.0] * len(words), self.intents)
            reason = "low_confidence" if in_grammar else "no_phrase"
        elif match.intent is Intent.SOS:
            verdict = self._check_sos(words_info)
            check_text, check_confidences = verdict.text, verdict.word_confidences
            end_s = self.earlier_samples / SAMPLE_RATE_HZ + float(words_info[-1].get("end", 0.0))
            reason = self._sos_decision(verdict.confirmed, match.times, end_s)
            intent = _SOS_INTENT_BY_REASON.get(reason)
        else:
            reason = "accepted"
        decided_at = time.monotonic()
        heard = HeardUtterance(
            text=text,
            lang=owner.grammar.lang,
            word_confidences=tuple(confidences),
            intent=intent,
            reason=reason,
            utterance_end_at=end_at,
            decided_at=decided_at,
            speech_s=speech_s,
            words_s=float(words_info[-1].get("end", 0.0)) - float(words_info[0].get("start", 0.0)),
            sos_check_text=check_text,
            sos_check_confidences=check_confidences,
        )
        owner._deliver(owner._on_heard, heard)
        if match is not None and intent is not None:
            event = IntentEvent(
                intent=intent,
                phrase=match.phrase,
                lang=owner.grammar.lang,
                confidence=match.confidence,
                utterance_end_at=end_at,
                decided_at=decided_at,
            )
            owner._deliver(owner._on_intent, event)

    def _check_sos(self, words_info: list[dict[str, Any]]) -> SosVerdict:
        """Second decode of an SOS candidate's sentence against the garbage path."""
        start_s = float(words_info[0].get("start", 0.0))
        end_s = float(words_info[-1].get("end", 0.0))
        # From the start of the sentence the words belong to: see _SENTENCE_PAUSE_S.
        sentence_start_s = self.sentence_start_sample / SAMPLE_RATE_HZ
        start_s = max(start_s - _MAX_SENTENCE_CONTEXT_S, min(start_s, sentence_start_s))
        return self.sos_check.verdict(self._audio_between(start_s, end_s))

    def _sos_decision(self, confirmed: bool, times: int, end_s: float) -> str:
        """Count this hearing (said `times` times) with the recent ones; see the docstring.

        `end_s` is on the clock of audio fed to Vosk, which files decoded faster than
        real time share with a microphone.
        """
        recent = [h for h in self.sos_hearings if 0.0 <= end_s - h[0] <= SOS_REPEAT_WINDOW_S]
        hearings = len(recent) + times
        any_confirmed = confirmed or any(was_confirmed for _, was_confirmed in recent)
        if (hearings >= 2 and any_confirmed) or hearings >= 3:
            self.sos_hearings = []
            return "accepted_repeated" if recent else "accepted"
        self.sos_hearings = [*recent, (end_s, confirmed)]
        # Two doubtful hearings are worth a question too.
        return "sos_ask" if any_confirmed or hearings >= 2 else "sos_unconfirmed"

    def _keep_audio(self, piece: bytes) -> None:
        self.audio += piece
        excess = len(self.audio) - int(_KEPT_AUDIO_S * SAMPLE_RATE_HZ) * BYTES_PER_SAMPLE
        if excess > len(self.audio) // 2:  # trim now and then, not on every slice
            del self.audio[:excess]
            self.audio_first_sample += excess // BYTES_PER_SAMPLE

    def _audio_between(self, start_s: float, end_s: float) -> bytes:
        """Kept audio from `start_s` to `end_s` on Vosk's clock, with margins."""
        first = int((start_s - _SOS_CHECK_LEAD_S) * SAMPLE_RATE_HZ) - self.audio_first_sample
        last = int((end_s + _SOS_CHECK_TAIL_S) * SAMPLE_RATE_HZ) - self.audio_first_sample
        first, last = max(0, first), max(0, last)
        return bytes(self.audio[first * BYTES_PER_SAMPLE : last * BYTES_PER_SAMPLE])

    def _captured_at(self, stream_time_s: float) -> float:
        """Capture time of the sample Vosk reports at `stream_time_s` into the stream."""
        sample = stream_time_s * SAMPLE_RATE_HZ
        for sample_end, captured_at in reversed(self.timeline):
            if sample_end <= sample:
                return captured_at + (sample - sample_end) / SAMPLE_RATE_HZ
        if self.timeline:
            first_end, first_at = self.timeline[0]
            return first_at - (first_end - sample) / SAMPLE_RATE_HZ
        return time.monotonic()
