"""Remote audio played out: PCM into `aplay` when the box has a sound device, else a null sink.

`AudioPlayout` reads the remote audio track on the loop and does everything blocking in a
worker thread: resampling to 48 kHz s16 stereo (PyAV) and writing to the sink, whose
`write()` blocks while the sound card's buffer is full. Without a playback device the
`NullAudioSink` still consumes and counts frames, so aiortc never queues them forever and
tests can see audio arrive. If `aplay` dies mid-call the playout falls back to the null
sink: a call without sound is better than a call that stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import logging
import shutil
import subprocess
from typing import Protocol

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from media.config import MediaSettings
from media.errors import MediaError, MediaErrorCode

logger = logging.getLogger(__name__)

PLAYOUT_RATE = 48_000
PLAYOUT_CHANNELS = 2


class AudioSink(Protocol):
    """Where 48 kHz s16le stereo PCM goes; `write` may block (it runs in a worker thread)."""

    bytes_written: int

    def write(self, pcm: bytes) -> None:
        """Play `pcm` (blocking)."""

    def close(self) -> None:
        """Flush and release the device (blocking)."""


class NullAudioSink:
    """Consumes PCM and only counts it (no sound device)."""

    def __init__(self) -> None:
        self.bytes_written = 0

    def write(self, pcm: bytes) -> None:
        """Count `pcm`."""
        self.bytes_written += len(pcm)

    def close(self) -> None:
        """Nothing to release."""


class AplayAudioSink:
    """Pipes raw PCM into `aplay -D <device>` (alsa-utils)."""

    def __init__(self, device: str) -> None:
        self.device = device
        self.bytes_written = 0
        argv = ["aplay", "-q", "-t", "raw", "-f", "S16_LE", "-r", str(PLAYOUT_RATE)]
        argv += ["-c", str(PLAYOUT_CHANNELS), "-D", device]
        self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stderr=subprocess.PIPE)

    def write(self, pcm: bytes) -> None:
        """Write `pcm` to aplay; raises MediaError if aplay has gone away."""
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(pcm)
            self.process.stdin.flush()
        except (BrokenPipeError, ValueError) as err:
            stderr = (
                self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
            )
            raise MediaError(
                MediaErrorCode.AUDIO_OUTPUT_FAILED, f"aplay -D {self.device} stopped: {stderr}"
            ) from err
        self.bytes_written += len(pcm)

    def close(self) -> None:
        """Let aplay drain what it has, then reap it."""
        if self.process.stdin is not None:
            with contextlib.suppress(BrokenPipeError):
                self.process.stdin.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def has_playback_device() -> bool:
    """Whether ALSA exposes a playback PCM (e.g. /dev/snd/pcmC0D0p)."""
    return bool(glob.glob("/dev/snd/pcmC*D*p"))


def open_audio_sink(settings: MediaSettings) -> AudioSink:
    """aplay on the configured (or default) device when possible, else a null sink."""
    device = settings.audio_output_device
    if device is None and has_playback_device():
        device = "default"
    if device is None or shutil.which("aplay") is None:
        logger.info("no sound output; remote audio is consumed silently")
        return NullAudioSink()
    return AplayAudioSink(device)


class AudioPlayout:
    """Plays a remote audio track into a sink; `start()` it, `await stop()` it."""

    def __init__(self, track: MediaStreamTrack, sink: AudioSink) -> None:
        self.track = track
        self.sink = sink
        self.frames_played = 0
        self.ended = asyncio.Event()
        self._resampler = av.AudioResampler(format="s16", layout="stereo", rate=PLAYOUT_RATE)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin consuming the track (call on the asyncio loop)."""
        self._task = asyncio.get_running_loop().create_task(self._play())

    async def stop(self) -> None:
        """Stop consuming and close the sink (off the loop)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await asyncio.to_thread(self.sink.close)

    async def _play(self) -> None:
        try:
            while True:
                frame = await self.track.recv()
                if not isinstance(frame, av.AudioFrame):
                    continue
                try:
                    await asyncio.to_thread(self._write, frame)
                except MediaError as err:
                    logger.warning("%s; continuing without sound", err.message)
                    self.sink = NullAudioSink()
                    continue
                self.frames_played += 1
        except MediaStreamError:
            pass
        finally:
            self.ended.set()

    def _write(self, frame: av.AudioFrame) -> None:
        for out in self._resampler.resample(frame):
            size = out.samples * PLAYOUT_CHANNELS * 2
            self.sink.write(bytes(out.planes[0])[:size])
