"""API schemas of medication plans and doses: create, update, public views."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, WithJsonSchema

from protocol import (
    COLOUR_DEFAULT,
    WINDOW_MINUTES_DEFAULT,
    Appearance,
    Colour,
    DoseOutcome,
    DoseText,
    Instructions,
    Medicine,
    PlanStatus,
    Schedule,
    Strength,
    WindowMinutes,
)
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


# The plan's fields are the wire's (`protocol.PlanInfo`), so what the API accepts fits the box.
# Only the medicine is stricter here: `Name` also trims it and refuses blank text, as every
# name a person types is (the wire's `Medicine` is any 1–120 characters).


class PlanCreate(_Text):
    """A new medication plan."""

    medicine: Name
    strength: Strength = ""
    dose: DoseText = ""
    instructions: Instructions = ""
    appearance: Appearance = ""
    colour: Colour = COLOUR_DEFAULT
    schedule: Schedule
    window_minutes: WindowMinutes = WINDOW_MINUTES_DEFAULT


class PlanUpdate(_Text):
    """Changes to a plan; fields left out stay as they are."""

    medicine: Name | None = None
    strength: Strength | None = None
    dose: DoseText | None = None
    instructions: Instructions | None = None
    appearance: Appearance | None = None
    colour: Colour | None = None
    schedule: Schedule | None = None
    window_minutes: WindowMinutes | None = None
    status: PlanStatus | None = None


class PlanPublic(BaseModel):
    """A plan as the API shows it."""

    id: int
    elder_id: int
    medicine: Medicine
    strength: Strength
    dose: DoseText
    instructions: Instructions
    appearance: Appearance
    colour: Colour
    schedule: Schedule
    window_minutes: WindowMinutes
    status: PlanStatus
    created_by_id: int | None
    created_at: datetime
    updated_at: datetime


class DosePublic(BaseModel):
    """One dose of a day and what became of it (``due``/``upcoming`` while unanswered)."""

    plan_id: int
    medicine: str
    scheduled_local: LocalDateTime
    scheduled_at: datetime
    state: str
    answered_at: datetime | None = None


class AdherenceDayPublic(BaseModel):
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
