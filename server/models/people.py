"""People: users who log in, elders, their emergency contacts and family care links."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from protocol import SPEECH_RATE_WPM_DEFAULT, SPEECH_VOLUME_PCT_DEFAULT, Lang, Role
from server.models.base import Base, UTCDateTime, str_enum, utcnow


class User(Base):
    """Someone who logs in to the web pages or the API."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role))
    lang: Mapped[Lang] = mapped_column(str_enum(Lang), default=Lang.ZH)
    phone: Mapped[str] = mapped_column(String(40), default="")
    # The one organisation a staff role is scoped to (server/roles.py says which column).
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinics.id"))
    service_area_id: Mapped[int | None] = mapped_column(ForeignKey("service_areas.id"))
    service_point_id: Mapped[int | None] = mapped_column(ForeignKey("service_points.id"))
    # A doctor of a clinic that runs its own FHIR server: "Practitioner/<id>" there.
    fhir_practitioner: Mapped[str | None] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Elder(Base):
    """An older person living at home with a TV box."""

    __tablename__ = "elders"
    __table_args__ = (
        # A city register's number is unique within an area: CSV re-imports update. (An
        # index, not a constraint: adding a constraint would make SQLite rebuild the table.)
        Index(
            "uq_elders_service_area_id_register_ref", "service_area_id", "register_ref", unique=True
        ),
        Index("ix_elders_service_area_id_id", "service_area_id", "id"),
        # The care centre's list by name, and a phone search (migration 0012).
        Index("ix_elders_area_name", "service_area_id", "name", "id"),
        Index("ix_elders_area_phone", "service_area_id", "phone"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(40), default="")
    # The elder's number in the city's register of elders (CSV import key), if any.
    register_ref: Mapped[str | None] = mapped_column(String(64))
    birth_year: Mapped[int | None] = mapped_column(Integer)
    lang: Mapped[Lang] = mapped_column(str_enum(Lang), default=Lang.ZH)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    # How the TV speaks to this elder (protocol.ElderInfo), set by the family.
    speech_rate_wpm: Mapped[int] = mapped_column(Integer, default=SPEECH_RATE_WPM_DEFAULT)
    speech_volume_pct: Mapped[int] = mapped_column(Integer, default=SPEECH_VOLUME_PCT_DEFAULT)
    address: Mapped[str] = mapped_column(String(255), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    lives_alone: Mapped[bool] = mapped_column(Boolean, default=False)
    # Minutes the elder needs to reach their clinic, set by the family (None: not set): the
    # TV says "leave by" that long before a clinic visit (migration 0015).
    visit_travel_minutes: Mapped[int | None] = mapped_column(Integer)
    care_notes: Mapped[str] = mapped_column(Text, default="")
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinics.id"))
    service_area_id: Mapped[int | None] = mapped_column(ForeignKey("service_areas.id"))
    # Deactivated: no reminders, no box, the record kept for the audit.
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    contacts: Mapped[list[EmergencyContact]] = relationship(
        order_by="EmergencyContact.position", cascade="all, delete-orphan", lazy="selectin"
    )


class EmergencyContact(Base):
    """One entry of an elder's ordered emergency contact list."""

    __tablename__ = "emergency_contacts"
    __table_args__ = (UniqueConstraint("elder_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    elder_id: Mapped[int] = mapped_column(ForeignKey("elders.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(120))
    relation: Mapped[str] = mapped_column(String(60), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(255), default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class CareLink(Base):
    """A family member linked to an elder, with their relation ("daughter", "son"…)."""

    __tablename__ = "care_links"
    __table_args__ = (UniqueConstraint("user_id", "elder_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    elder_id: Mapped[int] = mapped_column(ForeignKey("elders.id", ondelete="CASCADE"))
    relation: Mapped[str] = mapped_column(String(60), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LinkPurpose(StrEnum):
    """What a one-time e-mailed link does."""

    INVITE = "invite"  # become a family member of an elder
    RESET = "reset"  # set a new password


class OneTimeLink(Base):
    """An e-mailed link: expiring, single use; only the token's hash is stored.

    The token is 32 random bytes (unguessable: a changed token matches no row); the row
    says what it may do, for whom, until when, and whether it was used.
    """

    __tablename__ = "one_time_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[LinkPurpose] = mapped_column(str_enum(LinkPurpose))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(255))
    # RESET: whose password; INVITE: the account made or linked on acceptance.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    elder_id: Mapped[int | None] = mapped_column(ForeignKey("elders.id", ondelete="CASCADE"))
    relation: Mapped[str] = mapped_column(String(60), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
