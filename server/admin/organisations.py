"""Service areas, clinics and service points: created, edited, deactivated by administrators.

Every change is audited as ``admin.<thing>.<verb>`` with the record as target. Names are
unique among active records of a kind (case-insensitive), so two areas an operator must
choose between never look the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from protocol import Role
from server.admin import geo
from server.admin.errors import DuplicateName, FieldProblem
from server.audit import record
from server.errors import NotFound
from server.ids import form_row_id
from server.models import Clinic, Elder, ServiceArea, ServicePoint, ServicePointKind, User
from server.web.when import DEFAULT_ZONE, valid_zone

Organisation = ServiceArea | Clinic | ServicePoint
T = TypeVar("T", ServiceArea, Clinic, ServicePoint)
TARGET = {ServiceArea: "area", Clinic: "clinic", ServicePoint: "point"}
TYPE_KEY = {ServiceArea: "area", Clinic: "clinic", ServicePoint: "service_point"}


def clean_name(name: str | None, field: str = "name") -> str:
    """A required short text, trimmed."""
    text = (name or "").strip()
    if not text:
        raise FieldProblem(field, "admin.error.required")
    if len(text) > 120:
        raise FieldProblem(field, "admin.error.too_long", limit=120)
    return text


def clean_zone(value: object, field: str = "timezone") -> str:
    """An IANA time zone this machine knows ("Asia/Shanghai"); empty is Beijing time."""
    text = str(value or "").strip()
    if not text:
        return DEFAULT_ZONE
    zone = valid_zone(text)
    if zone is None:
        raise FieldProblem(field, "admin.error.timezone", value=text[:64])
    return zone


def _unique_name(db: Session, model: type[Organisation], name: str, own_id: int | None) -> None:
    query = select(model.id).where(
        func.lower(model.name) == name.lower(), model.is_active.is_(True)
    )
    if own_id is not None:
        query = query.where(model.id != own_id)
    if db.scalar(query.limit(1)) is not None:
        raise DuplicateName("name", "admin.error.duplicate_name", name=name)


def get(db: Session, model: type[T], row_id: int) -> T:
    """The record, or 404."""
    row = db.get(model, row_id)
    if row is None:
        raise NotFound(f"no such {TYPE_KEY[model].replace('_', ' ')}")
    return row


@dataclass
class AreaRow:
    """An area on the list: with how many active elders and operators it has."""

    area: ServiceArea
    elders: int
    operators: int


def area_rows(db: Session) -> list[AreaRow]:
    """Every area, active first, by name."""
    elders = dict(
        db.execute(
            select(Elder.service_area_id, func.count())
            .where(Elder.is_active.is_(True))
            .group_by(Elder.service_area_id)
        )
        .tuples()
        .all()
    )
    operators = dict(
        db.execute(
            select(User.service_area_id, func.count())
            .where(User.role == Role.OPERATOR, User.is_active.is_(True))
            .group_by(User.service_area_id)
        )
        .tuples()
        .all()
    )
    areas = db.scalars(
        select(ServiceArea).order_by(ServiceArea.is_active.desc(), ServiceArea.name)
    ).all()
    return [AreaRow(a, elders.get(a.id, 0), operators.get(a.id, 0)) for a in areas]


def listing(db: Session, model: type[T]) -> list[T]:
    """Every record of a kind, active first, by name."""
    return list(db.scalars(select(model).order_by(model.is_active.desc(), model.name)).all())


def _changes(row: object, values: dict[str, object]) -> str:
    changed = []
    for key, value in values.items():
        if getattr(row, key, None) != value:
            changed.append(key)
            setattr(row, key, value)
    return ", ".join(changed)


def save_area(
    db: Session,
    admin: User,
    area: ServiceArea | None,
    *,
    name: str | None,
    latitude: object,
    longitude: object,
    boundary: str | None,
    timezone: object = None,
) -> ServiceArea:
    """Create (``area`` None) or change a service area, checked and audited.

    ``timezone`` is the zone its operators' pages show times in (empty: Beijing time).
    """
    text = clean_name(name)
    zone = clean_zone(timezone)
    lat, lng = geo.location(latitude, longitude, "centre_")
    shape = geo.boundary(boundary)
    _unique_name(db, ServiceArea, text, area.id if area else None)
    values: dict[str, object] = {
        "name": text,
        "centre_latitude": lat,
        "centre_longitude": lng,
        "boundary_geojson": shape,
        "timezone": zone,
    }
    return _save(db, admin, ServiceArea, area, values)


def save_clinic(
    db: Session,
    admin: User,
    clinic: Clinic | None,
    *,
    name: str | None,
    address: str | None,
    phone: str | None,
    latitude: object,
    longitude: object,
    timezone: object = None,
) -> Clinic:
    """Create or change a clinic; ``timezone`` is the one its doctors' pages show times in."""
    text = clean_name(name)
    zone = clean_zone(timezone)
    lat, lng = geo.location(latitude, longitude)
    _unique_name(db, Clinic, text, clinic.id if clinic else None)
    values: dict[str, object] = {
        "name": text,
        "address": (address or "").strip()[:255],
        "phone": (phone or "").strip()[:40],
        "latitude": lat,
        "longitude": lng,
        "timezone": zone,
    }
    return _save(db, admin, Clinic, clinic, values)


def save_point(
    db: Session,
    admin: User,
    point: ServicePoint | None,
    *,
    kind: object,
    name: str | None,
    address: str | None,
    area_id: object,
    latitude: object,
    longitude: object,
) -> ServicePoint:
    """Create or change a service point (meal point, care centre, service provider)."""
    try:
        point_kind = ServicePointKind(str(kind))
    except ValueError:
        raise FieldProblem("kind", "admin.error.choose") from None
    text = clean_name(name)
    area = optional_id(area_id, "service_area_id")
    if area is not None:
        found = db.get(ServiceArea, area)
        if found is None or not found.is_active:
            raise FieldProblem("service_area_id", "admin.error.unknown_organisation")
    lat, lng = geo.location(latitude, longitude)
    _unique_name(db, ServicePoint, text, point.id if point else None)
    values: dict[str, object] = {
        "kind": point_kind,
        "name": text,
        "address": (address or "").strip()[:255],
        "service_area_id": area,
        "latitude": lat,
        "longitude": lng,
    }
    return _save(db, admin, ServicePoint, point, values)


def optional_id(value: object, field: str) -> int | None:
    """A row id typed in a form or body; empty is None; anything else unknown."""
    if value is None or value == "":
        return None
    number = form_row_id(value)
    if number is None:
        raise FieldProblem(field, "admin.error.unknown_organisation")
    return number


def _save(db: Session, admin: User, model: type[T], row: T | None, values: dict[str, object]) -> T:
    if row is None:
        row = model(**values)
        db.add(row)
        db.flush()
        verb, detail = "create", f"name={values['name']}"
    else:
        verb, detail = "update", _changes(row, values)
        db.flush()
    record(
        db,
        f"admin.{TYPE_KEY[model]}.{verb}",
        None,
        user=admin,
        target=f"{TARGET[model]}:{row.id}",
        detail=detail,
    )
    return row


def set_clinic_fhir(
    db: Session,
    admin: User,
    clinic: Clinic,
    base_url: str | None,
    auth_header: str | None,
    given: set[str],
) -> None:
    """Point a clinic at its own FHIR R4 server (an http(s) URL; empty: back to our tables)
    and set the Authorization header sent to it (printable ASCII, never shown back)."""
    if "fhir_base_url" in given:
        url = (base_url or "").strip()
        if url:
            parts = urlsplit(url)
            if (
                parts.scheme not in ("http", "https")
                or not parts.hostname
                or parts.query
                or parts.fragment
                or parts.username
                or any(c.isspace() for c in url)
            ):
                raise FieldProblem("fhir_base_url", "admin.error.fhir_url")
        clinic.fhir_base_url = url.rstrip("/") or None
        clinic.fhir_polled_at = None
    if "fhir_auth_header" in given:
        header = (auth_header or "").strip()
        if header and not all(32 <= ord(c) < 127 for c in header):
            raise FieldProblem("fhir_auth_header", "admin.error.fhir_header")
        clinic.fhir_auth_header = header
    record(db, "admin.clinic.fhir", None, user=admin, target=f"clinic:{clinic.id}")
    db.flush()


def set_active(db: Session, admin: User, row: Organisation, active: bool) -> None:
    """Deactivate or reactivate a record (its name must still be free to reactivate)."""
    if row.is_active == active:
        return
    if active:
        _unique_name(db, type(row), row.name, row.id)
    row.is_active = active
    verb = "reactivate" if active else "deactivate"
    record(
        db,
        f"admin.{TYPE_KEY[type(row)]}.{verb}",
        None,
        user=admin,
        target=f"{TARGET[type(row)]}:{row.id}",
    )
    db.flush()
