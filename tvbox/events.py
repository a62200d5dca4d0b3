"""What the server link tells the app: its state and the events it received.

Kept apart from `tvbox.link.server_link` so view-models can consume them without importing any
network code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from protocol import ElderInfo, Message


class LinkState(Enum):
    """Where the link to the server is."""

    OFFLINE = "offline"
    CONNECTING = "connecting"
    PAIRING = "pairing"
    ONLINE = "online"


@dataclass(frozen=True)
class LinkStateChanged:
    """The link moved to `state`."""

    state: LinkState


@dataclass(frozen=True)
class PairingCodeIssued:
    """The server handed out a pairing code to show and speak."""

    code: str
    expires_at: datetime


@dataclass(frozen=True)
class PairedWithElder:
    """A family member entered the code: the box now belongs to `elder`."""

    device_id: int
    elder: ElderInfo


@dataclass(frozen=True)
class Welcomed:
    """The server accepted the device token (every connect of a paired box)."""

    device_id: int | None
    elder: ElderInfo | None


@dataclass(frozen=True)
class ElderChanged:
    """The elder record changed on the server."""

    elder: ElderInfo


@dataclass(frozen=True)
class Unpaired:
    """The box's token was revoked or refused: it has forgotten it and must pair again."""

    reason: str


@dataclass(frozen=True)
class OutboxAcked:
    """The server stored the outbox item `key`."""

    key: str
    duplicate: bool


@dataclass(frozen=True)
class ServerMessage:
    """Any other message the server pushed to the paired box (feature messages)."""

    message: Message


LinkEvent = (
    LinkStateChanged
    | PairingCodeIssued
    | PairedWithElder
    | Welcomed
    | ElderChanged
    | Unpaired
    | OutboxAcked
    | ServerMessage
)
