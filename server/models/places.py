"""Service areas, clinics and service points (meal points, care centres)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UTCDateTime, str_enum


class ServicePointKind(StrEnum):
    """What a service point offers."""

    MEAL_POINT = "meal_point"
    CARE_CENTRE = "care_centre"
    SERVICE_PROVIDER = "service_provider"  # home-service jobs


class ServiceArea(Base):
    """A district served by one care centre; operators see the elders of their area."""

    __tablename__ = "service_areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    # Where the area is: a centre for the map, and optionally its boundary as a GeoJSON
    # Polygon or MultiPolygon geometry (text, validated when saved).
    centre_latitude: Mapped[float | None] = mapped_column(Float)
    centre_longitude: Mapped[float | None] = mapped_column(Float)
    boundary_geojson: Mapped[str] = mapped_column(Text, default="")
    # IANA zone of the area: operator pages show times in it.
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class Clinic(Base):
    """A clinic whose doctors look after the elders in its care."""

    __tablename__ = "clinics"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(255), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    # IANA zone of the clinic: its schedules and its staff pages use it.
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # A clinic that runs its own FHIR R4 server: its base URL and the Authorization header we
    # send (server/appointments/fhir_client.py); its visits are mirrored in our tables.
    fhir_base_url: Mapped[str | None] = mapped_column(String(500))
    fhir_auth_header: Mapped[str] = mapped_column(String(1000), default="", server_default="")
    # The clinic's own lastUpdated of the newest change read back (the poll goes on from it).
    fhir_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def fhir_auth_set(self) -> bool:
        """Whether an auth header for the clinic's FHIR server is set (it is never shown)."""
        return bool(self.fhir_auth_header)


class ServicePoint(Base):
    """A place that serves elders: a meal point or a care centre."""

    __tablename__ = "service_points"
    # The nearest meal points of an elder: a bounding box on latitude within a kind.
    __table_args__ = (Index("ix_service_points_kind_latitude", "kind", "latitude"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ServicePointKind] = mapped_column(str_enum(ServicePointKind))
    name: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(255), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    service_area_id: Mapped[int | None] = mapped_column(ForeignKey("service_areas.id"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
