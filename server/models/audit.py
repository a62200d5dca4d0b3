"""Who read or changed whose health data, and which box messages were already applied."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UTCDateTime, utcnow


class AuditEntry(Base):
    """One read or change of an elder's data by a person or a device."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    actor_device_id: Mapped[int | None] = mapped_column(
        ForeignKey("devices.id", ondelete="SET NULL")
    )
    action: Mapped[str] = mapped_column(String(60), index=True)
    elder_id: Mapped[int | None] = mapped_column(
        ForeignKey("elders.id", ondelete="SET NULL"), index=True
    )
    detail: Mapped[str] = mapped_column(Text, default="")
    # What an administration action was done to: "user:12", "area:3", "clinic:1", ...
    target: Mapped[str] = mapped_column(String(60), default="", index=True)


class ReceivedMessage(Base):
    """An outbox item from a box that was applied; (device, key) makes delivery exactly-once.

    Keys are chosen by the box, so they are unique per sending device only.
    """

    __tablename__ = "received_messages"

    device_id: Mapped[int] = mapped_column(
        ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    type: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
