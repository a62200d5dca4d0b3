"""Synthetic camera and microphone: a moving test picture that carries a readable stamp, and beeps.

Used when the box has no camera/microphone (tests, demo, CI). The video frame carries a
*stamp* drawn in big black/white cells that survives VP8 compression: a 16-bit frame counter
and the sender's monotonic clock in milliseconds (mod 2**16), followed by the bitwise inverse
of both as a check. A receiver reads it with `read_stamp()` to prove that frames really
arrive, in order, and how old they are.

Layout (relative to frame size, so it survives scaling)::

    row 0 (h/12 tall):  32 cells = counter bits 15..0, clock-ms bits 15..0 (white = 1)
    row 1 (h/12 tall):  the same 32 cells inverted
    below:              a vertical grey gradient with a white bar sliding left to right
"""

from __future__ import annotations

import asyncio
import math
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

VIDEO_CLOCK_RATE = 90_000
AUDIO_SAMPLE_RATE = 48_000
AUDIO_PTIME_S = 0.020
AUDIO_SAMPLES_PER_FRAME = int(AUDIO_SAMPLE_RATE * AUDIO_PTIME_S)

STAMP_CELLS = 32
STAMP_FIELD_BITS = 16
STAMP_MODULO = 1 << STAMP_FIELD_BITS
_LUMA_BLACK = 16
_LUMA_WHITE = 235
_LUMA_THRESHOLD = 128


def monotonic_ms() -> int:
    """Milliseconds of the monotonic clock the stamp uses."""
    return int(time.monotonic() * 1000)


@dataclass(frozen=True)
class FrameStamp:
    """What a synthetic video frame says about itself."""

    counter: int
    sent_ms: int

    def age_ms(self, now_ms: int | None = None) -> int:
        """Milliseconds since the frame was drawn (same host only; wraps every ~65 s)."""
        now = monotonic_ms() if now_ms is None else now_ms
        return (now - self.sent_ms) % STAMP_MODULO


def _stamp_bits(counter: int, sent_ms: int) -> list[int]:
    word = ((counter % STAMP_MODULO) << STAMP_FIELD_BITS) | (sent_ms % STAMP_MODULO)
    return [(word >> (STAMP_CELLS - 1 - i)) & 1 for i in range(STAMP_CELLS)]


def _stamp_row_height(height: int) -> int:
    return max(2, height // 12)


def read_stamp_from_luma(
    luma: Callable[[int, int], int], width: int, height: int
) -> FrameStamp | None:
    """Decode a stamp given a luma(x, y) sampler (0..255, y downwards); None if unreadable."""
    row_h = _stamp_row_height(height)
    cell_w = width / STAMP_CELLS
    bits: list[int] = []
    for row in (0, 1):
        y = row * row_h + row_h // 2
        for cell in range(STAMP_CELLS):
            x = int(cell * cell_w + cell_w / 2)
            bits.append(1 if luma(x, y) >= _LUMA_THRESHOLD else 0)
    word, check = bits[:STAMP_CELLS], bits[STAMP_CELLS:]
    if any(a == b for a, b in zip(word, check, strict=True)):
        return None
    value = 0
    for bit in word:
        value = (value << 1) | bit
    return FrameStamp(counter=value >> STAMP_FIELD_BITS, sent_ms=value & (STAMP_MODULO - 1))


def read_stamp(frame: av.VideoFrame) -> FrameStamp | None:
    """Decode the stamp of a received video frame (any YUV/RGB format); None if absent."""
    if frame.format.name not in ("yuv420p", "yuvj420p", "gray"):
        frame = frame.reformat(format="yuv420p")
    plane = frame.planes[0]
    data = bytes(plane)
    stride = plane.line_size
    return read_stamp_from_luma(lambda x, y: data[y * stride + x], frame.width, frame.height)


def read_stamp_rgba(
    pixels: bytes, width: int, height: int, *, bottom_up: bool
) -> FrameStamp | None:
    """Decode a stamp from tightly packed RGBA pixels (e.g. a Kivy texture read-back)."""

    def luma(x: int, y: int) -> int:
        row = height - 1 - y if bottom_up else y
        offset = (row * width + x) * 4
        r, g, b = pixels[offset], pixels[offset + 1], pixels[offset + 2]
        return (r * 299 + g * 587 + b * 114) // 1000

    return read_stamp_from_luma(luma, width, height)


class _PacedTrack(MediaStreamTrack):
    """Paces `recv()` on the loop clock so frames leave at their presentation time."""

    def __init__(self, clock_rate: int, step: int) -> None:
        super().__init__()
        self._clock_rate = clock_rate
        self._step = step
        self._start: float | None = None
        self._pts = 0

    async def _next_pts(self) -> int:
        if self.readyState != "live":
            raise MediaStreamError
        loop = asyncio.get_running_loop()
        if self._start is None:
            self._start = loop.time()
            return 0
        self._pts += self._step
        delay = self._start + self._pts / self._clock_rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        return self._pts


class SyntheticVideoTrack(_PacedTrack):
    """A moving test picture with a readable frame stamp (see module docstring)."""

    kind = "video"

    def __init__(self, width: int = 640, height: int = 480, fps: int = 15) -> None:
        super().__init__(VIDEO_CLOCK_RATE, VIDEO_CLOCK_RATE // fps)
        self.width = width - width % 2
        self.height = height - height % 2
        self.fps = fps
        self.frames_sent = 0
        self._row_h = _stamp_row_height(self.height)
        self._bar_w = max(2, self.width // 16)
        body_rows = self.height - 2 * self._row_h
        self._gradient_rows = [
            bytes([40 + (150 * i) // max(1, body_rows - 1)]) * self.width for i in range(body_rows)
        ]
        self._chroma = (bytes([110]) * (self.width // 2), bytes([140]) * (self.width // 2))

    def draw(self, counter: int, sent_ms: int) -> av.VideoFrame:
        """Draw frame number `counter` stamped with `sent_ms` (no pacing; cheap: < 1 ms)."""
        frame = av.VideoFrame(self.width, self.height, "yuv420p")
        bits = _stamp_bits(counter, sent_ms)
        edges = [round(i * self.width / STAMP_CELLS) for i in range(STAMP_CELLS + 1)]
        rows = []
        for inverted in (False, True):
            row = b"".join(
                bytes([_LUMA_WHITE if bit ^ inverted else _LUMA_BLACK]) * (edges[i + 1] - edges[i])
                for i, bit in enumerate(bits)
            )
            rows.append(row * self._row_h)
        travel = self.width - self._bar_w
        x0 = (counter * 8) % (2 * travel)
        x0 = x0 if x0 < travel else 2 * travel - x0
        bar = bytes([_LUMA_WHITE]) * self._bar_w
        x1 = x0 + self._bar_w
        rows.extend(r[:x0] + bar + r[x1:] for r in self._gradient_rows)
        luma = b"".join(rows)
        _fill_plane(frame.planes[0], luma, self.width, self.height)
        for plane, value_row in zip(frame.planes[1:], self._chroma, strict=True):
            _fill_plane(plane, value_row * (self.height // 2), self.width // 2, self.height // 2)
        return frame

    async def recv(self) -> av.VideoFrame:
        """Next frame, released at its presentation time."""
        pts = await self._next_pts()
        frame = self.draw(self.frames_sent, monotonic_ms())
        frame.pts = pts
        frame.time_base = Fraction(1, VIDEO_CLOCK_RATE)
        self.frames_sent += 1
        return frame


def _fill_plane(plane: av.video.plane.VideoPlane, data: bytes, width: int, height: int) -> None:
    # PyAV pads lines to an alignment; tight data must be spread over the padded lines.
    if plane.line_size == width:
        plane.update(data)
        return
    pad = bytes(plane.line_size - width)
    plane.update(b"".join(data[y * width : (y + 1) * width] + pad for y in range(height)))


class SyntheticAudioTrack(_PacedTrack):
    """48 kHz mono beeps: `tone_hz` for `beep_s`, then silence for `gap_s`, in 20 ms frames."""

    kind = "audio"

    def __init__(self, tone_hz: int = 600, beep_s: float = 0.4, gap_s: float = 0.2) -> None:
        super().__init__(AUDIO_SAMPLE_RATE, AUDIO_SAMPLES_PER_FRAME)
        self.tone_hz = tone_hz
        self.frames_sent = 0
        self._beep_frames = round(beep_s / AUDIO_PTIME_S)
        self._cycle_frames = self._beep_frames + round(gap_s / AUDIO_PTIME_S)
        self._silence = bytes(2 * AUDIO_SAMPLES_PER_FRAME)

    def samples(self, index: int) -> bytes:
        """s16 mono PCM of frame number `index` (phase-continuous tone or silence)."""
        if index % self._cycle_frames >= self._beep_frames:
            return self._silence
        first = index * AUDIO_SAMPLES_PER_FRAME
        step = 2 * math.pi * self.tone_hz / AUDIO_SAMPLE_RATE
        amplitude = 0.3 * 32767
        pcm = array(
            "h",
            (int(amplitude * math.sin(step * (first + i))) for i in range(AUDIO_SAMPLES_PER_FRAME)),
        )
        return pcm.tobytes()

    async def recv(self) -> av.AudioFrame:
        """Next 20 ms frame, released at its presentation time."""
        pts = await self._next_pts()
        frame = av.AudioFrame(format="s16", layout="mono", samples=AUDIO_SAMPLES_PER_FRAME)
        frame.planes[0].update(self.samples(self.frames_sent))
        frame.pts = pts
        frame.sample_rate = AUDIO_SAMPLE_RATE
        frame.time_base = Fraction(1, AUDIO_SAMPLE_RATE)
        self.frames_sent += 1
        return frame


@dataclass(frozen=True)
class ToneMeasure:
    """Loudness and pitch of one received audio frame."""

    rms: float
    frequency_hz: float


def measure_tone(frame: av.AudioFrame) -> ToneMeasure:
    """RMS (of full scale 32767) and zero-crossing pitch estimate of the first channel."""
    if frame.format.name not in ("s16", "s16p"):
        resampler = av.AudioResampler(format="s16", layout="mono", rate=frame.sample_rate)
        frame = resampler.resample(frame)[0]
    samples = array("h", bytes(frame.planes[0])[: 2 * frame.samples * _packed_channels(frame)])
    channel = samples[:: _packed_channels(frame)]
    if not channel:
        return ToneMeasure(0.0, 0.0)
    rms = math.sqrt(sum(s * s for s in channel) / len(channel)) / 32767
    crossings = sum(1 for a, b in zip(channel[:-1], channel[1:], strict=True) if (a < 0) != (b < 0))
    duration_s = len(channel) / frame.sample_rate
    return ToneMeasure(rms=rms, frequency_hz=crossings / 2 / duration_s)


def _packed_channels(frame: av.AudioFrame) -> int:
    return 1 if frame.format.is_planar else len(frame.layout.channels)
