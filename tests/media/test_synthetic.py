"""Synthetic sources: paced like a real camera/microphone, and their content is readable."""

from __future__ import annotations

import asyncio
from fractions import Fraction

import av
import pytest
from aiortc.mediastreams import MediaStreamError

from media.synthetic import (
    SyntheticAudioTrack,
    SyntheticVideoTrack,
    measure_tone,
    monotonic_ms,
    read_stamp,
)


async def test_video_frames_carry_counter_and_clock_and_move() -> None:
    track = SyntheticVideoTrack(640, 480, 30)
    frames = [await asyncio.wait_for(track.recv(), 5) for _ in range(4)]
    track.stop()
    assert [f.pts for f in frames] == [0, 3000, 6000, 9000]
    assert all(f.time_base == Fraction(1, 90_000) for f in frames)
    stamps = [read_stamp(f) for f in frames]
    assert [s.counter for s in stamps if s] == [0, 1, 2, 3]
    assert all(s is not None and 0 <= s.age_ms(monotonic_ms()) < 1000 for s in stamps)
    # The bar moves: consecutive pictures differ below the stamp band.
    bodies = [bytes(f.planes[0])[640 * 100 :] for f in frames]
    assert len(set(bodies)) == 4
    with pytest.raises(MediaStreamError):
        await asyncio.wait_for(track.recv(), 5)


def test_stamp_survives_lossy_encoding() -> None:
    track = SyntheticVideoTrack(640, 480, 15)
    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height, encoder.pix_fmt = 640, 480, "yuv420p"
    encoder.bit_rate = 300_000  # lower than aiortc's 500 kbps start
    encoder.time_base = Fraction(1, 15)
    decoder = av.CodecContext.create("libvpx", "r")
    decoded = []
    for index in range(10):
        frame = track.draw(index, 40_000 + index)
        frame.pts = index
        for packet in encoder.encode(frame):
            decoded.extend(decoder.decode(packet))
    for packet in encoder.encode(None):
        decoded.extend(decoder.decode(packet))
    stamps = [read_stamp(f) for f in decoded]
    assert [(s.counter, s.sent_ms) for s in stamps if s] == [(i, 40_000 + i) for i in range(10)]


def test_a_picture_without_stamp_reads_as_none() -> None:
    frame = av.VideoFrame(320, 240, "yuv420p")
    for plane in frame.planes:
        plane.update(bytes([128]) * plane.buffer_size)
    assert read_stamp(frame) is None


async def test_audio_is_paced_in_real_time_with_beeps_and_gaps() -> None:
    track = SyntheticAudioTrack(tone_hz=600, beep_s=0.2, gap_s=0.1)
    loop = asyncio.get_running_loop()
    first = await asyncio.wait_for(track.recv(), 5)
    start = loop.time()
    frames = [first] + [await asyncio.wait_for(track.recv(), 5) for _ in range(24)]
    elapsed = loop.time() - start
    track.stop()
    assert elapsed >= 24 * 0.020 - 0.01  # never faster than a real microphone
    assert [f.pts for f in frames[:3]] == [0, 960, 1920]
    assert all(
        (f.sample_rate, f.samples, f.time_base) == (48_000, 960, Fraction(1, 48_000))
        for f in frames
    )
    measures = [measure_tone(f) for f in frames]
    beeps = [m for m in measures[:10] if m.rms > 0.1]
    assert len(beeps) == 10 and all(abs(m.frequency_hz - 600) < 60 for m in beeps)
    assert all(m.rms == 0 for m in measures[10:15])  # the 100 ms gap
