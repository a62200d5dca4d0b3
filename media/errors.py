"""Errors raised by the media layer.

Hierarchy::

    MediaError(code, message)

`code` is a `MediaErrorCode`; the box maps it to a shown and spoken message, the call
signaling maps it to a protocol `error`/hang-up.
"""

from __future__ import annotations

from enum import StrEnum


class MediaErrorCode(StrEnum):
    """Machine-readable reasons for a `MediaError` (may be logged or sent on the wire)."""

    INVALID_SDP = "invalid_sdp"
    WRONG_SIGNALING_STATE = "wrong_signaling_state"
    SESSION_CLOSED = "session_closed"
    ICE_RESTART_UNSUPPORTED = "ice_restart_unsupported"
    AUDIO_OUTPUT_FAILED = "audio_output_failed"
    RENDER_FAILED = "render_failed"


class MediaError(Exception):
    """A media operation failed; `code` says why in machine terms."""

    def __init__(self, code: MediaErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
