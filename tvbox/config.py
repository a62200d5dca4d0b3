"""Settings of one TV box process (pydantic-settings, env prefix ``ANXIN_BOX_``).

The class is called `BoxConfig`, not ``BoxSettings``, because ``protocol.BoxSettings``
is the wire message the box sends when the elder changes a setting; both are used in
the same modules and one name for two things would mislead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from protocol import Lang


def parse_size(text: str) -> tuple[int, int]:
    """Turn ``"1920x1080"`` into ``(1920, 1080)``; raise ValueError otherwise."""
    width, sep, height = text.lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit():
        raise ValueError(f"size must look like 1920x1080, not {text!r}")
    size = int(width), int(height)
    if size[0] < 320 or size[1] < 240:
        raise ValueError(f"size {text!r} is too small for a TV")
    return size


class BoxConfig(BaseSettings):
    """Everything a box process needs to know at start-up."""

    model_config = SettingsConfigDict(env_prefix="ANXIN_BOX_", env_file=".env", extra="ignore")

    server_url: str = "http://127.0.0.1:8000"
    data_dir: Path = Path("data/tvbox")
    lang: Lang = Lang.ZH
    size: str = "1920x1080"
    fullscreen: bool = False
    # Multisample anti-aliasing of the window (Kivy's default is 2). Off: the multisampled
    # colour and depth buffers cost ~78 MB at 1080p with software GL (Mesa llvmpipe), and
    # text, the bulk of the UI, is drawn from textures that MSAA does not touch; only the
    # curved edges of tiles and rings lose some smoothing. Boxes with a GPU may set 2 or 4.
    msaa_samples: int = Field(default=0, ge=0, le=16)
    # 0 = off. The local API is bound to 127.0.0.1 only (tests now, sensors later).
    local_api_port: int = Field(default=0, ge=0, le=65535)
    app_version: str = "0.1.0"
    # The server sets the heartbeat period in Welcome; the link is dead when nothing
    # was heard for this many periods.
    heartbeat_misses: float = Field(default=3.0, gt=1)
    reconnect_initial_seconds: float = Field(default=0.5, gt=0)
    reconnect_max_seconds: float = Field(default=30.0, gt=0)
    http_timeout_seconds: float = Field(default=10.0, gt=0)
    sos_cancel_seconds: float = Field(
        default=10.0, gt=0, description="cancel window of sensor, voice and check-in SOS"
    )
    # "play" = speakers, "wav" = files under speech_dir (tests, headless), "off" = silent.
    speech_output: str = "play"
    speech_dir: Path | None = None
    # Voice commands (tvbox/listening/voice_control.py). voice_model: "" = a model for the elder's
    # language, "off" = no voice commands, else a language ("ko"), "name:<vosk model>" or
    # a model directory (voice.ModelSetting).
    voice_model: str = ""
    # Where the box hears the elder: "mic" (ALSA default device), "mic:<alsa device>",
    # or "fifo:<path>", a named pipe of raw 16 kHz mono S16_LE audio (a capture daemon, tests).
    voice_input: str = "mic"
    # vosk may download a model for the elder's language; off on boxes with metered links.
    voice_download: bool = True
    # Where the Simplified Chinese face extracted from fonts-noto-cjk is kept (~33 MB);
    # unset: <data_dir>/cache/fonts (the box writes nothing outside its data dir).
    font_cache_dir: Path | None = None
    # Lowest level logged (DEBUG, INFO, WARNING, ERROR); Kivy's own lines included, each once.
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("size")
    @classmethod
    def _check_size(cls, value: str) -> str:
        parse_size(value)
        return value

    @field_validator("speech_output")
    @classmethod
    def _check_speech_output(cls, value: str) -> str:
        if value not in {"play", "wav", "off"}:
            raise ValueError("speech_output must be play, wav or off")
        return value

    @field_validator("voice_input")
    @classmethod
    def _check_voice_input(cls, value: str) -> str:
        kind, _, target = value.partition(":")
        if kind not in {"mic", "fifo"} or (kind == "fifo" and not target):
            raise ValueError("voice_input must be mic, mic:<alsa device> or fifo:<path>")
        return value

    @property
    def fonts_dir(self) -> Path:
        """Where the extracted UI font is kept."""
        return self.font_cache_dir or self.data_dir / "cache" / "fonts"

    @property
    def window_size(self) -> tuple[int, int]:
        """Window size in pixels as (width, height)."""
        return parse_size(self.size)

    @property
    def store_path(self) -> Path:
        """Path of the box's own SQLite file."""
        return self.data_dir / "box.sqlite3"

    @property
    def ws_url(self) -> str:
        """WebSocket URL of the box endpoint, derived from `server_url`."""
        base = self.server_url.rstrip("/")
        if base.startswith("https://"):
            return "wss://" + base.removeprefix("https://") + "/ws/box"
        return "ws://" + base.removeprefix("http://") + "/ws/box"
