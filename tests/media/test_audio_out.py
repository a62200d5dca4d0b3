"""Remote audio playout: frames are consumed and written as PCM, with or without a device."""

from __future__ import annotations

import asyncio

from media.audio_out import (
    AplayAudioSink,
    AudioPlayout,
    NullAudioSink,
    has_playback_device,
    open_audio_sink,
)
from media.config import MediaSettings
from media.synthetic import SyntheticAudioTrack
from tests.media.calls import STEP_TIMEOUT_S
from tests.support.waiting import async_wait_until

BYTES_PER_20MS_STEREO = 960 * 2 * 2


async def test_null_sink_consumes_and_counts_every_frame() -> None:
    track = SyntheticAudioTrack()
    playout = AudioPlayout(track, NullAudioSink())
    playout.start()
    try:
        await async_wait_until(lambda: playout.frames_played >= 25, STEP_TIMEOUT_S)
    finally:
        await asyncio.wait_for(playout.stop(), 10)
        track.stop()
    assert playout.sink.bytes_written == playout.frames_played * BYTES_PER_20MS_STEREO


async def test_aplay_plays_pcm_into_an_alsa_device() -> None:
    # ALSA's "null" PCM accepts audio like a sound card would, on any machine.
    track = SyntheticAudioTrack()
    sink = AplayAudioSink("null")
    playout = AudioPlayout(track, sink)
    playout.start()
    try:
        await async_wait_until(lambda: playout.frames_played >= 25, STEP_TIMEOUT_S)
        assert sink.process.poll() is None  # aplay is running and taking the PCM
    finally:
        await asyncio.wait_for(playout.stop(), 10)
        track.stop()
    assert sink.bytes_written >= 25 * BYTES_PER_20MS_STEREO
    assert sink.process.returncode == 0


async def test_playout_survives_a_broken_audio_device() -> None:
    track = SyntheticAudioTrack()
    playout = AudioPlayout(track, AplayAudioSink("anxin_no_such_pcm"))
    playout.start()
    try:
        await async_wait_until(lambda: isinstance(playout.sink, NullAudioSink), STEP_TIMEOUT_S)
        played = playout.frames_played
        await async_wait_until(lambda: playout.frames_played >= played + 10, STEP_TIMEOUT_S)
    finally:
        await asyncio.wait_for(playout.stop(), 10)
        track.stop()


def test_sink_choice_follows_settings_and_hardware() -> None:
    assert isinstance(open_audio_sink(MediaSettings(audio_output_device="null")), AplayAudioSink)
    default = open_audio_sink(MediaSettings())
    try:
        expected = AplayAudioSink if has_playback_device() else NullAudioSink
        assert isinstance(default, expected)
    finally:
        default.close()
