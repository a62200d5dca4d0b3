"""Queued text-to-speech with pyttsx3's espeak-ng binding on a dedicated worker thread.

The box speaks every prompt in the elder's language, slowly and loudly when the
elder hears poorly. Utterances wait in a priority queue; an URGENT one (an SOS
prompt) cuts off whatever is being said. Where the sound goes is a `SpeechOutput`:
`PlaybackOutput` plays through the speakers, `WavFileOutput` keeps WAV files.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import shutil
import subprocess
import tempfile
import threading
import time
import wave
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from pathlib import Path

from voice.errors import SpeechError, VoiceErrorCode
from voice.synthesis import synthesize_wav

log = logging.getLogger(__name__)

_CUT_POLL_S = 0.02


class Priority(IntEnum):
    """How urgently an utterance must be said; URGENT interrupts anything less."""

    LOW = 0
    NORMAL = 1
    HIGH = 2
    URGENT = 3


class SpeechEventKind(StrEnum):
    """What happened to an utterance."""

    STARTED = "started"
    FINISHED = "finished"
    INTERRUPTED = "interrupted"
    FAILED = "failed"


@dataclass(frozen=True)
class SpeechEvent:
    """One step in the life of an utterance, reported to listeners."""

    kind: SpeechEventKind
    text: str
    lang: str
    at: float  # time.monotonic()
    error: SpeechError | None = None  # set on FAILED


@dataclass(frozen=True)
class Utterance:
    """A queued request to say `text` in `lang`."""

    text: str
    lang: str
    priority: Priority
    seq: int
    rate: int  # words per minute, fixed when queued
    volume: float  # 0.0-1.0, fixed when queued


class SpeechOutput(ABC):
    """Where synthesized speech goes."""

    @abstractmethod
    def play(self, wav_path: Path, utterance: Utterance, cut: threading.Event) -> bool:
        """Deliver the WAV; return False if `cut` stopped it early, raise SpeechError on failure."""


class PlaybackOutput(SpeechOutput):
    """Plays each utterance through the sound card with `aplay`."""

    # pyttsx3's own say() plays with os.system("aplay ..."): it cannot be cut short
    # and ignores failures, so we synthesize with pyttsx3 and run aplay ourselves.
    def __init__(self, *, player: tuple[str, ...] = ("aplay", "-q")) -> None:
        self._player = player

    def play(self, wav_path: Path, utterance: Utterance, cut: threading.Event) -> bool:
        """Play through the speakers until done or cut."""
        try:
            proc = subprocess.Popen(
                [*self._player, str(wav_path)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        except OSError as err:
            raise SpeechError(
                VoiceErrorCode.NO_SOUND_DEVICE, f"cannot run {self._player[0]}: {err}"
            ) from err
        try:
            while True:
                try:
                    proc.wait(timeout=_CUT_POLL_S)
                    break
                except subprocess.TimeoutExpired:
                    if cut.is_set():
                        proc.terminate()
                        proc.wait(timeout=2)
                        return False
            stderr = proc.stderr.read().decode(errors="replace").strip() if proc.stderr else ""
            stderr = stderr.splitlines()[-1] if stderr else ""  # aplay's own last word
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            if proc.stderr:
                proc.stderr.close()
        if proc.returncode != 0:
            raise SpeechError(
                VoiceErrorCode.NO_SOUND_DEVICE,
                f"{self._player[0]} exited {proc.returncode}: {stderr or 'no message'}",
            )
        return True


class WavFileOutput(SpeechOutput):
    """Keeps each utterance as a WAV file in `directory` (tests, headless boxes).

    With `paced=True` it stays "speaking" for the audio's duration, as a
    loudspeaker would, so interruption and echo suppression behave realistically.
    """

    def __init__(self, directory: Path | str, *, paced: bool = False) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.paced = paced
        self._lock = threading.Lock()
        self._written: list[Path] = []

    @property
    def written(self) -> list[Path]:
        """WAV files kept so far, oldest first."""
        with self._lock:
            return list(self._written)

    def play(self, wav_path: Path, utterance: Utterance, cut: threading.Event) -> bool:
        """Move the WAV into the directory; when paced, wait out its duration."""
        target = self.directory / f"{utterance.seq:05d}-{utterance.lang}.wav"
        shutil.move(wav_path, target)
        with self._lock:
            self._written.append(target)
        if self.paced:
            return not cut.wait(wav_duration_s(target))
        return not cut.is_set()


def wav_duration_s(path: Path) -> float:
    """Length of a WAV file in seconds."""
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / float(wav.getframerate())


@dataclass
class _VoiceSettings:
    rate: int
    volume: float


@dataclass(order=True)
class _QueueEntry:
    sort_key: tuple[int, int]
    utterance: Utterance = field(compare=False)


class Speaker:
    """Queued text-to-speech with pyttsx3 (espeak-ng) on its own worker thread."""

    def __init__(
        self, *, rate: int = 150, volume: float = 1.0, output: SpeechOutput | None = None
    ) -> None:
        self._settings = _VoiceSettings(rate=rate, volume=_clamp_volume(volume))
        self._output = output if output is not None else PlaybackOutput()
        self._listeners: list[Callable[[SpeechEvent], None]] = []
        self._cond = threading.Condition()
        self._queue: list[_QueueEntry] = []
        self._seq = itertools.count(1)
        self._current: Utterance | None = None
        self._cut = threading.Event()
        self._closing = False
        self._scratch = tempfile.TemporaryDirectory(prefix="anxin-speech-")
        self._thread = threading.Thread(target=self._run, name="anxin-speaker", daemon=True)
        self._thread.start()

    # --- public API (thread-safe) ---

    def speak(self, text: str, lang: str, priority: Priority = Priority.NORMAL) -> None:
        """Queue `text` to be said in `lang`; URGENT interrupts anything less urgent."""
        text = text.strip()
        if not text:
            return
        priority = Priority(priority)
        with self._cond:
            if self._closing:
                raise SpeechError(VoiceErrorCode.SYNTHESIS_FAILED, "speaker is closed")
            utterance = Utterance(
                text=text,
                lang=lang,
                priority=priority,
                seq=next(self._seq),
                rate=self._settings.rate,
                volume=self._settings.volume,
            )
            # Higher priority first, then first come first served.
            heapq.heappush(self._queue, _QueueEntry((-priority, utterance.seq), utterance))
            current = self._current
            if (
                priority == Priority.URGENT
                and current is not None
                and current.priority < Priority.URGENT
            ):
                self._cut.set()
            self._cond.notify_all()

    def set_voice(self, *, rate: int | None = None, volume: float | None = None) -> None:
        """Change words per minute and/or volume (0.0-1.0) for utterances queued from now on."""
        with self._cond:
            if rate is not None:
                if rate <= 0:
                    raise ValueError(f"rate must be positive, got {rate}")
                self._settings.rate = int(rate)
            if volume is not None:
                self._settings.volume = _clamp_volume(volume)

    @property
    def rate(self) -> int:
        """Words per minute used for the next utterance."""
        with self._cond:
            return self._settings.rate

    @property
    def volume(self) -> float:
        """Volume (0.0-1.0) used for the next utterance."""
        with self._cond:
            return self._settings.volume

    def add_listener(self, callback: Callable[[SpeechEvent], None]) -> None:
        """Call `callback` (from the worker thread) with every SpeechEvent."""
        with self._cond:
            self._listeners.append(callback)

    @property
    def speaking(self) -> bool:
        """True while an utterance is being synthesized or played."""
        with self._cond:
            return self._current is not None

    @property
    def busy(self) -> bool:
        """True from the moment an utterance is queued until the last one has played.

        A prompt waiting for the worker thread counts: the box is about to talk, and
        what the microphone hears then would be cut off by its own voice (EchoGate).
        """
        with self._cond:
            return self._current is not None or bool(self._queue)

    def stop(self) -> None:
        """Drop the queue and cut the current utterance."""
        with self._cond:
            self._queue.clear()
            if self._current is not None:
                self._cut.set()

    def close(self, timeout: float = 5.0) -> None:
        """Stop the worker thread (waits up to `timeout` seconds)."""
        with self._cond:
            self._closing = True
            self._queue.clear()
            self._cut.set()
            self._cond.notify_all()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)
        self._scratch.cleanup()

    def __enter__(self) -> Speaker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- worker thread ---

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closing:
                    self._cond.wait()
                if self._closing:
                    return
                utterance = heapq.heappop(self._queue).utterance
                self._current = utterance
                self._cut.clear()
            try:
                self._say(utterance)
            finally:
                with self._cond:
                    self._current = None

    def _say(self, utterance: Utterance) -> None:
        wav_path = Path(self._scratch.name) / f"{utterance.seq:05d}.wav"
        try:
            synthesized = synthesize_wav(
                utterance.text,
                utterance.lang,
                wav_path,
                rate=utterance.rate,
                volume=utterance.volume,
                cut=self._cut,
            )
            if not synthesized or self._cut.is_set():
                self._emit(SpeechEventKind.INTERRUPTED, utterance)
                return
            self._emit(SpeechEventKind.STARTED, utterance)
            completed = self._output.play(wav_path, utterance, self._cut)
        except SpeechError as err:
            log.warning("speech failed for %r: %s", utterance.text, err.message)
            self._emit(SpeechEventKind.FAILED, utterance, err)
            return
        except Exception as err:  # keep the worker alive whatever the output does
            log.exception("speech output crashed for %r", utterance.text)
            wrapped = SpeechError(VoiceErrorCode.SYNTHESIS_FAILED, f"speech output crashed: {err}")
            self._emit(SpeechEventKind.FAILED, utterance, wrapped)
            return
        finally:
            wav_path.unlink(missing_ok=True)
        self._emit(
            SpeechEventKind.FINISHED if completed else SpeechEventKind.INTERRUPTED, utterance
        )

    def _emit(
        self, kind: SpeechEventKind, utterance: Utterance, error: SpeechError | None = None
    ) -> None:
        event = SpeechEvent(kind, utterance.text, utterance.lang, time.monotonic(), error)
        with self._cond:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(event)
            except Exception:
                log.exception("speech listener failed on %s", event.kind)


def _clamp_volume(volume: float) -> float:
    if not 0.0 <= volume <= 1.0:
        raise ValueError(f"volume must be within 0.0-1.0, got {volume}")
    return float(volume)
