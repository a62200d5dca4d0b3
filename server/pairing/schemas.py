"""Bodies of the pairing API (separate Create / Public shapes)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from protocol import ElderInfo
from server.ids import RowId
from server.schemas import Strict

# The box's own pairing bodies (code request and status) are protocol models: `protocol.pairing`.


class PairingClaimCreate(Strict):
    code: str = Field(pattern=r"^\d{6}$", description="the 6 digits shown on the TV")
    elder_id: RowId


class PairingClaimPublic(BaseModel):
    device_id: int
    elder_id: int


class BoxPublic(BaseModel):
    device_id: int
    elder: ElderInfo
