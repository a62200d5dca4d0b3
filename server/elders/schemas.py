"""Bodies of the elder API (separate Update / Public shapes)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field, field_validator

from protocol import SPEECH_RATE_WPM_RANGE, SPEECH_VOLUME_PCT_RANGE, Lang
from server.ids import RowId
from server.schemas import Strict
from server.text import Name

_ZONES = available_timezones()


class ContactPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    position: int
    name: str
    relation: str
    phone: str
    email: str


class ElderPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    birth_year: int | None
    lang: Lang
    timezone: str
    address: str
    latitude: float | None
    longitude: float | None
    lives_alone: bool
    speech_rate_wpm: int
    speech_volume_pct: int
    phone: str = ""
    register_ref: str | None = None
    is_active: bool = True
    deactivated_at: datetime | None = None


class ElderDetailPublic(ElderPublic):
    care_notes: str
    contacts: list[ContactPublic]


class ElderCreate(Strict):
    """A new elder (care centre, admin): each field checked as the register form checks it."""

    register_ref: str | None = Field(default=None, max_length=64)
    name: str = Field(max_length=120)
    phone: str | None = Field(default=None, max_length=40)
    birth_year: int | None = None
    lang: str | None = Field(default=None, max_length=8)
    timezone: str | None = Field(default=None, max_length=64)
    address: str | None = Field(default=None, max_length=255)
    latitude: float | None = None
    longitude: float | None = None
    lives_alone: bool | None = None
    clinic_id: RowId | None = None
    care_notes: str | None = Field(default=None, max_length=5000)
    area_id: RowId | None = None  # an admin's choice; an operator's elders go to their area

    def as_text(self) -> dict[str, str]:
        """The fields as the register form sends them."""
        raw = {
            name: "" if value is None else str(value)
            for name, value in self.model_dump().items()
            if name not in ("clinic_id", "area_id", "lives_alone")
        }
        raw["lives_alone"] = "yes" if self.lives_alone else "no"
        raw["clinic"] = "" if self.clinic_id is None else str(self.clinic_id)
        raw["area"] = "" if self.area_id is None else str(self.area_id)
        return raw


class RefusedRowPublic(BaseModel):
    line: int
    register_ref: str
    name: str
    reason: str


class ImportReportPublic(BaseModel):
    created: int
    updated: int
    unchanged: int
    refused: int
    refused_rows: list[RefusedRowPublic]
    seconds: float


class ElderUpdate(Strict):
    name: Name | None = None
    lang: Lang | None = None
    timezone: str | None = None
    address: str | None = Field(default=None, max_length=255)
    care_notes: str | None = Field(default=None, max_length=5000)
    lives_alone: bool | None = None
    speech_rate_wpm: int | None = Field(
        default=None, ge=SPEECH_RATE_WPM_RANGE[0], le=SPEECH_RATE_WPM_RANGE[1]
    )
    speech_volume_pct: int | None = Field(
        default=None, ge=SPEECH_VOLUME_PCT_RANGE[0], le=SPEECH_VOLUME_PCT_RANGE[1]
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None and value not in _ZONES:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name like Asia/Shanghai)")
        return value


class DevicePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    elder_id: int
    name: str
    app_version: str
    paired_at: datetime
    last_seen_at: datetime | None
    revoked_at: datetime | None
    online: bool = False


class AuditEntryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    at: datetime
    action: str
    elder_id: int | None
    actor_user_id: int | None
    actor_device_id: int | None
    detail: str
