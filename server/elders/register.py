"""Registering an elder and changing their record as the care centre: the fields checked one
by one (the form, the JSON API and each CSV row all come here), who may do it, the audit.

A field's problem is a message key (``elders.error.<what>``) with values, so a page shows it
in the viewer's language next to the field and the JSON API in English.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import available_timezones

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol import Lang, Role
from server import audit
from server.errors import Forbidden, NotFound
from server.models import Clinic, Elder, ServiceArea, User

ZONES = available_timezones()
FIELDS = (
    "register_ref",
    "name",
    "phone",
    "birth_year",
    "lang",
    "timezone",
    "address",
    "latitude",
    "longitude",
    "lives_alone",
    "clinic",
    "care_notes",
    "area",
)
_PHONE = re.compile(r"^\+?[0-9][0-9 ()\-]{3,30}$")
_NOT_DIGIT = re.compile(r"[^0-9]")
_YES = {"yes", "y", "true", "1", "是", "on"}
_NO = {"no", "n", "false", "0", "否", "", "off"}
OLDEST_BIRTH_YEAR = 1880


@dataclass
class Problem:
    """A field's problem: its message key and the values the message names."""

    key: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class Places:
    """The clinics and areas an elder may be put in, by id and by name (one query each)."""

    clinics: dict[int, str]
    areas: dict[int, str]

    @classmethod
    def load(cls, db: Session) -> Places:
        """The active clinics and areas."""
        clinics = db.execute(select(Clinic.id, Clinic.name).where(Clinic.is_active.is_(True)))
        areas = db.execute(
            select(ServiceArea.id, ServiceArea.name).where(ServiceArea.is_active.is_(True))
        )
        return cls({i: n for i, n in clinics}, {i: n for i, n in areas})

    def clinic_by_name(self, name: str) -> int | None:
        """The clinic called ``name`` (case and spaces ignored)."""
        wanted = _fold(name)
        return next((i for i, n in self.clinics.items() if _fold(n) == wanted), None)

    def area_by_name(self, name: str) -> int | None:
        """The area called ``name`` (case and spaces ignored)."""
        wanted = _fold(name)
        return next((i for i, n in self.areas.items() if _fold(n) == wanted), None)


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def area_of(user: User, requested: int | None) -> int | None:
    """The area an elder created by ``user`` goes to: the operator's own; an admin's choice."""
    if user.role is Role.OPERATOR:
        return user.service_area_id
    if user.role is Role.ADMIN:
        return requested
    raise Forbidden("only the care centre or an administrator can register elders")


def check_fields(
    raw: Mapping[str, str], places: Places, *, by_name: bool, admin: bool
) -> tuple[dict[str, Any], dict[str, Problem]]:
    """Clean values of an elder's fields from text, and the problems of the bad ones.

    ``by_name``: clinic and area are given by name (CSV), else by id (form, JSON).
    """
    values: dict[str, Any] = {}
    problems: dict[str, Problem] = {}

    def text(name: str, limit: int) -> str:
        given = str(raw.get(name) or "")
        # Notes keep their lines; other fields lose stray spaces (Excel pads cells).
        value = given.strip() if name == "care_notes" else " ".join(given.split())
        if len(value) > limit:
            problems[name] = Problem("elders.error.too_long", {"limit": limit})
        return value

    ref = text("register_ref", 64)
    values["register_ref"] = ref or None
    name = text("name", 120)
    if not name:
        problems["name"] = Problem("elders.error.name_missing")
    values["name"] = name
    phone = text("phone", 40)
    if phone and not _PHONE.match(phone):
        problems["phone"] = Problem("elders.error.phone")
    # Kept as digits (and a leading +) so a search by digits finds "138-0013-8000" too.
    values["phone"] = normal_phone(phone)
    values["birth_year"] = None
    year = text("birth_year", 8)
    if year:
        this_year = datetime.now(UTC).year
        if not year.isdigit() or not OLDEST_BIRTH_YEAR <= int(year) <= this_year:
            problems["birth_year"] = Problem(
                "elders.error.birth_year", {"low": OLDEST_BIRTH_YEAR, "high": this_year}
            )
        else:
            values["birth_year"] = int(year)
    lang = text("lang", 8).lower() or Lang.ZH.value
    if lang not in (Lang.ZH.value, Lang.EN.value):
        problems["lang"] = Problem("elders.error.lang")
    values["lang"] = Lang(lang) if lang in (Lang.ZH.value, Lang.EN.value) else Lang.ZH
    zone = text("timezone", 64) or "Asia/Shanghai"
    if zone not in ZONES:
        problems["timezone"] = Problem("elders.error.timezone")
    values["timezone"] = zone
    values["address"] = text("address", 255)
    for name_, limit in (("latitude", 90.0), ("longitude", 180.0)):
        coordinate = text(name_, 32)
        values[name_] = None
        if coordinate:
            try:
                number = float(coordinate)
            except ValueError:
                number = float("nan")
            if not -limit <= number <= limit:  # NaN fails too
                problems[name_] = Problem(f"elders.error.{name_}", {"limit": int(limit)})
            else:
                values[name_] = round(number, 6)
    if (values["latitude"] is None) != (values["longitude"] is None) and not (
        {"latitude", "longitude"} & problems.keys()
    ):
        problems["latitude"] = Problem("elders.error.both_coordinates")
    alone = text("lives_alone", 8).lower()
    if alone not in _YES | _NO:
        problems["lives_alone"] = Problem("elders.error.lives_alone")
    values["lives_alone"] = alone in _YES
    values["care_notes"] = text("care_notes", 5000)
    clinic = text("clinic", 120)
    values["clinic_id"] = None
    if clinic:
        found = places.clinic_by_name(clinic) if by_name else _known_id(clinic, places.clinics)
        if found is None:
            problems["clinic"] = Problem("elders.error.clinic", {"clinic": clinic})
        values["clinic_id"] = found
    if admin:
        area = text("area", 120)
        found = None
        if area:
            found = places.area_by_name(area) if by_name else _known_id(area, places.areas)
        if found is None:
            problems["area"] = Problem("elders.error.area", {"area": area})
        values["service_area_id"] = found
    return values, problems


def normal_phone(phone: str) -> str:
    """A phone number as digits, with its leading + if it had one."""
    digits = _NOT_DIGIT.sub("", phone)
    return f"+{digits}" if phone.startswith("+") and digits else digits


def _known_id(text: str, known: dict[int, str]) -> int | None:
    return int(text) if text.isdigit() and int(text) in known else None


def elder_for_care_centre(db: Session, user: User, elder_id: int) -> Elder:
    """The elder, if ``user`` may register and change elders of their area (operator, admin).

    Another area's elder looks like no elder at all (404); other roles get 403.
    """
    if user.role not in (Role.OPERATOR, Role.ADMIN):
        raise Forbidden("only the care centre or an administrator manages elders' records")
    query = select(Elder).where(Elder.id == elder_id)
    if user.role is Role.OPERATOR:
        query = query.where(Elder.service_area_id == user.service_area_id)
    elder = db.scalar(query)
    if elder is None:
        raise NotFound(f"no elder {elder_id} that you can see")
    return elder


def ref_taken(db: Session, area_id: int | None, ref: str | None, elder_id: int | None) -> bool:
    """Whether another elder of the area has the register number ``ref``."""
    if not ref:
        return False
    other = db.scalar(
        select(Elder.id).where(Elder.service_area_id == area_id, Elder.register_ref == ref)
    )
    return other is not None and other != elder_id


def save_elder(
    db: Session, user: User, values: dict[str, Any], elder: Elder | None = None
) -> Elder:
    """Create (``elder`` None) or change an elder from checked values; audited; not committed."""
    values = dict(values)
    if user.role is Role.OPERATOR:
        values["service_area_id"] = user.service_area_id
    if elder is None:
        elder = Elder(**values)
        db.add(elder)
        db.flush()
        audit.record(db, "elder.create", elder.id, user=user, target=f"elder:{elder.id}")
        return elder
    changed = sorted(k for k, v in values.items() if getattr(elder, k) != v)
    for name, value in values.items():
        setattr(elder, name, value)
    db.flush()
    audit.record(
        db,
        "elder.update",
        elder.id,
        user=user,
        detail=",".join(changed),
        target=f"elder:{elder.id}",
    )
    return elder


def form_of(elder: Elder, places: Places) -> dict[str, str]:
    """An elder's record as the form's text fields (ids for clinic and area)."""
    return {
        "register_ref": elder.register_ref or "",
        "name": elder.name,
        "phone": elder.phone,
        "birth_year": str(elder.birth_year or ""),
        "lang": elder.lang.value,
        "timezone": elder.timezone,
        "address": elder.address,
        "latitude": "" if elder.latitude is None else f"{elder.latitude:.6f}",
        "longitude": "" if elder.longitude is None else f"{elder.longitude:.6f}",
        "lives_alone": "yes" if elder.lives_alone else "no",
        "clinic": str(elder.clinic_id or ""),
        "care_notes": elder.care_notes,
        "area": str(elder.service_area_id or ""),
    }
