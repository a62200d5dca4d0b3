"""Calls between two aiortc peers in one process, over loopback inside a network namespace."""

from __future__ import annotations

import asyncio
import subprocess

import pytest
from aiortc.mediastreams import MediaStreamTrack

from media.audio_out import AplayAudioSink, AudioPlayout
from media.config import MediaSettings
from media.errors import MediaError, MediaErrorCode
from media.session import CallSession, CallState, drain_track
from tests.media.calls import STEP_TIMEOUT_S, make_peer, negotiate, wait_connected
from tests.support.waiting import async_wait_until

pytestmark = pytest.mark.netns


async def test_call_carries_fresh_video_and_audio_both_ways(
    loopback_settings: MediaSettings,
) -> None:
    caller, callee = make_peer(loopback_settings), make_peer(loopback_settings)
    try:
        await negotiate(caller.session, callee.session)
        await wait_connected(caller.session, callee.session)
        for peer in (caller, callee):
            await async_wait_until(
                lambda p=peer: p.video is not None and len(p.video.stamps) >= 30, STEP_TIMEOUT_S
            )
            await async_wait_until(
                lambda p=peer: p.audio is not None and p.audio.tone_frames(600) >= 20,
                STEP_TIMEOUT_S,
            )
        for peer, other in ((caller, callee), (callee, caller)):
            video, audio, stats = peer.video, peer.audio, peer.session.stats
            assert video is not None and audio is not None
            assert video.size == (640, 480)
            assert video.in_order, [s.counter for s in video.stamps]
            # Frames arrive as they are drawn, not replayed from a backlog.
            assert video.stamps[-1].counter >= other.media.video_source.frames_sent - 10
            assert sorted(video.ages_ms)[len(video.ages_ms) // 2] < 500, video.ages_ms
            assert audio.silent_frames() > 0  # the beeps' gaps survive too
            assert stats.connected_after_s is not None and stats.connected_after_s < 5
            assert stats.first_video_frame_after_s is not None
            assert stats.first_audio_frame_after_s is not None
            assert stats.video_frames_received >= len(video.stamps)
            print(
                f"connected after {stats.connected_after_s:.3f} s, first video frame "
                f"{stats.first_video_frame_after_s:.3f} s, first audio frame "
                f"{stats.first_audio_frame_after_s:.3f} s, median age "
                f"{sorted(video.ages_ms)[len(video.ages_ms) // 2]} ms"
            )
    finally:
        await caller.close()
        await callee.close()


@pytest.mark.parametrize("who_hangs_up", ["caller", "callee"])
async def test_hang_up_ends_the_other_side(
    loopback_settings: MediaSettings, who_hangs_up: str
) -> None:
    caller, callee = make_peer(loopback_settings), make_peer(loopback_settings)
    hanging, other = (caller, callee) if who_hangs_up == "caller" else (callee, caller)
    try:
        await negotiate(caller.session, callee.session)
        await wait_connected(caller.session, callee.session)
        await async_wait_until(
            lambda: other.video is not None and other.video.frames > 0, STEP_TIMEOUT_S
        )
        await hanging.close()
        assert hanging.session.state == CallState.ENDED
        state = await asyncio.wait_for(
            other.session.wait_for_state(CallState.ENDED), STEP_TIMEOUT_S
        )
        assert state == CallState.ENDED
        assert other.states == [CallState.CONNECTING, CallState.CONNECTED, CallState.ENDED]
        assert other.session.pc.connectionState == "closed"
        assert other.video is not None
        await asyncio.wait_for(other.video.ended.wait(), STEP_TIMEOUT_S)
    finally:
        await caller.close()
        await callee.close()


async def test_network_blip_shows_reconnecting_then_recovers() -> None:
    settings = MediaSettings(
        host_candidates_loopback_only=True, use_devices=False, stall_timeout_s=1.0
    )
    caller, callee = make_peer(settings), make_peer(settings)
    try:
        await negotiate(caller.session, callee.session)
        await wait_connected(caller.session, callee.session)
        await async_wait_until(
            lambda: callee.video is not None and callee.video.frames >= 5, STEP_TIMEOUT_S
        )
        # Taking lo down in this private namespace drops every packet of the call.
        subprocess.run(["ip", "link", "set", "lo", "down"], check=True)
        try:
            state = await asyncio.wait_for(
                callee.session.wait_for_state(CallState.RECONNECTING), STEP_TIMEOUT_S
            )
            assert state == CallState.RECONNECTING
        finally:
            subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        state = await asyncio.wait_for(
            callee.session.wait_for_state(CallState.CONNECTED), STEP_TIMEOUT_S
        )
        assert state == CallState.CONNECTED
        assert callee.video is not None
        seen = callee.video.frames
        await async_wait_until(lambda: callee.video.frames >= seen + 5, STEP_TIMEOUT_S)
        assert callee.video.in_order
    finally:
        await caller.close()
        await callee.close()


async def test_restart_ice_ends_the_call_cleanly_because_aiortc_cannot(
    loopback_settings: MediaSettings,
) -> None:
    caller, callee = make_peer(loopback_settings), make_peer(loopback_settings)
    try:
        await negotiate(caller.session, callee.session)
        await wait_connected(caller.session, callee.session)
        with pytest.raises(MediaError) as raised:
            await asyncio.wait_for(caller.session.restart_ice(), STEP_TIMEOUT_S)
        assert raised.value.code == MediaErrorCode.ICE_RESTART_UNSUPPORTED
        assert caller.session.state == CallState.ENDED
        state = await asyncio.wait_for(
            callee.session.wait_for_state(CallState.ENDED), STEP_TIMEOUT_S
        )
        assert state == CallState.ENDED
    finally:
        await caller.close()
        await callee.close()


async def test_session_without_camera_still_receives(loopback_settings: MediaSettings) -> None:
    caller = make_peer(loopback_settings)
    watcher = CallSession(loopback_settings, None)  # e.g. a family member watching only
    try:
        await negotiate(watcher, caller.session)
        await wait_connected(watcher, caller.session)
        await async_wait_until(lambda: watcher.stats.video_frames_received >= 10, STEP_TIMEOUT_S)
        await async_wait_until(lambda: watcher.stats.audio_frames_received >= 10, STEP_TIMEOUT_S)
        assert caller.session.stats.video_frames_received == 0
    finally:
        await asyncio.wait_for(watcher.close(), STEP_TIMEOUT_S)
        await caller.close()


async def test_garbage_offer_is_refused_with_invalid_sdp(
    loopback_settings: MediaSettings,
) -> None:
    session = CallSession(loopback_settings, None)
    try:
        with pytest.raises(MediaError) as raised:
            await asyncio.wait_for(session.accept_offer("this is not sdp"), STEP_TIMEOUT_S)
        assert raised.value.code == MediaErrorCode.INVALID_SDP
    finally:
        await asyncio.wait_for(session.close(), STEP_TIMEOUT_S)
    with pytest.raises(MediaError) as raised:
        await asyncio.wait_for(session.create_offer(), STEP_TIMEOUT_S)
    assert raised.value.code == MediaErrorCode.SESSION_CLOSED


async def test_remote_audio_is_played_out_during_a_call(loopback_settings: MediaSettings) -> None:
    caller = make_peer(loopback_settings)
    playouts: list[AudioPlayout] = []

    def play(track: MediaStreamTrack) -> None:
        if track.kind == "audio":
            # ALSA's "null" device takes PCM like a sound card on any machine.
            playouts.append(AudioPlayout(track, AplayAudioSink("null")))
            playouts[-1].start()
        else:
            asyncio.ensure_future(drain_track(track))

    box = CallSession(loopback_settings, None, on_remote_track=play)
    try:
        await negotiate(box, caller.session)
        await wait_connected(box, caller.session)
        await async_wait_until(
            lambda: bool(playouts) and playouts[0].frames_played >= 25, STEP_TIMEOUT_S
        )
        sink = playouts[0].sink
        assert isinstance(sink, AplayAudioSink) and sink.process.poll() is None
        assert sink.bytes_written >= 25 * 960 * 2 * 2  # 48 kHz s16 stereo, 20 ms a frame
        await asyncio.wait_for(box.close(), STEP_TIMEOUT_S)
        # Hanging up ends the remote track, and with it the playout.
        await asyncio.wait_for(playouts[0].ended.wait(), STEP_TIMEOUT_S)
    finally:
        await asyncio.wait_for(box.close(), STEP_TIMEOUT_S)
        for playout in playouts:
            await asyncio.wait_for(playout.stop(), STEP_TIMEOUT_S)
        await caller.close()
