"""The seam between the box and speech: what the box needs from a speaker, and how it gets one.

The box speaks through ``voice.speech.Speaker`` (see VOICE_API.md). View-models depend
only on the small `SpeechSink` protocol below, so their tests use a recording object and
the app can run silent when no speech engine is installed.
"""

from __future__ import annotations

import logging
from collections import deque
from enum import IntEnum
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)


class Priority(IntEnum):
    """Same values as ``voice.speech.Priority``; URGENT interrupts whatever is being said."""

    LOW = 0
    NORMAL = 1
    HIGH = 2
    URGENT = 3


class SpeechSink(Protocol):
    """What the box needs from a speaker."""

    def speak(self, text: str, lang: str, priority: Priority = Priority.NORMAL) -> None:
        """Queue `text` to be said in `lang`; never blocks."""

    def stop(self) -> None:
        """Drop queued speech and cut the current utterance."""

    def set_voice(self, *, rate: int, volume: float) -> None:
        """Words per minute and volume (0.0-1.0) for what is queued from now on."""


class SilentSpeaker:
    """A speaker that says nothing (no speech engine, or speech turned off)."""

    def speak(self, text: str, lang: str, priority: Priority = Priority.NORMAL) -> None:
        """Log `text` instead of saying it."""
        log.info("(silent) %s: %s", lang, text)

    def stop(self) -> None:
        """Nothing to stop."""

    def set_voice(self, *, rate: int, volume: float) -> None:
        """Nothing to set."""

    def close(self) -> None:
        """Nothing to close."""


class SpokenLog:
    """Forwards to a real speaker and remembers the last utterances (shown by the local API)."""

    def __init__(self, inner: Any, keep: int = 20) -> None:
        self.inner = inner
        self.said: deque[tuple[str, str]] = deque(maxlen=keep)

    def speak(self, text: str, lang: str, priority: Priority = Priority.NORMAL) -> None:
        """Remember `text`, then hand it to the real speaker."""
        self.said.append((lang, text))
        self.inner.speak(text, lang, _voice_priority(priority))

    def stop(self) -> None:
        """Stop the real speaker."""
        self.inner.stop()

    def set_voice(self, *, rate: int, volume: float) -> None:
        """Set the real speaker's rate and volume."""
        self.inner.set_voice(rate=rate, volume=volume)

    def close(self) -> None:
        """Close the real speaker (its worker thread)."""
        close = getattr(self.inner, "close", None)
        if close is not None:
            close()


def _voice_priority(priority: Priority) -> Any:
    try:
        from voice.speech import Priority as VoicePriority
    except ImportError:
        return priority
    return VoicePriority(int(priority))


def make_speaker(output: str, directory: Path | None = None) -> SpokenLog:
    """A speaker for the app: "play" (speakers), "wav" (files in `directory`) or "off"."""
    if output == "off":
        return SpokenLog(SilentSpeaker())
    try:
        from voice.speech import PlaybackOutput, Speaker, WavFileOutput
    except ImportError:
        log.warning("voice.speech is not installed: the box will not speak")
        return SpokenLog(SilentSpeaker())
    if output == "wav":
        if directory is None:
            raise ValueError("speech_output=wav needs speech_dir")
        directory.mkdir(parents=True, exist_ok=True)
        return SpokenLog(Speaker(output=WavFileOutput(directory)))
    return SpokenLog(Speaker(output=PlaybackOutput()))
