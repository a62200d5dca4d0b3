"""Medication plans, the record of each dose, and who is alerted about missed doses."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from protocol import DoseOutcome, PlanStatus
from server.models.base import Base, UTCDateTime, str_enum, utcnow


class MedicationPlan(Base):
    """One medicine an elder takes on a schedule (FHIR R4 MedicationRequest).

    ``schedule`` holds `protocol.Schedule` as JSON text, the same model the box computes
    dose times from.
    """

    __tablename__ = "medication_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    elder_id: Mapped[int] = mapped_column(ForeignKey("elders.id", ondelete="CASCADE"), index=True)
    medicine: Mapped[str] = mapped_column(String(120))
    strength: Mapped[str] = mapped_column(String(60), default="")
    dose: Mapped[str] = mapped_column(String(120), default="")
    instructions: Mapped[str] = mapped_column(String(300), default="")
    appearance: Mapped[str] = mapped_column(String(120), default="")
    colour: Mapped[str] = mapped_column(String(7), default="#ffffff")
    schedule: Mapped[str] = mapped_column(Text)
    window_minutes: Mapped[int] = mapped_column(Integer, default=30)
    status: Mapped[PlanStatus] = mapped_column(str_enum(PlanStatus), default=PlanStatus.ACTIVE)
    # Doses before this instant are never "missed": set at creation and on resume.
    active_since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class DoseRecord(Base):
    """What became of one dose (plan, scheduled local time); at most one row per dose.

    ``alert_claimed_at`` is set by exactly one server process before it sends the missed-dose
    alert, so several processes on one database never alert twice.
    """

    __tablename__ = "dose_records"
    __table_args__ = (
        UniqueConstraint("plan_id", "scheduled_local"),
        Index("ix_dose_records_elder_at", "elder_id", "scheduled_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("medication_plans.id", ondelete="CASCADE"))
    elder_id: Mapped[int] = mapped_column(ForeignKey("elders.id", ondelete="CASCADE"))
    scheduled_local: Mapped[str] = mapped_column(String(19))
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[DoseOutcome] = mapped_column(str_enum(DoseOutcome))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"))
    snoozes: Mapped[int] = mapped_column(Integer, default=0)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    alert_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReminderAlertSetting(Base):
    """A family setting: whether one linked family member gets missed-dose e-mails / live alerts."""

    __tablename__ = "reminder_alert_settings"
    __table_args__ = (UniqueConstraint("user_id", "elder_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    elder_id: Mapped[int] = mapped_column(ForeignKey("elders.id", ondelete="CASCADE"))
    email_missed: Mapped[bool] = mapped_column(Boolean, default=True)
    live_missed: Mapped[bool] = mapped_column(Boolean, default=True)


class SweepMark(Base):
    """How far a periodic sweep has got: after an outage the next one catches up from here."""

    __tablename__ = "sweep_marks"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    swept_until: Mapped[datetime] = mapped_column(UTCDateTime)
