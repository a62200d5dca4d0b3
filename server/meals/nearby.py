"""The meal points near an elder: a bounding box in SQL, then the haversine distance.

A point is near enough for delivery within its own delivery radius, and for eating there
within `WALK_M` (a kilometre's walk). The box is as wide as the farthest any point serves
(its largest delivery radius, at most `MAX_RADIUS_M`), so the index on (kind, latitude)
keeps the query to the points of one band of latitude, whatever the number of points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.models import MealMode, MealPointSettings, ServicePoint, ServicePointKind

WALK_M = 1000  # how far an elder walks to eat at a meal point
MAX_RADIUS_M = 10_000  # the largest delivery radius a point may set
EARTH_M = 6_371_000.0
NEAREST_LIMIT = 10


def distance_m(
    lat1: float | None, lon1: float | None, lat2: float | None, lon2: float | None
) -> float | None:
    """Great-circle distance in metres (haversine), or None when a position is unknown."""
    if lat1 is None or lon1 is None or lat2 is None or lon2 is None:
        return None
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_M * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class NearPoint:
    """A meal point near the elder, how far, and how the elder may have its meals."""

    point_id: int
    name: str
    address: str
    distance_m: int
    modes: tuple[MealMode, ...]


def reach_m(db: Session) -> int:
    """The farthest any meal point serves: a kilometre's walk, or the largest delivery radius."""
    radius = db.scalar(
        select(func.max(MealPointSettings.delivery_radius_m)).where(MealPointSettings.delivery)
    )
    return min(max(WALK_M, radius or 0), MAX_RADIUS_M)


def nearest_points(
    db: Session, latitude: float, longitude: float, limit: int = NEAREST_LIMIT
) -> list[NearPoint]:
    """Active meal points serving an elder at (latitude, longitude), nearest first."""
    dlat = math.degrees(reach_m(db) / EARTH_M)
    dlon = dlat / max(math.cos(math.radians(latitude)), 0.01)
    rows = db.execute(
        select(
            ServicePoint.id,
            ServicePoint.name,
            ServicePoint.address,
            ServicePoint.latitude,
            ServicePoint.longitude,
            MealPointSettings.dine_in,
            MealPointSettings.delivery,
            MealPointSettings.delivery_radius_m,
        )
        .join(MealPointSettings, MealPointSettings.service_point_id == ServicePoint.id)
        .where(
            ServicePoint.kind == ServicePointKind.MEAL_POINT,
            ServicePoint.latitude.between(latitude - dlat, latitude + dlat),
            ServicePoint.longitude.between(longitude - dlon, longitude + dlon),
            ServicePoint.is_active.is_(True),
        )
    ).all()
    found = []
    for point_id, name, address, lat, lon, dine_in, delivery, radius in rows:
        far = distance_m(latitude, longitude, lat, lon)
        if far is None:
            continue
        modes = []
        if dine_in and far <= WALK_M:
            modes.append(MealMode.DINE_IN)
        if delivery and far <= radius:
            modes.append(MealMode.DELIVERY)
        if modes:
            found.append(NearPoint(point_id, name, address, round(far), tuple(modes)))
    found.sort(key=lambda n: (n.distance_m, n.point_id))
    return found[:limit]
