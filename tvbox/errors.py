"""Errors raised by the TV box.

Hierarchy::

    TvboxError(code, message)
    ├── StoreError       the box's SQLite file could not be read or written
    ├── PairingError     the server refused or could not hand out a pairing code
    └── LinkClosed       the server link ended; `code` says why (revoked, dead, ...)
"""

from __future__ import annotations


class TvboxError(Exception):
    """Base of every error the box raises on purpose; `code` is machine-readable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class StoreError(TvboxError):
    """The local SQLite store failed."""


class PairingError(TvboxError):
    """Pairing could not proceed (rate limited, server error, unknown secret)."""


class LinkClosed(TvboxError):
    """The server link ended; the reconnect loop decides what comes next."""
