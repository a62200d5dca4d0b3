"""Errors raised by the voice package.

Hierarchy::

    VoiceError(code, message)          every voice failure; `code` is a VoiceErrorCode
    ├── SpeechError                    text-to-speech could not synthesize or play
    ├── ModelError                     no recognition model could be had or loaded
    ├── GrammarError                   a phrase grammar file is missing or malformed
    └── AudioSourceError               the microphone or an audio file could not be read

The box shows and speaks an error through its translation catalog: `message_key`
names the text and `params` fills it in (e.g. ``{"lang": "zh"}``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class VoiceErrorCode(StrEnum):
    """Machine-readable reasons a voice feature is unavailable or failed."""

    NO_MODEL = "no_model"
    MODEL_LOAD_FAILED = "model_load_failed"
    GRAMMAR_INVALID = "grammar_invalid"
    GRAMMAR_NOT_FOUND = "grammar_not_found"
    AUDIO_SOURCE_FAILED = "audio_source_failed"
    NO_SOUND_DEVICE = "no_sound_device"
    SYNTHESIS_FAILED = "synthesis_failed"
    UNKNOWN_LANGUAGE = "unknown_language"


class VoiceError(Exception):
    """A voice failure; `code` says why in machine terms, `message` in words for logs."""

    def __init__(
        self, code: VoiceErrorCode, message: str, *, params: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.params: dict[str, Any] = dict(params or {})

    @property
    def message_key(self) -> str:
        """Translation-catalog key the box uses to show and speak this error."""
        return f"voice.error.{self.code.value}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code.value!r}, {self.message!r})"


class SpeechError(VoiceError):
    """Text-to-speech could not synthesize or play an utterance."""


class ModelError(VoiceError):
    """No recognition model could be found, downloaded or loaded."""


class GrammarError(VoiceError):
    """A phrase grammar file is missing or malformed."""


class AudioSourceError(VoiceError):
    """An audio source (microphone, file) could not be opened or read."""
