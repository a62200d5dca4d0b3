"""HTTP bodies of the SOS API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from protocol import SosSource, SosStatus
from server.models import SosOutcome
from server.sos.alerts import AlertView, MonthStats
from server.sos.check_in import TIME_PATTERN


class Strict(BaseModel):
    """Bodies refuse unknown fields."""

    model_config = ConfigDict(extra="forbid")


class SensorEventCreate(Strict):
    """A sensor (fall detector, bed or door sensor) reports an emergency through the box's token."""

    key: str = Field(
        min_length=8, max_length=64, description="idempotency key of this event, unique per box"
    )
    kind: str = Field(min_length=1, max_length=60, description="e.g. fall, bed_exit, door_open")
    detail: str = Field(default="", max_length=120)


class SosResolveUpdate(Strict):
    """How an alert ended."""

    outcome: SosOutcome
    note: str = Field(default="", max_length=2000)


class StepPublic(BaseModel):
    at: datetime
    kind: str
    level: int
    actor: str
    detail: str


class ContactPublic(BaseModel):
    position: int
    name: str
    relation: str
    phone: str


class SosAlertPublic(BaseModel):
    """One alert as the API shows it."""

    id: int
    key: str
    elder_id: int
    elder_name: str
    address: str
    latitude: float | None
    longitude: float | None
    source: SosSource
    detail: str
    status: SosStatus
    level: int
    raised_at: datetime
    stored_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str
    seconds_to_ack: float | None
    resolved_at: datetime | None
    outcome: SosOutcome | None
    note: str
    contacts: list[ContactPublic]
    timeline: list[StepPublic]

    @classmethod
    def from_view(cls, view: AlertView) -> SosAlertPublic:
        """Build from an `AlertView`."""
        a, e = view.alert, view.elder
        return cls(
            id=a.id,
            key=a.key,
            elder_id=e.id,
            elder_name=e.name,
            address=e.address,
            latitude=e.latitude,
            longitude=e.longitude,
            source=a.source,
            detail=a.detail,
            status=a.status,
            level=a.level,
            raised_at=a.raised_at,
            stored_at=a.stored_at,
            acknowledged_at=a.acknowledged_at,
            acknowledged_by=view.acknowledged_by,
            seconds_to_ack=view.seconds_to_ack,
            resolved_at=a.resolved_at,
            outcome=a.outcome,
            note=a.note,
            contacts=[
                ContactPublic(position=c.position, name=c.name, relation=c.relation, phone=c.phone)
                for c in view.contacts
            ],
            timeline=[StepPublic(**s.__dict__) for s in view.steps],
        )


class MonthStatsPublic(BaseModel):
    month: str
    alerts: int
    acknowledged: int
    median_seconds: float | None
    worst_seconds: float | None

    @classmethod
    def from_stats(cls, stats: MonthStats) -> MonthStatsPublic:
        """Build from `MonthStats`."""
        return cls(**stats.__dict__)


class SensorEventPublic(BaseModel):
    alert_id: int
    duplicate: bool


class CheckInUpdate(BaseModel):
    """The daily check-in time in the elder's timezone, or null to switch it off."""

    model_config = ConfigDict(extra="forbid")
    time_local: str | None = Field(default=None, pattern=TIME_PATTERN)


class CheckInPublic(BaseModel):
    elder_id: int
    time_local: str | None
