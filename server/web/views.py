"""What the pages show, computed from the database: elder cards, device rows, the area map."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import CareLink, Clinic, Device, Elder, ServicePoint, User
from server.ws.presence import Presence


@dataclass(frozen=True)
class DeviceRow:
    """One TV box as listed on the family page."""

    id: int
    name: str
    online: bool
    revoked: bool
    last_seen_at: datetime | None
    paired_at: datetime


@dataclass(frozen=True)
class ElderCard:
    """One elder with what the page shows about them."""

    elder: Elder
    age: int | None
    relation: str
    devices: list[DeviceRow]
    clinic: str


def elder_cards(
    db: Session, presence: Presence, elders: list[Elder], viewer: User
) -> list[ElderCard]:
    """Cards for ``elders``, with the viewer's relation and each box's live state."""
    now_year = datetime.now().year
    cards = []
    for elder in elders:
        relation = db.scalar(
            select(CareLink.relation).where(
                CareLink.elder_id == elder.id, CareLink.user_id == viewer.id
            )
        )
        rows = db.scalars(
            select(Device).where(Device.elder_id == elder.id).order_by(Device.id.desc())
        )
        devices = [
            DeviceRow(
                id=d.id,
                name=d.name,
                online=d.revoked_at is None and presence.hub.device_connected(d.id),
                revoked=d.revoked_at is not None,
                last_seen_at=presence.shown_last_seen(d.id, d.last_seen_at),
                paired_at=d.paired_at,
            )
            for d in rows
        ]
        clinic = db.get(Clinic, elder.clinic_id) if elder.clinic_id else None
        cards.append(
            ElderCard(
                elder=elder,
                age=now_year - elder.birth_year if elder.birth_year else None,
                relation=relation or "",
                devices=devices,
                clinic=clinic.name if clinic else "",
            )
        )
    return cards


@dataclass(frozen=True)
class MapMark:
    """A dot on the area map."""

    x: float
    y: float
    label: str
    kind: str


MAP_W, MAP_H, MARGIN = 640.0, 400.0, 40.0


def area_map(elders: list[Elder], points: list[ServicePoint]) -> list[MapMark]:
    """Project coordinates onto the page's map: equirectangular, centred and fitted; no tiles."""
    raw = [(e.latitude, e.longitude, e.name, "elder") for e in elders]
    raw += [(p.latitude, p.longitude, p.name, p.kind.value) for p in points]
    placed = [
        (lat, lon, name, kind)
        for lat, lon, name, kind in raw
        if lat is not None and lon is not None
    ]
    if not placed:
        return []
    lats = [p[0] for p in placed]
    lons = [p[1] for p in placed]
    span_lat = max(max(lats) - min(lats), 1e-3)
    span_lon = max(max(lons) - min(lons), 1e-3)
    scale = min((MAP_W - 2 * MARGIN) / span_lon, (MAP_H - 2 * MARGIN) / span_lat)
    mid_lat = (max(lats) + min(lats)) / 2
    mid_lon = (max(lons) + min(lons)) / 2
    return [
        MapMark(
            x=round(MAP_W / 2 + (lon - mid_lon) * scale, 1),
            y=round(MAP_H / 2 - (lat - mid_lat) * scale, 1),
            label=name,
            kind=kind,
        )
        for lat, lon, name, kind in placed
    ]


def service_points(db: Session, area_id: int | None) -> list[ServicePoint]:
    """Service points of one area (all of them when ``area_id`` is None)."""
    query = select(ServicePoint).order_by(ServicePoint.id)
    if area_id is not None:
        query = query.where(ServicePoint.service_area_id == area_id)
    return list(db.scalars(query))
