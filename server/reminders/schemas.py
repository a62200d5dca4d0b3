"""API schemas of medication plans and doses: create, update, public views."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from protocol import DoseOutcome, PlanStatus, Schedule
from server.text import Name

# The elder's wall-clock date and time, without offset (JSON Schema's "date-time" requires one).
LocalDateTime = Annotated[
    datetime,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?$",
            "description": "local wall-clock date and time, without offset",
        }
    ),
]


class _Text(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PlanCreate(_Text):
    """A new medication plan."""

    medicine: Name
    strength: str = Field(default="", max_length=60)
    dose: str = Field(default="", max_length=120)
    instructions: str = Field(default="", max_length=300)
    appearance: str = Field(default="", max_length=120)
    colour: str = Field(default="#ffffff", pattern=r"^#[0-9a-fA-F]{6}$")
    schedule: Schedule
    window_minutes: int = Field(default=30, ge=1, le=24 * 60)


class PlanUpdate(_Text):
    """Changes to a plan; fields left out stay as they are."""

    medicine: Name | None = None
    strength: str | None = Field(default=None, max_length=60)
    dose: str | None = Field(default=None, max_length=120)
    instructions: str | None = Field(default=None, max_length=300)
    appearance: str | None = Field(default=None, max_length=120)
    colour: str | None = Field(default=None, pattern=r"^#[0-9a-fA-F]{6}$")
    schedule: Schedule | None = None
    window_minutes: int | None = Field(default=None, ge=1, le=24 * 60)
    status: PlanStatus | None = None


class PlanPublic(BaseModel):
    """A plan as the API shows it."""

    id: int
    elder_id: int
    medicine: str
    strength: str
    dose: str
    instructions: str
    appearance: str
    colour: str
    schedule: Schedule
    window_minutes: int
    status: PlanStatus
    created_by_id: int | None
    created_at: datetime
    updated_at: datetime


class DoseView(BaseModel):
    """One dose of a day and what became of it (``due``/``upcoming`` while unanswered)."""

    plan_id: int
    medicine: str
    scheduled_local: LocalDateTime
    scheduled_at: datetime
    state: str
    answered_at: datetime | None = None


class AdherenceDay(BaseModel):
    """Doses taken out of doses due on one local day."""

    day: date
    due: int
    taken: int

    @property
    def percent(self) -> int:
        """Share taken, 0–100 (100 on days with nothing due)."""
        return 100 if self.due == 0 else round(100 * self.taken / self.due)


class AlertSettingsUpdate(_Text):
    """Which missed-dose alerts one family member gets for one elder."""

    email_missed: bool
    live_missed: bool


class AlertSettingsPublic(AlertSettingsUpdate):
    """The current alert choice of the caller."""

    user_id: int
    elder_id: int


OUTCOME_STATES = {o.value for o in DoseOutcome} | {"due", "upcoming"}
