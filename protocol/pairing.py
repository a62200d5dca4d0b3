"""HTTP bodies of pairing, shared by the box (client) and the server (routes).

A new box asks ``POST /api/pairing/requests`` for a code to show on the TV
(`PairingCodeRequest` → `PairingCode`), then waits on ``/ws/box`` for ``paired``. After a
reconnect it asks ``POST /api/pairing/status`` (`PairingStatusRequest` → `PairingStatus`)
whether a family member entered the code meanwhile.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from protocol.ids import RowId
from protocol.messages import ElderInfo, WireModel


class PairingState(StrEnum):
    """Where a pairing request stands, as the box sees it."""

    WAITING = "waiting"
    PAIRED = "paired"
    EXPIRED = "expired"


class PairingCodeRequest(WireModel):
    """Box → server: give me a code to show on the TV."""

    app_version: str = Field(default="", max_length=64)


class PairingCode(WireModel):
    """Server → box: the code to show, the secret that proves it is ours, and its expiry."""

    code: str
    pairing_secret: str
    expires_at: datetime


class PairingStatusRequest(WireModel):
    """Box → server: has the code of this secret been entered?"""

    pairing_secret: str = Field(min_length=8, max_length=256)


class PairingStatus(WireModel):
    """Server → box: the state of its code; once paired, its device token and its elder."""

    state: PairingState
    device_id: RowId | None = None
    device_token: str | None = None
    elder: ElderInfo | None = None
