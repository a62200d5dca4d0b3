"""Core wire messages shared by the box, the web pages and the server.

Every message is a frozen pydantic model with a literal ``type``. A sender may set
``id``; replies and errors about that message carry it back as ``ref``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from protocol.enums import ClientKind, ErrorCode, Lang, RevokeReason, Role, Topic
from protocol.ids import RowId


def utcnow() -> datetime:
    """The current time in UTC, timezone-aware."""
    return datetime.now(UTC)


class WireModel(BaseModel):
    """Base of everything on the wire: unknown fields are refused, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Message(WireModel):
    """Base of every top-level message."""

    type: str
    id: str | None = Field(default=None, max_length=64)


# How the TV speaks to an elder, set by the family for poor hearing: espeak-ng words per
# minute (its own default, 175, is too fast for many elders) and loudness of the speech.
SPEECH_RATE_WPM_DEFAULT = 140
SPEECH_RATE_WPM_RANGE = (80, 220)
SPEECH_VOLUME_PCT_DEFAULT = 100
SPEECH_VOLUME_PCT_RANGE = (20, 100)


class ElderInfo(WireModel):
    """What a box needs to know about the elder it serves."""

    id: int
    name: str
    lang: Lang
    timezone: str
    speech_rate_wpm: int = Field(
        default=SPEECH_RATE_WPM_DEFAULT,
        ge=SPEECH_RATE_WPM_RANGE[0],
        le=SPEECH_RATE_WPM_RANGE[1],
    )
    speech_volume_pct: int = Field(
        default=SPEECH_VOLUME_PCT_DEFAULT,
        ge=SPEECH_VOLUME_PCT_RANGE[0],
        le=SPEECH_VOLUME_PCT_RANGE[1],
    )


class Hello(Message):
    """First message of a connection: who is speaking and with what credential.

    A box sends ``device_token`` once paired, or ``pairing_secret`` while it waits for a
    family member to enter its code. A page is authenticated by its session cookie, or
    by a bearer ``token`` when it has none.
    """

    type: Literal["hello"] = "hello"
    client: ClientKind
    device_token: str | None = Field(default=None, max_length=256)
    pairing_secret: str | None = Field(default=None, max_length=256)
    token: str | None = Field(default=None, max_length=256)
    app_version: str | None = Field(default=None, max_length=64)
    lang: Lang | None = None


class Welcome(Message):
    """The server accepted a `hello`."""

    type: Literal["welcome"] = "welcome"
    client: ClientKind
    role: Role | None = None
    user_id: RowId | None = None
    device_id: RowId | None = None
    elder: ElderInfo | None = None
    heartbeat_seconds: float
    server_time: datetime = Field(default_factory=utcnow)


class Heartbeat(Message):
    """Keep-alive, sent by both sides; a peer silent for too long is dead."""

    type: Literal["heartbeat"] = "heartbeat"
    ts: datetime = Field(default_factory=utcnow)


class Error(Message):
    """Something the peer sent could not be accepted; the connection stays open."""

    type: Literal["error"] = "error"
    code: ErrorCode
    message: str
    ref: str | None = None


class Paired(Message):
    """Server → waiting box: a family member entered the code; here is the device token."""

    type: Literal["paired"] = "paired"
    device_id: RowId
    device_token: str
    elder: ElderInfo


class Revoked(Message):
    """Server → box: this device was revoked; the server closes the socket next."""

    type: Literal["revoked"] = "revoked"
    message: str
    # Older servers send no reason: the box was unpaired.
    reason: RevokeReason = RevokeReason.UNPAIRED


class Changed(Message):
    """Server → page: data the page may see has changed (the page re-reads itself).

    Boxes are told of their elder's record by `ElderUpdated`, never by this.
    """

    type: Literal["changed"] = "changed"
    topic: Topic
    elder_id: RowId | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class ElderUpdated(Message):
    """Server → box: the record of the elder it serves changed; here it is, whole."""

    type: Literal["elder_updated"] = "elder_updated"
    elder: ElderInfo


class Ack(Message):
    """Server → box: the outbox item with idempotency ``key`` is stored.

    ``duplicate`` is true when the server had already stored it earlier from this same box.
    """

    type: Literal["ack"] = "ack"
    key: str
    duplicate: bool = False


class BoxSettings(Message):
    """Box → server (through the outbox): the elder changed a setting on the TV."""

    type: Literal["box_settings"] = "box_settings"
    key: str = Field(min_length=8, max_length=64)
    lang: Lang
    occurred_at: datetime = Field(default_factory=utcnow)
