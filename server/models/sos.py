"""SOS alerts, their timelines, and who supervises the operators of an area."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from protocol import SosSource, SosStatus
from server.models.base import Base, UTCDateTime, str_enum, utcnow


class SosOutcome(StrEnum):
    """How an alert ended."""

    HELP_GIVEN = "help_given"
    FALSE_ALARM = "false_alarm"
    NO_HELP_NEEDED = "no_help_needed"
    TAKEN_TO_HOSPITAL = "taken_to_hospital"
    OTHER = "other"


class SosStepKind(StrEnum):
    """One entry on an alert's timeline."""

    RAISED = "raised"
    STORED = "stored"
    FANNED_OUT = "fanned_out"
    CONTACT_ALERTED = "contact_alerted"
    SUPERVISOR_ALERTED = "supervisor_alerted"
    ACKNOWLEDGED = "acknowledged"
    BOX_TOLD = "box_told"
    CALL_STARTED = "call_started"
    RESOLVED = "resolved"


class SosAlert(Base):
    """One SOS, stored before anything else happens; the work still to do is on the row.

    ``fanout_done_at`` NULL means the first fan-out has not been delivered yet;
    ``next_escalation_at`` is when the next level is due while nobody acknowledged.
    Sweeps claim work with conditional UPDATEs, so several processes never double-send.

    ``key`` is the sending box's idempotency key, unique per device only: boxes and their
    sensors choose keys themselves, so two homes may well send the same one. A NULL
    ``device_id`` (the box was deleted) is outside the constraint: no box can resend it.
    """

    __tablename__ = "sos_alerts"
    __table_args__ = (UniqueConstraint("device_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    elder_id: Mapped[int] = mapped_column(ForeignKey("elders.id", ondelete="CASCADE"), index=True)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"))
    source: Mapped[SosSource] = mapped_column(str_enum(SosSource))
    detail: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[SosStatus] = mapped_column(str_enum(SosStatus), default=SosStatus.OPEN)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    fanout_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fanout_done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    level: Mapped[int] = mapped_column(Integer, default=0)
    next_escalation_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    box_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[SosOutcome | None] = mapped_column(str_enum(SosOutcome))
    note: Mapped[str] = mapped_column(Text, default="")


class SosStep(Base):
    """One timestamped step of an alert: raised, fanned out, escalated, acknowledged…"""

    __tablename__ = "sos_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(
        ForeignKey("sos_alerts.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[SosStepKind] = mapped_column(str_enum(SosStepKind))
    level: Mapped[int] = mapped_column(Integer, default=0)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    detail: Mapped[str] = mapped_column(String(500), default="")


class AreaSupervisor(Base):
    """An operator who supervises a service area: the last level of SOS escalation."""

    __tablename__ = "area_supervisors"
    __table_args__ = (UniqueConstraint("service_area_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_area_id: Mapped[int] = mapped_column(
        ForeignKey("service_areas.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))


class CheckInRule(Base):
    """Daily check-in: by ``local_time`` (elder's timezone) the elder should have been active."""

    __tablename__ = "sos_check_in_rules"

    elder_id: Mapped[int] = mapped_column(
        ForeignKey("elders.id", ondelete="CASCADE"), primary_key=True
    )
    # NULL: switched off (the row stays so a box that was offline hears it is off).
    local_time: Mapped[str | None] = mapped_column(String(5))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
