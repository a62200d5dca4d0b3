"""API schemas of appointments: departments, opening hours, closures, slots, holds, visits."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from server.ids import RowId
from server.models import AppointmentStatus, BookedBy, VisitKind
from server.text import Name

_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")


def _clock(value: str) -> str:
    if not _CLOCK.fullmatch(value):
        raise ValueError("a local time as HH:MM (00:00 to 24:00)")
    return value


Clock = Annotated[str, AfterValidator(_clock), Field(examples=["08:30"])]
"""A local wall-clock time of the clinic, ``HH:MM``."""

Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$", examples=["gp"])]
IdempotencyKey = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


def minutes(clock: str) -> int:
    """Minutes after midnight of ``HH:MM``."""
    hours, mins = clock.split(":")
    return int(hours) * 60 + int(mins)


def clock(minute: int) -> str:
    """``HH:MM`` of minutes after midnight."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class DepartmentCreate(_In):
    """A new department of a clinic."""

    code: Code
    name_zh: Name
    name_en: Name


class DepartmentPublic(BaseModel):
    """A department as the API shows it; ``name`` in the caller's language."""

    id: int
    clinic_id: int
    code: str
    name: str
    name_zh: str
    name_en: str


class HoursCreate(_In):
    """A doctor's weekly opening hours on one weekday (Monday 0 … Sunday 6)."""

    doctor_id: RowId
    department_id: RowId
    weekday: Annotated[int, Field(ge=0, le=6)]
    start: Clock
    end: Clock
    slot_minutes: Annotated[int, Field(ge=5, le=240)] = 15
    capacity: Annotated[int, Field(ge=1, le=50)] = 1
    kinds: Annotated[list[VisitKind], Field(min_length=1, max_length=3)] = [VisitKind.CLINIC]


class HoursUpdate(_In):
    """Changes to opening hours; fields left out stay as they are."""

    department_id: RowId | None = None
    weekday: Annotated[int, Field(ge=0, le=6)] | None = None
    start: Clock | None = None
    end: Clock | None = None
    slot_minutes: Annotated[int, Field(ge=5, le=240)] | None = None
    capacity: Annotated[int, Field(ge=1, le=50)] | None = None
    kinds: Annotated[list[VisitKind], Field(min_length=1, max_length=3)] | None = None


class HoursPublic(BaseModel):
    """Opening hours as the API shows them (local times of the clinic)."""

    id: int
    clinic_id: int
    doctor_id: int
    department_id: int
    weekday: int
    start: str
    end: str
    slot_minutes: int
    capacity: int
    kinds: list[VisitKind]
    timezone: str


class ClosureCreate(_In):
    """Time off of one doctor (``doctor_id``) or, without one, of the whole clinic."""

    doctor_id: RowId | None = None
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    reason: Annotated[str, Field(max_length=200)] = ""


class ClosurePublic(BaseModel):
    """A closure, and how many booked visits it cancelled when made."""

    id: int
    clinic_id: int
    doctor_id: int | None
    starts_at: datetime
    ends_at: datetime
    reason: str
    cancelled: int = 0


class SlotPublic(BaseModel):
    """A slot with a free place: UTC times, and its local start in the clinic's zone."""

    id: int
    clinic_id: int
    clinic_name: str
    department_id: int
    department_code: str
    department_name: str
    doctor_id: int
    doctor_name: str
    starts_at: datetime
    ends_at: datetime
    local_start: str  # "2026-12-07T09:00" in the clinic's zone
    timezone: str
    kinds: list[VisitKind]
    free: int


class HoldCreate(_In):
    """Keep a place of a slot for an elder while the booker confirms."""

    slot_id: RowId
    elder_id: RowId


class HoldPublic(BaseModel):
    """A hold and when it runs out."""

    id: int
    slot_id: int
    elder_id: int
    expires_at: datetime


class AppointmentCreate(_In):
    """Book an elder into a slot; a retry with the same key returns the first booking."""

    slot_id: RowId
    elder_id: RowId
    kind: VisitKind = VisitKind.CLINIC
    idempotency_key: IdempotencyKey
    hold_id: RowId | None = None


class AppointmentCancel(_In):
    """Why a visit is cancelled."""

    reason: Annotated[str, Field(max_length=200)] = ""


class AppointmentPublic(BaseModel):
    """A visit as the API shows it."""

    id: int
    elder_id: int
    slot_id: int
    clinic_id: int
    doctor_id: int
    department_id: int
    starts_at: datetime
    ends_at: datetime
    kind: VisitKind
    status: AppointmentStatus
    booked_by: BookedBy
    created_at: datetime
    cancelled_at: datetime | None
    cancel_reason: str


class AppointmentMove(_In):
    """Move a visit to another slot: booked there, then the old one cancelled, or neither."""

    slot_id: RowId
    kind: VisitKind | None = None  # default: the old visit's kind
    idempotency_key: IdempotencyKey
    hold_id: RowId | None = None


class AppointmentMark(_In):
    """What the clinic marks a visit as."""

    status: Literal[AppointmentStatus.ARRIVED, AppointmentStatus.NO_SHOW, AppointmentStatus.DONE]


class TravelUpdate(_In):
    """The minutes the elder needs to reach their clinic (None: not set; the TV then reminds
    one hour before a visit)."""

    minutes: Annotated[int, Field(ge=0, le=240)] | None


class TravelPublic(BaseModel):
    """The elder's travel time to their clinic."""

    elder_id: int
    minutes: int | None


class VideoCallPublic(BaseModel):
    """The call ringing the elder's TV for a video visit (``GET /api/calls/{call_id}`` then
    says whether it was answered)."""

    appointment_id: int
    call_id: int
    status: str
