"""Anxin media: aiortc tracks and call sessions for the box's video consultations.

Knows aiortc/PyAV, never FastAPI; only `media.render` touches Kivy, and `import media`
does not load it (the renderer's names are imported on first use).

A call on the box, with signaling carried by the caller (e.g. protocol messages)::

    settings = MediaSettings()
    local = await open_local_media(settings)           # camera/mic or synthetic
    session = CallSession(settings, local, on_state=show_state, on_remote_track=attach)
    offer_sdp = await session.create_offer()           # send it; receive the answer
    await session.accept_answer(answer_sdp)
    ...                                                # attach(): VideoRenderer / AudioPlayout
    await session.close()                              # hang up (the peer sees ENDED)
    local.close()
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from media.audio_out import AplayAudioSink, AudioPlayout, NullAudioSink, open_audio_sink
from media.config import IceServerSetting, MediaSettings
from media.devices import LocalMedia, open_local_media
from media.errors import MediaError, MediaErrorCode
from media.loopback import restore_host_candidates, use_loopback_host_candidates
from media.probe import AudioToneProbe, VideoStampProbe
from media.session import (
    CallSession,
    CallState,
    CallStats,
    build_rtc_configuration,
    drain_track,
)
from media.synthetic import (
    FrameStamp,
    SyntheticAudioTrack,
    SyntheticVideoTrack,
    measure_tone,
    read_stamp,
)
from media.turn import TurnCredentials, turn_rest_credentials

if TYPE_CHECKING:
    from media.render import VideoRenderer, make_video_widget, picture_in_picture

_RENDER_NAMES = ("VideoRenderer", "make_video_widget", "picture_in_picture")

__all__ = [
    "AplayAudioSink",
    "AudioPlayout",
    "AudioToneProbe",
    "CallSession",
    "CallState",
    "CallStats",
    "FrameStamp",
    "IceServerSetting",
    "LocalMedia",
    "MediaError",
    "MediaErrorCode",
    "MediaSettings",
    "NullAudioSink",
    "SyntheticAudioTrack",
    "SyntheticVideoTrack",
    "TurnCredentials",
    "VideoRenderer",
    "VideoStampProbe",
    "build_rtc_configuration",
    "drain_track",
    "make_video_widget",
    "measure_tone",
    "open_audio_sink",
    "open_local_media",
    "picture_in_picture",
    "read_stamp",
    "restore_host_candidates",
    "turn_rest_credentials",
    "use_loopback_host_candidates",
]


def __getattr__(name: str) -> Any:
    if name in _RENDER_NAMES:
        from media import render

        return getattr(render, name)
    raise AttributeError(f"module 'media' has no attribute {name!r}")
