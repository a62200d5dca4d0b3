"""Errors raised while decoding wire messages.

Hierarchy::

    ProtocolError(code, message)
"""

from __future__ import annotations

from protocol.enums import ErrorCode


class ProtocolError(Exception):
    """A message could not be decoded; `code` says why in machine terms."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
