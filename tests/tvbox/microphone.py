"""A test microphone: Korean espeak-ng speech written into a box's audio pipe in real time."""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path

from tests.support.waiting import wait_until
from tests.voice.conftest import spoken_wav
from voice.audio import BYTES_PER_SAMPLE, SAMPLE_RATE_HZ, chunk_bytes, read_pcm16k


class Microphone:
    """Speaks into the box's audio pipe as a microphone would: in real time."""

    def __init__(self, path: Path, speech_dir: Path) -> None:
        self.path = path
        self.speech_dir = speech_dir
        self.fd: int | None = None
        self.last_wav: Path | None = None

    def open(self) -> None:
        """Open the pipe for writing once the box reads it."""

        def opened() -> bool:
            try:  # non-blocking: fails with ENXIO until the box reads the pipe
                self.fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as err:
                if err.errno not in (errno.ENXIO, errno.ENOENT):
                    raise
                return False
            os.set_blocking(self.fd, True)
            return True

        wait_until(opened, 30, "the box to open its audio pipe")

    def say(self, text: str, voice: str = "ko") -> None:
        """Korean speech of `text` with 0.5 s of room silence before and 1 s after."""
        assert self.fd is not None
        self.last_wav = spoken_wav(self.speech_dir, text, voice=voice)
        pcm = read_pcm16k(self.last_wav)
        size = chunk_bytes(50)
        pace = threading.Event()  # never set: waiting on it paces the audio like a microphone
        for offset in range(0, len(pcm), size):
            piece = pcm[offset : offset + size]
            os.write(self.fd, piece)
            pace.wait(len(piece) / (SAMPLE_RATE_HZ * BYTES_PER_SAMPLE))

    def close(self) -> None:
        """Stop writing (the box keeps its pipe open)."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
