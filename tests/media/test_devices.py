"""Local media: synthetic fallback without devices, one source shared, and a responsive loop."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from media.config import MediaSettings
from media.devices import open_local_media
from media.synthetic import SyntheticAudioTrack, SyntheticVideoTrack, measure_tone, read_stamp
from tests.media.calls import make_peer, negotiate, wait_connected
from tests.support.waiting import async_wait_until

STEP_TIMEOUT_S = 15.0


class LoopLag:
    """Measures how late a 10 ms timer fires: the loop's responsiveness."""

    def __init__(self) -> None:
        self.lags_ms: list[float] = []

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            start = loop.time()
            await asyncio.sleep(0.01)
            self.lags_ms.append((loop.time() - start - 0.01) * 1000)

    @property
    def ticks(self) -> int:
        return len(self.lags_ms)

    @property
    def worst_ms(self) -> float:
        return max(self.lags_ms, default=0.0)

    def percentile_ms(self, fraction: float) -> float:
        ordered = sorted(self.lags_ms)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


@asynccontextmanager
async def measuring_lag() -> AsyncIterator[LoopLag]:
    lag = LoopLag()
    task = asyncio.ensure_future(lag.run())
    try:
        yield lag
    finally:
        task.cancel()


def no_devices(tmp_path: Path) -> MediaSettings:
    return MediaSettings(
        video_device=str(tmp_path / "video0"), audio_device="anxin_no_such_pcm", audio_format="alsa"
    )


async def test_without_devices_local_media_is_synthetic_and_shared(tmp_path: Path) -> None:
    async with measuring_lag() as lag:
        media = await asyncio.wait_for(open_local_media(no_devices(tmp_path)), STEP_TIMEOUT_S)
    try:
        assert not media.video_is_camera and not media.audio_is_microphone
        assert isinstance(media.video_source, SyntheticVideoTrack)
        assert isinstance(media.audio_source, SyntheticAudioTrack)
        assert lag.worst_ms < 200, f"device probing held the loop {lag.worst_ms:.0f} ms"
        # The TV's own preview and the call share one source through the relay.
        preview, call = media.subscribe_video(), media.subscribe_video()
        assert preview is not None and call is not None
        preview_frames = [await asyncio.wait_for(preview.recv(), 5) for _ in range(3)]
        call_frame = await asyncio.wait_for(call.recv(), 5)
        stamps = [read_stamp(f) for f in [*preview_frames, call_frame]]
        assert all(s is not None for s in stamps)
        assert stamps[-1].counter >= stamps[0].counter  # type: ignore[union-attr]
        assert media.video_source.frames_sent <= stamps[-1].counter + 3  # type: ignore
        audio = media.subscribe_audio()
        assert audio is not None
        frame = await asyncio.wait_for(audio.recv(), 5)
        assert (frame.sample_rate, frame.samples) == (48_000, 960)
    finally:
        media.close()


async def test_a_real_capture_source_is_used_when_it_opens() -> None:
    # FFmpeg's lavfi sources stand in for a camera and a microphone: same MediaPlayer path.
    settings = MediaSettings(
        video_format="lavfi",
        video_device="testsrc=size=640x480:rate=15",
        audio_format="lavfi",
        audio_device="sine=frequency=600:sample_rate=48000",
    )
    media = await asyncio.wait_for(open_local_media(settings), STEP_TIMEOUT_S)
    try:
        assert media.video_is_camera and media.audio_is_microphone
        video, audio = media.subscribe_video(), media.subscribe_audio()
        assert video is not None and audio is not None
        frame = await asyncio.wait_for(video.recv(), STEP_TIMEOUT_S)
        assert (frame.width, frame.height) == (640, 480)
        assert read_stamp(frame) is None  # really the source's picture, not synthetic
        sound = await asyncio.wait_for(audio.recv(), STEP_TIMEOUT_S)
        assert abs(measure_tone(sound).frequency_hz - 600) < 60
    finally:
        media.close()


@pytest.mark.skipif(os.path.exists("/dev/video0"), reason="this machine has a camera")
async def test_default_settings_fall_back_when_there_is_no_camera() -> None:
    media = await asyncio.wait_for(open_local_media(MediaSettings()), STEP_TIMEOUT_S)
    try:
        assert not media.video_is_camera
        assert isinstance(media.video_source, SyntheticVideoTrack)
    finally:
        media.close()


async def test_devices_can_be_switched_off() -> None:
    media = await asyncio.wait_for(
        open_local_media(MediaSettings(use_devices=False)), STEP_TIMEOUT_S
    )
    try:
        assert isinstance(media.video_source, SyntheticVideoTrack)
    finally:
        media.close()


@pytest.mark.netns
async def test_loop_stays_responsive_during_a_call(loopback_settings: MediaSettings) -> None:
    caller, callee = make_peer(loopback_settings), make_peer(loopback_settings)
    try:
        async with measuring_lag() as lag:
            await negotiate(caller.session, callee.session)
            await wait_connected(caller.session, callee.session)
            # About three seconds of two-way 640x480 video and audio.
            await async_wait_until(
                lambda: callee.video is not None and len(callee.video.stamps) >= 45, STEP_TIMEOUT_S
            )
        p95 = lag.percentile_ms(0.95)
        print(
            f"loop lag during the call: p50 {lag.percentile_ms(0.5):.1f} ms, p95 {p95:.1f} ms, "
            f"worst {lag.worst_ms:.1f} ms over {lag.ticks} ticks"
        )
        assert lag.ticks > 100
        # A Kivy frame is ~16 ms: most ticks must come within a frame or so. The single
        # worst tick also counts the OS preempting us on a shared 2-core machine, so it
        # only has to stay below a clearly visible freeze.
        assert p95 < 25, f"loop lag p95 {p95:.0f} ms"
        assert lag.worst_ms < 300, f"loop held for {lag.worst_ms:.0f} ms"
    finally:
        await caller.close()
        await callee.close()
