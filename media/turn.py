"""TURN REST API credentials: the pure function lives in `protocol.turn` (the server issues
them too and must not import `media`); re-exported here for the media layer's callers."""

from __future__ import annotations

from protocol.turn import DEFAULT_TTL, TurnCredentials, turn_rest_credentials

__all__ = ["DEFAULT_TTL", "TurnCredentials", "turn_rest_credentials"]
