"""Bodies of the calls API (separate Update / Public shapes)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from protocol import CallEndReason, CallKind
from server.models import CallStatus
from server.schemas import Strict


class CallPublic(BaseModel):
    """A call or consult record as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: CallKind
    status: CallStatus
    elder_id: int
    user_id: int | None
    requested_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    end_reason: CallEndReason | None
    outcome: str
    notes: str


class CallPreferenceUpdate(Strict):
    """Change an elder's call settings."""

    auto_answer: bool


class CallPreferencePublic(BaseModel):
    """An elder's call settings."""

    auto_answer: bool
