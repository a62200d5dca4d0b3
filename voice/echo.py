"""Echo suppression: the microphone is not acted on while the box itself speaks.

`EchoGate` listens to a Speaker's events and remembers when it spoke. Audio
captured while the box was speaking, or within a short tail after (room echo,
the speaker's own output buffer), is muted. The gate judges audio by when it was
captured, not by when the worker thread gets round to decoding it.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from voice.speech import Speaker, SpeechEvent, SpeechEventKind

DEFAULT_TAIL_S = 0.5
_KEPT_INTERVALS = 32


class EchoGate:
    """Says whether audio captured at a given moment may be acted on."""

    def __init__(self, speaker: Speaker | None = None, *, tail_s: float = DEFAULT_TAIL_S) -> None:
        self.tail_s = tail_s
        self._lock = threading.Lock()
        self._speaking_since: float | None = None
        self._spoke: deque[tuple[float, float]] = deque(maxlen=_KEPT_INTERVALS)
        self._speaker = speaker
        if speaker is not None:
            speaker.add_listener(self.on_speech_event)

    def on_speech_event(self, event: SpeechEvent) -> None:
        """Speaker listener: track when the box starts and stops speaking."""
        with self._lock:
            if event.kind == SpeechEventKind.STARTED:
                self._speaking_since = event.at
            elif self._speaking_since is not None:
                self._spoke.append((self._speaking_since, event.at))
                self._speaking_since = None

    def muted(self, captured_at: float | None = None) -> bool:
        """True if audio captured at `captured_at` (default: now) overlaps the box's speech."""
        at = time.monotonic() if captured_at is None else captured_at
        with self._lock:
            if self._speaking_since is not None and at >= self._speaking_since:
                return True
            for start, end in self._spoke:
                if start <= at <= end + self.tail_s:
                    return True
        # A Speaker is busy while a prompt waits or is synthesized, before STARTED arrives.
        return self._speaker is not None and self._speaker.busy
