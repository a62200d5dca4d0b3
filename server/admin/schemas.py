"""JSON bodies of the administration API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from protocol import Lang, Role
from server.ids import RowId
from server.models import ServicePointKind

ZONE_HELP = "IANA time zone staff pages show times in, e.g. Asia/Shanghai (422 if unknown)"


class AreaCreate(BaseModel):
    """A new service area; the boundary is a GeoJSON Polygon or MultiPolygon as text."""

    name: str = Field(max_length=120)
    centre_latitude: float | None = None
    centre_longitude: float | None = None
    boundary_geojson: str = ""
    timezone: str = Field(default="Asia/Shanghai", max_length=64, description=ZONE_HELP)


class AreaUpdate(BaseModel):
    """Fields of a service area to change."""

    name: str | None = Field(default=None, max_length=120)
    centre_latitude: float | None = None
    centre_longitude: float | None = None
    boundary_geojson: str | None = None
    timezone: str | None = Field(default=None, max_length=64, description=ZONE_HELP)
    is_active: bool | None = None


class AreaPublic(BaseModel):
    """A service area as the administrator sees it."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    centre_latitude: float | None
    centre_longitude: float | None
    boundary_geojson: str
    timezone: str
    is_active: bool


class ClinicCreate(BaseModel):
    """A new clinic."""

    name: str = Field(max_length=120)
    address: str = Field(default="", max_length=255)
    phone: str = Field(default="", max_length=40)
    latitude: float | None = None
    longitude: float | None = None
    timezone: str = Field(default="Asia/Shanghai", max_length=64, description=ZONE_HELP)


class ClinicUpdate(BaseModel):
    """Fields of a clinic to change."""

    name: str | None = Field(default=None, max_length=120)
    address: str | None = Field(default=None, max_length=255)
    phone: str | None = Field(default=None, max_length=40)
    latitude: float | None = None
    longitude: float | None = None
    timezone: str | None = Field(default=None, max_length=64, description=ZONE_HELP)
    is_active: bool | None = None
    fhir_base_url: str | None = Field(
        default=None,
        max_length=500,
        description="the clinic's own FHIR R4 server (http or https); empty: our own tables",
    )
    fhir_auth_header: str | None = Field(
        default=None, max_length=1000, description="the Authorization header sent to it"
    )


class ClinicPublic(BaseModel):
    """A clinic."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    address: str
    phone: str
    latitude: float | None
    longitude: float | None
    timezone: str
    is_active: bool
    fhir_base_url: str | None = None
    # The auth header itself is never shown back: only whether one is set.
    fhir_auth_set: bool = False


class ServicePointCreate(BaseModel):
    """A new meal point, care centre or service provider."""

    kind: ServicePointKind
    name: str = Field(max_length=120)
    address: str = Field(default="", max_length=255)
    service_area_id: RowId | None = None
    latitude: float | None = None
    longitude: float | None = None


class ServicePointUpdate(BaseModel):
    """Fields of a service point to change."""

    kind: ServicePointKind | None = None
    name: str | None = Field(default=None, max_length=120)
    address: str | None = Field(default=None, max_length=255)
    service_area_id: RowId | None = None
    latitude: float | None = None
    longitude: float | None = None
    is_active: bool | None = None


class ServicePointPublic(BaseModel):
    """A service point."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: ServicePointKind
    name: str
    address: str
    service_area_id: int | None
    latitude: float | None
    longitude: float | None
    is_active: bool


class StaffCreate(BaseModel):
    """A new staff account; it gets a set-your-password e-mail."""

    name: str = Field(max_length=120)
    email: str = Field(max_length=255)
    phone: str = Field(default="", max_length=40)
    lang: Lang = Lang.ZH
    role: Role
    organisation_id: RowId | None = None
    supervisor: bool = False


class StaffUpdate(BaseModel):
    """Fields of a staff account to change (role and organisation go together)."""

    name: str | None = Field(default=None, max_length=120)
    phone: str | None = Field(default=None, max_length=40)
    lang: Lang | None = None
    role: Role | None = None
    organisation_id: RowId | None = None
    supervisor: bool | None = None


class StaffPublic(BaseModel):
    """A staff account."""

    id: int
    name: str
    email: str
    phone: str
    lang: Lang
    role: Role
    organisation_id: int | None
    supervisor: bool
    is_active: bool
    deactivated_at: datetime | None
    created_at: datetime


class StaffCreated(StaffPublic):
    """A new account; ``set_password_url`` only when the server cannot send e-mail."""

    email_queued: bool
    set_password_url: str | None = None


class AuditEntryPublic(BaseModel):
    """One audit entry."""

    id: int
    at: datetime
    actor_user_id: int | None
    actor: str
    action: str
    elder_id: int | None
    target: str
    detail: str
