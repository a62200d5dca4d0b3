"""E-mails and text messages waiting to be delivered, or already delivered."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UTCDateTime, str_enum, utcnow


class Channel(StrEnum):
    """How an outgoing message travels."""

    EMAIL = "email"
    TEXT = "text"


class OutgoingMessage(Base):
    """One e-mail or text to one person.

    Written in the same transaction as the event that causes it (a claimed missed-dose alert,
    an SOS step), so the event and its messages exist together or not at all. ``key`` makes
    queueing the same message twice harmless. A process sends it only after claiming it
    (``claimed_until`` in the future); a failed send is retried later with back-off.
    """

    __tablename__ = "outgoing_messages"
    __table_args__ = (Index("ix_outgoing_messages_due", "sent_at", "failed_at", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel))
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(String(500), default="")
