"""Shared fixtures and helpers for the voice tests (speech logs, spoken test audio)."""

from __future__ import annotations

import hashlib
import subprocess
import threading
from pathlib import Path

import pytest

from voice.speech import SpeechEvent, SpeechEventKind


class SpeechLog:
    """Collects SpeechEvents from the speaker's worker thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[SpeechEvent] = []

    def __call__(self, event: SpeechEvent) -> None:
        with self._lock:
            self._events.append(event)

    @property
    def events(self) -> list[SpeechEvent]:
        with self._lock:
            return list(self._events)

    def kinds_for(self, text: str) -> list[SpeechEventKind]:
        return [e.kind for e in self.events if e.text == text]

    def texts(self, kind: SpeechEventKind) -> list[str]:
        return [e.text for e in self.events if e.kind == kind]

    def ended(self, text: str) -> bool:
        terminal = {SpeechEventKind.FINISHED, SpeechEventKind.INTERRUPTED, SpeechEventKind.FAILED}
        return any(k in terminal for k in self.kinds_for(text))


@pytest.fixture
def speech_log() -> SpeechLog:
    return SpeechLog()


# --- recognition: real espeak-ng speech (the model fixtures are in tests/conftest.py) ---


def spoken_wav(
    directory: Path,
    text: str,
    *,
    voice: str = "ko",
    speed: int = 150,
    lead_s: float = 0.5,
    tail_s: float = 1.0,
) -> Path:
    """espeak-ng speech of `text` as 16 kHz mono WAV with silence around it (cached)."""
    key = hashlib.sha1(f"{text}|{voice}|{speed}|{lead_s}|{tail_s}".encode()).hexdigest()[:16]
    out = directory / f"{key}.wav"
    if out.exists():
        return out
    raw = directory / f"{key}-raw.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(raw), text], check=True)
    # Without the gain step sox clips espeak-ng's output (shared/voice/README.md).
    subprocess.run(
        ["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(out),
         "gain", "-n", "-3", "pad", str(lead_s), str(tail_s)],
        check=True,
    )  # fmt: skip
    raw.unlink()
    return out


def joined_wav(directory: Path, parts: list[Path], name: str) -> Path:
    """Concatenate WAVs (same format) into one stream."""
    out = directory / name
    subprocess.run(["sox", *map(str, parts), str(out)], check=True)
    return out
