"""Wire messages of medication reminders: plans pushed to the box, dose answers sent back.

- server → box ``med_plans``: the elder's whole current plan list (small), pushed on every
  change and in answer to the box's ``med_plans_request`` after each (re)connect.
- box → server ``dose_answer`` (through the outbox, idempotent ``key``): taken, snoozed,
  skipped or missed (no answer within the box's grace window).
- server → page ``dose_alert``: a dose was missed (live alert on family pages).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from protocol.ids import RowId
from protocol.messages import Message, WireModel, utcnow
from protocol.schedule import Schedule


class PlanStatus(StrEnum):
    """Lifecycle of a medication plan."""

    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"


class DoseOutcome(StrEnum):
    """What became of one dose."""

    TAKEN = "taken"
    SNOOZED = "snoozed"
    SKIPPED = "skipped"
    MISSED = "missed"


FINAL_OUTCOMES = frozenset({DoseOutcome.TAKEN, DoseOutcome.SKIPPED})
"""Answers after which a dose is settled: no later report changes it."""


# The fields of a medication plan, defined once for the wire (`PlanInfo`) and the server's API
# bodies (``server/reminders/schemas.py``), so a plan the API accepts always fits the wire.
Medicine = Annotated[str, Field(min_length=1, max_length=120)]
Strength = Annotated[str, Field(max_length=60)]
DoseText = Annotated[str, Field(max_length=120)]
Instructions = Annotated[str, Field(max_length=300)]
Appearance = Annotated[str, Field(max_length=120)]
Colour = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")]
WindowMinutes = Annotated[int, Field(ge=1, le=24 * 60)]
COLOUR_DEFAULT = "#ffffff"
WINDOW_MINUTES_DEFAULT = 30
"""Minutes a dose stays on screen before it counts as missed, unless the plan says otherwise."""


class PlanInfo(WireModel):
    """A medication plan as the box knows it."""

    id: int
    medicine: Medicine
    strength: Strength = ""
    dose: DoseText = ""
    instructions: Instructions = ""
    appearance: Appearance = ""
    colour: Colour = COLOUR_DEFAULT
    schedule: Schedule
    window_minutes: WindowMinutes = WINDOW_MINUTES_DEFAULT
    status: PlanStatus = PlanStatus.ACTIVE
    updated_at: datetime


class MedPlans(Message):
    """Server → box: the elder's current plans (active and paused; ended ones are dropped)."""

    type: Literal["med_plans"] = "med_plans"
    elder_id: RowId
    plans: list[PlanInfo] = Field(default_factory=list, max_length=200)


class MedPlansRequest(Message):
    """Box → server (live, after each connect): send me the current plans."""

    type: Literal["med_plans_request"] = "med_plans_request"


class DoseAnswer(Message):
    """Box → server through the outbox: what happened to one dose, exactly once per (box, key)."""

    type: Literal["dose_answer"] = "dose_answer"
    key: str = Field(min_length=8, max_length=64)
    plan_id: RowId
    scheduled_local: datetime
    scheduled_at: datetime
    outcome: DoseOutcome
    occurred_at: datetime = Field(default_factory=utcnow)


class DoseAlert(Message):
    """Server → family page: a dose was not confirmed in time."""

    type: Literal["dose_alert"] = "dose_alert"
    elder_id: RowId
    elder_name: str
    plan_id: RowId
    medicine: str
    scheduled_at: datetime
    outcome: DoseOutcome = DoseOutcome.MISSED


def answer_key(plan_id: int, scheduled_local: datetime, outcome: DoseOutcome) -> str:
    """Idempotency key of a dose answer: the same (plan, dose time, answer) → the same key.

    A second snooze of the same dose gets a suffix from the caller (``#2``…), so each snooze is
    stored once but several snoozes are all kept.
    """
    local = scheduled_local.replace(tzinfo=None, microsecond=0).strftime("%Y%m%dT%H%M%S")
    return f"dose:{plan_id}:{local}:{outcome.value}"
