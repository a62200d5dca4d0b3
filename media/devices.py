"""Local camera and microphone, or synthetic sources when the box has none.

`open_local_media()` tries the camera (v4l2) and the microphone (ALSA/Pulse) through
`aiortc.contrib.media.MediaPlayer`; opening a device blocks (PyAV probes it), so it runs in a
worker thread with a timeout and never on the loop. Whatever cannot be opened is replaced
by `media.synthetic`. One `MediaRelay` shares each source: the preview on the TV and the
call each `subscribe_*()` and get their own proxy track.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass, field

from aiortc.contrib.media import MediaPlayer, MediaRelay
from aiortc.mediastreams import MediaStreamTrack

from media.config import MediaSettings
from media.synthetic import SyntheticAudioTrack, SyntheticVideoTrack

logger = logging.getLogger(__name__)

DEVICE_OPEN_TIMEOUT_S = 5.0


@dataclass
class LocalMedia:
    """The box's own video and audio sources, shared through one `MediaRelay`."""

    video_source: MediaStreamTrack | None
    audio_source: MediaStreamTrack | None
    video_is_camera: bool = False
    audio_is_microphone: bool = False
    _relay: MediaRelay = field(default_factory=MediaRelay, repr=False)
    _subscriptions: list[MediaStreamTrack] = field(default_factory=list, repr=False)

    @classmethod
    def synthetic(cls, settings: MediaSettings) -> LocalMedia:
        """Synthetic test picture and beeps, sized by `settings`."""
        return cls(
            video_source=SyntheticVideoTrack(
                settings.video_width, settings.video_height, settings.video_fps
            ),
            audio_source=SyntheticAudioTrack(settings.tone_hz),
        )

    def subscribe_video(self) -> MediaStreamTrack | None:
        """A new proxy of the video source (latest frame only, never a backlog)."""
        return self._subscribe(self.video_source)

    def subscribe_audio(self) -> MediaStreamTrack | None:
        """A new proxy of the audio source."""
        return self._subscribe(self.audio_source)

    def _subscribe(self, source: MediaStreamTrack | None) -> MediaStreamTrack | None:
        if source is None:
            return None
        proxy = self._relay.subscribe(source, buffered=False)
        self._subscriptions.append(proxy)
        return proxy

    def close(self) -> None:
        """Stop every subscription and the sources (which releases the devices)."""
        for track in [*self._subscriptions, self.video_source, self.audio_source]:
            if track is not None:
                track.stop()
        self._subscriptions.clear()


def _open_player(file: str, format: str, options: dict[str, str]) -> MediaPlayer:
    return MediaPlayer(file, format=format, options=options)


async def _try_device(
    file: str, format: str, options: dict[str, str], kind: str
) -> MediaStreamTrack | None:
    try:
        player = await asyncio.wait_for(
            asyncio.to_thread(_open_player, file, format, options), DEVICE_OPEN_TIMEOUT_S
        )
    except asyncio.CancelledError:
        raise
    except Exception as err:  # PyAV raises many kinds of errors for absent devices
        logger.info("no %s device %s (%s): %s; using synthetic", kind, file, format, err)
        return None
    track = player.video if kind == "video" else player.audio
    other = player.audio if kind == "video" else player.video
    if other is not None:
        other.stop()  # e.g. a webcam's built-in mic: the microphone is opened on its own
    if track is None:
        logger.info("%s device %s has no %s stream; using synthetic", kind, file, kind)
    return track


async def open_local_media(settings: MediaSettings) -> LocalMedia:
    """Open camera and microphone when present, synthetic sources otherwise (never blocks)."""
    synthetic = LocalMedia.synthetic(settings)
    if not settings.use_devices:
        return synthetic
    video: MediaStreamTrack | None = None
    audio: MediaStreamTrack | None = None
    # v4l2 names a device node; other PyAV formats (e.g. lavfi "testsrc=...") name a source.
    is_node = settings.video_format in ("v4l2", "video4linux2")
    if not is_node or await asyncio.to_thread(os.path.exists, settings.video_device):
        size = f"{settings.video_width}x{settings.video_height}"
        video = await _try_device(
            settings.video_device,
            settings.video_format,
            {"video_size": size, "framerate": str(settings.video_fps)},
            "video",
        )
    else:
        logger.info("no camera at %s; using synthetic video", settings.video_device)
    audio = await _try_device(settings.audio_device, settings.audio_format, {}, "audio")
    return LocalMedia(
        video_source=video or synthetic.video_source,
        audio_source=audio or synthetic.audio_source,
        video_is_camera=video is not None,
        audio_is_microphone=audio is not None,
    )
