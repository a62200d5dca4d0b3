"""Wire messages of clinic appointments between the TV box and the server.

- server → box ``appointments``: the elder's upcoming visits, whole (small), sent on connect
  and at once on every change, whoever made it (family page, operator, clinic, the box);
- box → server ``appt_options_request`` (live): the choices of one step of "Book a visit"
  (departments, the elder's usual ones first; clinics, nearest first; days with free slots;
  free times of a morning or an afternoon), answered by ``appt_options`` (at most 6);
- box → server ``appt_hold`` (live): keep a slot while the elder reads the confirm screen,
  answered by ``appt_held``;
- box → server ``appt_book`` (live, with the box's idempotency ``key``, scoped by the server
  to the sending device): answered by ``appt_booked``;
- box → server ``appt_cancel`` (through the outbox, idempotent ``key``): answered by ``ack``;
- server → box ``appt_refused``: a hold, booking or cancellation was refused, with the reason's
  code (``slot_taken``, ``hold_expired``, ``clinic_closed``…) and words in the elder's language.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import Field

from protocol.enums import ErrorCode
from protocol.ids import RowId
from protocol.messages import Message, WireModel, utcnow

MAX_CHOICES = 6
"""At most six choices on a TV screen."""

DEPARTMENT_CODE = r"^[a-z][a-z0-9_]{0,31}$"


class VisitPlace(StrEnum):
    """Where a visit happens (the server's ``VisitKind``)."""

    CLINIC = "clinic"
    VIDEO = "video"
    HOME = "home"


class DayPart(StrEnum):
    """Half a day in the clinic's local time: before noon, or from noon on."""

    MORNING = "morning"
    AFTERNOON = "afternoon"


class BookingStep(StrEnum):
    """The steps of "Book a visit" whose choices the server gives."""

    DEPARTMENTS = "departments"
    CLINICS = "clinics"
    DAYS = "days"
    TIMES = "times"


class VisitInfo(WireModel):
    """One upcoming visit as the TV shows and says it."""

    id: RowId
    starts_at: datetime
    ends_at: datetime
    place: VisitPlace
    clinic_name: str = Field(max_length=120)
    clinic_address: str = Field(default="", max_length=255)
    doctor_name: str = Field(max_length=120)
    department_name: str = Field(default="", max_length=120)
    timezone: str = Field(max_length=64)  # the clinic's zone: the day and time are its own


class Appointments(Message):
    """Server → box: the elder's upcoming booked visits, earliest first, and the travel
    minutes the family set (None: not set; the box reminds one hour before)."""

    type: Literal["appointments"] = "appointments"
    elder_id: RowId
    visits: list[VisitInfo] = Field(default_factory=list, max_length=50)
    travel_minutes: int | None = Field(default=None, ge=0, le=240)


class ApptOptionsRequest(Message):
    """Box → server (live): the choices of one booking step, given the earlier choices."""

    type: Literal["appt_options_request"] = "appt_options_request"
    step: BookingStep
    department: str | None = Field(default=None, pattern=DEPARTMENT_CODE)
    clinic_id: RowId | None = None
    day: date | None = None
    part: DayPart | None = None


class ApptOption(WireModel):
    """One choice: ``key`` is what the next request names (a department code, a clinic id,
    a day, a slot id); ``label`` is a name in the elder's language (departments, clinics);
    days and times the box words itself from ``day`` / ``starts_at``."""

    key: str = Field(max_length=64)
    label: str = Field(default="", max_length=160)
    day: date | None = None
    starts_at: datetime | None = None
    doctor_name: str = Field(default="", max_length=120)
    distance_km: float | None = Field(default=None, ge=0)
    places: list[VisitPlace] = Field(default_factory=list, max_length=3)
    # A day: the halves with a free time, so the TV never offers a morning with none.
    parts: list[DayPart] = Field(default_factory=list, max_length=2)


class ApptOptions(Message):
    """Server → box: the answer to an ``appt_options_request`` (``ref`` = its id)."""

    type: Literal["appt_options"] = "appt_options"
    ref: str | None = None
    step: BookingStep
    options: list[ApptOption] = Field(default_factory=list, max_length=MAX_CHOICES)
    timezone: str = Field(default="", max_length=64)  # of the clinic, for days and times


class ApptHold(Message):
    """Box → server (live): keep a place of the slot for the elder (3 minutes)."""

    type: Literal["appt_hold"] = "appt_hold"
    slot_id: RowId


class HeldSlot(WireModel):
    """What the confirm screen says in full."""

    slot_id: RowId
    starts_at: datetime
    ends_at: datetime
    timezone: str = Field(max_length=64)
    clinic_name: str = Field(max_length=120)
    doctor_name: str = Field(max_length=120)
    department_name: str = Field(max_length=120)
    places: list[VisitPlace] = Field(default_factory=list, max_length=3)


class ApptHeld(Message):
    """Server → box: the slot is held for the elder until ``expires_at``."""

    type: Literal["appt_held"] = "appt_held"
    ref: str | None = None
    hold_id: RowId
    expires_at: datetime
    slot: HeldSlot


class ApptBook(Message):
    """Box → server (live): book the held slot; the same ``key`` again returns the first
    booking (the server scopes keys to the sending device)."""

    type: Literal["appt_book"] = "appt_book"
    key: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    slot_id: RowId
    hold_id: RowId | None = None
    place: VisitPlace = VisitPlace.CLINIC


class ApptBooked(Message):
    """Server → box: the visit is booked (``created`` false: it was booked by an earlier try)."""

    type: Literal["appt_booked"] = "appt_booked"
    ref: str | None = None
    key: str
    visit: VisitInfo
    created: bool = True


class ApptCancel(Message):
    """Box → server through the outbox: cancel one of the elder's visits, exactly once."""

    type: Literal["appt_cancel"] = "appt_cancel"
    key: str = Field(min_length=8, max_length=64)
    appointment_id: RowId
    occurred_at: datetime = Field(default_factory=utcnow)


class ApptRefused(Message):
    """Server → box: a request was refused; ``message`` in the elder's language."""

    type: Literal["appt_refused"] = "appt_refused"
    ref: str | None = None
    code: ErrorCode
    message: str = Field(max_length=300)


APPOINTMENT_MESSAGES: tuple[type[Message], ...] = (
    Appointments,
    ApptOptionsRequest,
    ApptOptions,
    ApptHold,
    ApptHeld,
    ApptBook,
    ApptBooked,
    ApptCancel,
    ApptRefused,
)
