"""Audio sources for recognition: 16 kHz mono 16-bit PCM in timestamped chunks.

`ArecordSource` captures the box's microphone through ALSA's `arecord`;
`WavFileSource` reads a file (converted with sox when it is not 16 kHz mono);
`StreamSource` is fed bytes by another thread (tests, other capture paths).
Every source is read from the recognizer's worker thread, never from the loop.
"""

from __future__ import annotations

import queue
import subprocess
import threading
import time
import wave
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from voice.errors import AudioSourceError, VoiceErrorCode

SAMPLE_RATE_HZ = 16000
BYTES_PER_SAMPLE = 2
DEFAULT_CHUNK_MS = 50


def chunk_bytes(chunk_ms: int) -> int:
    """Bytes of 16 kHz 16-bit mono audio in `chunk_ms` milliseconds."""
    return SAMPLE_RATE_HZ * BYTES_PER_SAMPLE * chunk_ms // 1000


@dataclass(frozen=True)
class AudioChunk:
    """PCM bytes and when their last sample was captured (time.monotonic())."""

    pcm: bytes
    captured_at: float

    @property
    def duration_s(self) -> float:
        """Length of the chunk in seconds."""
        return len(self.pcm) / (SAMPLE_RATE_HZ * BYTES_PER_SAMPLE)


class AudioSource(ABC):
    """A blocking iterator of AudioChunks; `close()` ends it from any thread."""

    def __init__(self) -> None:
        self._closed = threading.Event()

    @abstractmethod
    def chunks(self) -> Iterator[AudioChunk]:
        """Yield chunks until the audio ends or the source is closed."""

    def close(self) -> None:
        """Stop producing chunks (thread-safe)."""
        self._closed.set()

    @property
    def closed(self) -> bool:
        """True once close() was called."""
        return self._closed.is_set()


class WavFileSource(AudioSource):
    """Reads a sound file; with `realtime=True` chunks come at the pace of speech."""

    def __init__(
        self, path: Path | str, *, chunk_ms: int = DEFAULT_CHUNK_MS, realtime: bool = False
    ) -> None:
        super().__init__()
        self.path = Path(path)
        self.chunk_ms = chunk_ms
        self.realtime = realtime

    def chunks(self) -> Iterator[AudioChunk]:
        """Yield the file's audio, converted to 16 kHz mono 16-bit if needed."""
        pcm = read_pcm16k(self.path)
        size = chunk_bytes(self.chunk_ms)
        started = time.monotonic()
        for offset in range(0, len(pcm), size):
            if self._closed.is_set():
                return
            piece = pcm[offset : offset + size]
            if self.realtime:
                # A microphone delivers a chunk once its last sample is spoken.
                due = started + (offset + len(piece)) / (SAMPLE_RATE_HZ * BYTES_PER_SAMPLE)
                if self._closed.wait(max(0.0, due - time.monotonic())):
                    return
            yield AudioChunk(piece, time.monotonic())


class StreamSource(AudioSource):
    """Audio pushed in by another thread with `push()`, ended with `end()`."""

    def __init__(self) -> None:
        super().__init__()
        self._queue: queue.Queue[AudioChunk | None] = queue.Queue()

    def push(self, pcm: bytes, captured_at: float | None = None) -> None:
        """Add 16 kHz mono 16-bit PCM captured at `captured_at` (default: now)."""
        at = time.monotonic() if captured_at is None else captured_at
        self._queue.put(AudioChunk(bytes(pcm), at))

    def end(self) -> None:
        """No more audio will be pushed."""
        self._queue.put(None)

    def close(self) -> None:
        """Stop now, dropping audio not yet read."""
        super().close()
        self._queue.put(None)

    def chunks(self) -> Iterator[AudioChunk]:
        """Yield pushed chunks until end() or close()."""
        while not self._closed.is_set():
            chunk = self._queue.get()
            if chunk is None or self._closed.is_set():
                return
            yield chunk


class ArecordSource(AudioSource):
    """Captures the microphone with ALSA `arecord` (Debian alsa-utils) as a subprocess."""

    def __init__(self, device: str = "default", *, chunk_ms: int = DEFAULT_CHUNK_MS) -> None:
        super().__init__()
        self.device = device
        self.chunk_ms = chunk_ms
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def command(self) -> list[str]:
        """The arecord command line: raw 16 kHz mono S16_LE to stdout."""
        return ["arecord", "-q", "-D", self.device, "-f", "S16_LE", "-r", str(SAMPLE_RATE_HZ),
                "-c", "1", "-t", "raw"]  # fmt: skip

    def chunks(self) -> Iterator[AudioChunk]:
        """Yield captured chunks until closed; AudioSourceError if capture fails."""
        try:
            proc = subprocess.Popen(
                self.command(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
            )  # fmt: skip
        except OSError as err:
            raise AudioSourceError(
                VoiceErrorCode.AUDIO_SOURCE_FAILED, f"cannot run arecord: {err}"
            ) from err
        with self._lock:
            self._proc = proc
        assert proc.stdout is not None and proc.stderr is not None
        size = chunk_bytes(self.chunk_ms)
        try:
            while not self._closed.is_set():
                piece = proc.stdout.read(size)
                if not piece:
                    break
                yield AudioChunk(piece, time.monotonic())
        finally:
            self._terminate()
        if not self._closed.is_set() and proc.returncode not in (0, None):
            message = proc.stderr.read().decode(errors="replace").strip()
            raise AudioSourceError(
                VoiceErrorCode.AUDIO_SOURCE_FAILED,
                f"arecord on {self.device!r} exited {proc.returncode}: {message or 'no message'}",
            )

    def close(self) -> None:
        """Stop capturing."""
        super().close()
        self._terminate()

    def _terminate(self) -> None:
        with self._lock:
            proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def read_pcm16k(path: Path) -> bytes:
    """A sound file's samples as 16 kHz mono 16-bit little-endian PCM."""
    try:
        with wave.open(str(path), "rb") as wav:
            if (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (
                SAMPLE_RATE_HZ, 1, BYTES_PER_SAMPLE,
            ):  # fmt: skip
                return wav.readframes(wav.getnframes())
    except (wave.Error, EOFError):
        pass  # not a plain PCM WAV: let sox read it
    except OSError as err:
        raise AudioSourceError(
            VoiceErrorCode.AUDIO_SOURCE_FAILED, f"cannot read {path}: {err}"
        ) from err
    command = ["sox", str(path), "-t", "raw", "-r", str(SAMPLE_RATE_HZ), "-c", "1", "-b", "16",
               "-e", "signed-integer", "-L", "-"]  # fmt: skip
    try:
        done = subprocess.run(command, capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise AudioSourceError(
            VoiceErrorCode.AUDIO_SOURCE_FAILED, f"cannot convert {path} with sox: {err}"
        ) from err
    if done.returncode != 0:
        raise AudioSourceError(
            VoiceErrorCode.AUDIO_SOURCE_FAILED,
            f"sox could not read {path}: {done.stderr.decode(errors='replace').strip()}",
        )
    return done.stdout
