"""Sinks that check synthetic media on the receiving side (tests, benchmark, box self-test).

`VideoStampProbe` reads the stamp of every received frame (see `media.synthetic`) and so
knows whether frames arrive in order and how old they are; `AudioToneProbe` measures the
loudness and pitch of every received audio frame. Both consume their track until it ends.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib

from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from media.synthetic import FrameStamp, ToneMeasure, measure_tone, read_stamp


class _Probe(abc.ABC):
    def __init__(self, track: MediaStreamTrack) -> None:
        self.track = track
        self.frames = 0
        self.ended = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._consume())

    async def _consume(self) -> None:
        try:
            with contextlib.suppress(MediaStreamError):
                while True:
                    frame = await self.track.recv()
                    self.frames += 1
                    # Decoding the stamp or pitch is pure Python: keep it off the loop.
                    await asyncio.to_thread(self._inspect, frame)
        finally:
            self.ended.set()

    @abc.abstractmethod
    def _inspect(self, frame) -> None:  # type: ignore[no-untyped-def]
        """Read one frame (each probe knows what it looks for)."""

    async def stop(self) -> None:
        """Stop consuming (the track is left to its owner)."""
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


class VideoStampProbe(_Probe):
    """Reads the stamp of each received video frame."""

    def __init__(self, track: MediaStreamTrack) -> None:
        self.stamps: list[FrameStamp] = []
        self.ages_ms: list[int] = []
        self.unreadable = 0
        self.size: tuple[int, int] | None = None
        super().__init__(track)

    def _inspect(self, frame) -> None:  # type: ignore[no-untyped-def]
        self.size = (frame.width, frame.height)
        stamp = read_stamp(frame)
        if stamp is None:
            self.unreadable += 1
            return
        self.ages_ms.append(stamp.age_ms())
        self.stamps.append(stamp)

    @property
    def in_order(self) -> bool:
        """Whether stamp counters strictly increase (gaps from dropped frames allowed)."""
        counters = [s.counter for s in self.stamps]
        return all(b > a for a, b in zip(counters[:-1], counters[1:], strict=True))


class AudioToneProbe(_Probe):
    """Measures each received audio frame."""

    def __init__(self, track: MediaStreamTrack) -> None:
        self.measures: list[ToneMeasure] = []
        super().__init__(track)

    def _inspect(self, frame) -> None:  # type: ignore[no-untyped-def]
        self.measures.append(measure_tone(frame))

    def tone_frames(self, tone_hz: float, tolerance: float = 0.1) -> int:
        """Frames that carry an audible tone within `tolerance` of `tone_hz`."""
        return sum(
            1
            for m in self.measures
            if m.rms > 0.05 and abs(m.frequency_hz - tone_hz) <= tone_hz * tolerance
        )

    def silent_frames(self) -> int:
        """Frames that are (near) silent."""
        return sum(1 for m in self.measures if m.rms < 0.01)
