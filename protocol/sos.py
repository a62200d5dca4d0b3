"""SOS wire messages: a box raises an alert; pages hear it; the box hears who answered."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import Field

from protocol.enums import Role
from protocol.ids import RowId
from protocol.messages import Message, utcnow


class SosSource(StrEnum):
    """What raised an SOS."""

    RED_KEY = "red_key"
    SENSOR = "sensor"
    VOICE = "voice"
    CHECK_IN = "check_in"


class SosStatus(StrEnum):
    """Where an alert stands."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class SosRaise(Message):
    """Box → server (through the outbox): the elder needs help.

    ``key`` makes it exactly-once; the server scopes it to the sending box, so another box
    (another home) may use the same key for its own SOS.
    """

    type: Literal["sos_raise"] = "sos_raise"
    key: str = Field(min_length=8, max_length=64)
    source: SosSource
    detail: str = Field(default="", max_length=200)
    occurred_at: datetime = Field(default_factory=utcnow)


class SosAlertPush(Message):
    """Server → pages: an alert was raised or changed (the board updates and sounds)."""

    type: Literal["sos_alert"] = "sos_alert"
    alert_id: RowId
    key: str
    elder_id: RowId
    elder_name: str
    status: SosStatus
    source: SosSource
    raised_at: datetime
    level: int = 0


class SosAcknowledged(Message):
    """Server → box: someone has seen the call; the TV says who."""

    type: Literal["sos_acknowledged"] = "sos_acknowledged"
    alert_id: RowId
    key: str
    by_name: str
    relation: str = ""
    by_role: Role | None = None


class SosResolved(Message):
    """Server → box: the alert was closed; the TV goes back home."""

    type: Literal["sos_resolved"] = "sos_resolved"
    alert_id: RowId
    key: str


class CheckInRuleSet(Message):
    """Server → box: the daily check-in time the family set (elder's local time), or off.

    If the elder has not used the remote or spoken by then, the TV asks "Are you all
    right?" and raises an SOS when nobody answers within 5 minutes.
    """

    type: Literal["check_in_rule"] = "check_in_rule"
    time_local: str | None = Field(default=None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
