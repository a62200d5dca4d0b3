"""Video calls: consult requests and their records, family calls (either way), the family
members an elder's call rang, and per-elder call settings."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from protocol import CallEndReason, CallKind
from server.models.base import Base, UTCDateTime, str_enum, utcnow


class CallStatus(StrEnum):
    """Where a call is; QUEUED/RINGING/ACTIVE are live, the rest are final."""

    QUEUED = "queued"  # a consult request waiting for a doctor
    RINGING = "ringing"  # a family call ringing on the box
    ACTIVE = "active"  # answered: media being negotiated or flowing
    ENDED = "ended"


LIVE_STATUSES = (CallStatus.QUEUED, CallStatus.RINGING, CallStatus.ACTIVE)


class Call(Base):
    """One video call with an elder's box; for consults, also the consult's record."""

    __tablename__ = "calls"
    __table_args__ = (Index("ix_calls_status_clinic", "status", "clinic_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[CallKind] = mapped_column(str_enum(CallKind))
    status: Mapped[CallStatus] = mapped_column(str_enum(CallStatus), default=CallStatus.QUEUED)
    elder_id: Mapped[int] = mapped_column(ForeignKey("elders.id", ondelete="CASCADE"), index=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    # Consults wait in the queue of the elder's clinic at request time.
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinics.id"))
    # The person on the other end: the doctor who joined, or the family member who called.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    auto_answer: Mapped[bool] = mapped_column(Boolean, default=False)
    # The elder called the family from the TV (user_id is then whoever answered, if anyone).
    from_elder: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[CallEndReason | None] = mapped_column(str_enum(CallEndReason))
    ended_by: Mapped[str | None] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(Text, default="")


class CallPreference(Base):
    """Per-elder call settings chosen by the family (auto-answer for elders who cannot press)."""

    __tablename__ = "call_preferences"

    elder_id: Mapped[int] = mapped_column(
        ForeignKey("elders.id", ondelete="CASCADE"), primary_key=True
    )
    auto_answer: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CallRing(Base):
    """One family member whose pages rang for an elder's call, and whether they declined."""

    __tablename__ = "call_rings"
    __table_args__ = (UniqueConstraint("call_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    rung_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
