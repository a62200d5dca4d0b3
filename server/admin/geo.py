"""Checks of what an administrator types or clicks on a map: coordinates and boundaries.

Boundaries are GeoJSON (RFC 7946) Polygon or MultiPolygon geometries: positions are
[longitude, latitude], every ring is closed (first position equals the last) and has at
least four positions. A Feature wrapping such a geometry is accepted and unwrapped.
"""

from __future__ import annotations

import json
from typing import Any

from server.admin.errors import FieldProblem

MAX_BOUNDARY_CHARS = 200_000


def coordinate(value: object, field: str, limit: float) -> float | None:
    """``value`` as a float within ±``limit``; empty is None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise FieldProblem(field, "admin.error.not_a_number") from None
    if number != number or not -limit <= number <= limit:  # NaN, or out of range
        raise FieldProblem(field, "admin.error.out_of_range", low=-limit, high=limit)
    return number


def location(
    latitude: object, longitude: object, prefix: str = ""
) -> tuple[float | None, float | None]:
    """A checked (latitude, longitude) pair: both or neither."""
    lat = coordinate(latitude, f"{prefix}latitude", 90)
    lng = coordinate(longitude, f"{prefix}longitude", 180)
    if (lat is None) != (lng is None):
        missing = "latitude" if lat is None else "longitude"
        raise FieldProblem(f"{prefix}{missing}", "admin.error.both_coordinates")
    return lat, lng


def boundary(text: str | None) -> str:
    """``text`` checked as a Polygon/MultiPolygon boundary, stored compact; empty stays empty."""
    if text is None or not text.strip():
        return ""
    if len(text) > MAX_BOUNDARY_CHARS:
        raise FieldProblem("boundary", "admin.error.boundary_too_big")
    try:
        data = json.loads(text)
    except ValueError:
        raise FieldProblem("boundary", "admin.error.boundary_json") from None
    if isinstance(data, dict) and data.get("type") == "Feature":
        data = data.get("geometry")
    if not isinstance(data, dict) or data.get("type") not in ("Polygon", "MultiPolygon"):
        raise FieldProblem("boundary", "admin.error.boundary_type")
    coords = data.get("coordinates")
    polygons = [coords] if data["type"] == "Polygon" else coords
    if not isinstance(polygons, list) or not polygons:
        raise FieldProblem("boundary", "admin.error.boundary_type")
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            raise FieldProblem("boundary", "admin.error.boundary_type")
        for ring in polygon:
            _check_ring(ring)
    return json.dumps({"type": data["type"], "coordinates": coords}, separators=(",", ":"))


def _check_ring(ring: Any) -> None:
    if not isinstance(ring, list) or len(ring) < 4:
        raise FieldProblem("boundary", "admin.error.boundary_ring")
    for position in ring:
        if (
            not isinstance(position, list)
            or len(position) < 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in position)
        ):
            raise FieldProblem("boundary", "admin.error.boundary_position")
        lng, lat = position[0], position[1]
        if not (-180 <= lng <= 180 and -90 <= lat <= 90):
            raise FieldProblem("boundary", "admin.error.boundary_range")
    if ring[0][:2] != ring[-1][:2]:
        raise FieldProblem("boundary", "admin.error.boundary_open")
