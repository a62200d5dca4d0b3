"""Clinic appointments: departments, weekly opening hours, closures, slots, holds, visits.

Modelled on FHIR R4 ``Schedule`` (a doctor's opening hours), ``Slot`` and ``Appointment``.
Slots are materialised in UTC for a rolling window from the opening hours, in the clinic's
zone. Two rules hold whatever races: a slot is never booked past its capacity (the CHECK on
``slots`` and a row lock), and an elder never holds two overlapping visits (checked under the
elder's row in ``appointment_locks``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UTCDateTime, str_enum, utcnow


class VisitKind(StrEnum):
    """Where a visit happens."""

    CLINIC = "clinic"
    VIDEO = "video"  # through the consultation call
    HOME = "home"  # the doctor comes to the elder


class AppointmentStatus(StrEnum):
    """Where a visit stands (FHIR: booked, cancelled, arrived, noshow, fulfilled)."""

    BOOKED = "booked"
    CANCELLED = "cancelled"
    ARRIVED = "arrived"
    NO_SHOW = "no_show"
    DONE = "done"


class BookedBy(StrEnum):
    """Who made the booking."""

    ELDER_BOX = "elder_box"
    FAMILY = "family"
    OPERATOR = "operator"


class Department(Base):
    """A department of a clinic (general practice, eye, dental, TCM…)."""

    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("clinic_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    code: Mapped[str] = mapped_column(String(32))
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))


class OpeningHours(Base):
    """A doctor's weekly opening hours on one weekday (local time of the clinic)."""

    __tablename__ = "opening_hours"
    __table_args__ = (
        CheckConstraint("weekday >= 0 AND weekday <= 6", name="weekday"),
        CheckConstraint(
            "start_minute >= 0 AND end_minute <= 1440 AND start_minute < end_minute",
            name="span",
        ),
        CheckConstraint("slot_minutes >= 5 AND capacity >= 1", name="slot"),
        Index("ix_opening_hours_clinic", "clinic_id", "doctor_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    doctor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    weekday: Mapped[int] = mapped_column(Integer)  # Monday 0 … Sunday 6
    start_minute: Mapped[int] = mapped_column(Integer)  # minutes after local midnight
    end_minute: Mapped[int] = mapped_column(Integer)
    slot_minutes: Mapped[int] = mapped_column(Integer)
    capacity: Mapped[int] = mapped_column(Integer)
    kinds: Mapped[str] = mapped_column(String(40))  # "clinic,video,home"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Closure(Base):
    """A doctor's (or, with no doctor, the whole clinic's) time off: nothing is booked in it."""

    __tablename__ = "closures"
    __table_args__ = (
        CheckConstraint("starts_at < ends_at", name="span"),
        Index("ix_closures_clinic", "clinic_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    doctor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Slot(Base):
    """One bookable time of one doctor, holding up to ``capacity`` elders."""

    __tablename__ = "slots"
    __table_args__ = (
        UniqueConstraint("doctor_id", "starts_at"),
        UniqueConstraint("clinic_id", "remote_id"),
        CheckConstraint("booked >= 0 AND booked <= capacity", name="capacity"),
        Index("ix_slots_department_starts", "department_id", "starts_at"),
        Index("ix_slots_clinic_starts", "clinic_id", "starts_at"),
        # A search across every clinic walks the slots by time and stops at its limit.
        Index("ix_slots_starts", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    doctor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    hours_id: Mapped[int | None] = mapped_column(
        ForeignKey("opening_hours.id", ondelete="SET NULL")
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    capacity: Mapped[int] = mapped_column(Integer)
    booked: Mapped[int] = mapped_column(Integer, default=0)
    kinds: Mapped[str] = mapped_column(String(40))
    closed: Mapped[bool] = mapped_column(Boolean, default=False)  # inside a closure
    # A mirror of a Slot of a clinic that runs its own FHIR server: the Slot's id there.
    remote_id: Mapped[str | None] = mapped_column(String(64))


class Appointment(Base):
    """An elder's visit in one slot."""

    __tablename__ = "appointments"
    __table_args__ = (
        # A retried booking (same sender, same key) finds the first one.
        UniqueConstraint("sender", "idempotency_key"),
        # A visit booked at a clinic's own FHIR server: the Appointment's id there.
        UniqueConstraint("clinic_id", "remote_id"),
        Index("ix_appointments_elder_starts", "elder_id", "starts_at"),
        Index("ix_appointments_slot", "slot_id"),
        Index("ix_appointments_clinic_starts", "clinic_id", "starts_at"),
        # The FHIR ``_lastUpdated`` search and the clinics' polls read changes by this.
        Index("ix_appointments_updated", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    elder_id: Mapped[int] = mapped_column(ForeignKey("elders.id"))
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"))
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    doctor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    # The slot's times, copied: the overlap check reads the elder's visits only.
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[VisitKind] = mapped_column(str_enum(VisitKind))
    status: Mapped[AppointmentStatus] = mapped_column(
        str_enum(AppointmentStatus), default=AppointmentStatus.BOOKED
    )
    booked_by: Mapped[BookedBy] = mapped_column(str_enum(BookedBy))
    booked_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    booked_by_device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    sender: Mapped[str] = mapped_column(String(40))  # "user:7" or "device:3"
    idempotency_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Every change (mark, move, cancel, a clinic's own change) sets it; the ORM's onupdate
    # stamps any change a caller forgot, so a FHIR poll never misses one.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    remote_id: Mapped[str | None] = mapped_column(String(64))


class SlotHold(Base):
    """A slot kept for someone on a confirm screen until ``expires_at``; then it frees itself."""

    __tablename__ = "slot_holds"
    __table_args__ = (Index("ix_slot_holds_slot_expires", "slot_id", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id", ondelete="CASCADE"))
    elder_id: Mapped[int] = mapped_column(ForeignKey("elders.id"))
    holder: Mapped[str] = mapped_column(String(40))  # the sender: "user:7" or "device:3"
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AppointmentLock(Base):
    """One row per elder, locked by every booking of theirs: the overlap check runs under it."""

    __tablename__ = "appointment_locks"

    elder_id: Mapped[int] = mapped_column(ForeignKey("elders.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
