"""Media settings: ICE servers, devices and call timing (env prefix `ANXIN_MEDIA_`).

Example (TURN with the REST-API credentials of `media.turn`)::

    ANXIN_MEDIA_ICE_SERVERS='[{"urls": ["turn:turn.example.org:3478"],
                               "username": "1767225600:box-42", "credential": "..."}]'
    ANXIN_MEDIA_ICE_TRANSPORT_POLICY=relay
"""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class IceServerSetting(BaseModel):
    """One STUN/TURN server as the browser's `RTCIceServer` spells it."""

    urls: list[str] | str
    username: str | None = None
    credential: str | None = None


class MediaSettings(BaseSettings):
    """Everything the media layer reads from the environment."""

    model_config = SettingsConfigDict(
        env_prefix="ANXIN_MEDIA_", env_file=".env", extra="ignore", populate_by_name=True
    )

    # Default [] on purpose: aiortc otherwise falls back to a public STUN server.
    ice_servers: list[IceServerSetting] = Field(default_factory=list)
    ice_transport_policy: Literal["all", "relay"] = "all"
    # aioice never gathers 127.0.0.1; in a loopback-only network namespace (tests, bench)
    # nothing would connect without this. See media/loopback.py. The short env name
    # ANXIN_MEDIA_LOOPBACK_ONLY=1 is accepted too.
    host_candidates_loopback_only: bool = Field(
        default=False,
        validation_alias=AliasChoices(
            "host_candidates_loopback_only",
            "ANXIN_MEDIA_HOST_CANDIDATES_LOOPBACK_ONLY",
            "ANXIN_MEDIA_LOOPBACK_ONLY",
        ),
    )

    video_device: str = "/dev/video0"
    video_format: str = "v4l2"
    # PyPI's PyAV wheels include FFmpeg's alsa input but not pulse: "default" reaches
    # PulseAudio/PipeWire through ALSA's pulse plugin where one is installed.
    audio_device: str = "default"
    audio_format: str = "alsa"
    use_devices: bool = True

    video_width: int = Field(default=640, ge=16)
    video_height: int = Field(default=480, ge=16)
    video_fps: int = Field(default=15, ge=1, le=60)
    tone_hz: int = Field(default=600, ge=20, le=8000)

    # aplay PCM name for remote audio, e.g. "default" or "null"; None picks a device
    # when /dev/snd has a playback PCM and a counting null sink otherwise.
    audio_output_device: str | None = None

    # No remote frame for this long while connected shows the call as RECONNECTING.
    stall_timeout_s: float = Field(default=3.0, gt=0)
