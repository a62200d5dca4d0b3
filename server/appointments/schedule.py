"""Slots from opening hours: materialised for a rolling window in the clinic's zone, stored UTC.

Each opening-hours row gives, on its weekday, slots from ``start`` to ``end`` local time of
the clinic, ``slot_minutes`` long. Local times are turned into UTC day by day, so a slot at
09:00 stays at 09:00 local across a daylight-saving change; a local time that does not exist
that day (the spring-forward gap) has no slot, and one that happens twice (the autumn
fall-back) has one slot, at its first occurrence. Existing slots are never duplicated
(unique doctor + start) and booked ones are never removed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from server.models import Clinic, Closure, OpeningHours, Slot, SlotHold
from server.web.when import DEFAULT_ZONE, valid_zone

WINDOW_DAYS = 28  # slots exist (and may be booked) from now to this many days ahead


def clinic_zone(clinic: Clinic) -> ZoneInfo:
    """The clinic's zone (Shanghai when the stored name is unknown to this machine)."""
    return ZoneInfo(valid_zone(clinic.timezone) or DEFAULT_ZONE)


def local_instant(day: date, minute: int, zone: ZoneInfo) -> datetime | None:
    """``minute`` after midnight of ``day`` in ``zone`` as UTC; None when that clock time
    does not exist that day (the spring-forward gap)."""
    if not 0 <= minute < 1440:
        return None
    wall = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone)  # fold=0: first
    moment = wall.astimezone(UTC)
    if moment.astimezone(zone).replace(tzinfo=None) != wall.replace(tzinfo=None):
        return None  # the wall time was skipped
    return moment


def slot_starts(hours: OpeningHours, day: date, zone: ZoneInfo) -> list[datetime]:
    """The UTC starts of ``hours``'s slots on local ``day`` (empty on other weekdays)."""
    if day.weekday() != hours.weekday:
        return []
    starts = []
    minute = hours.start_minute
    while minute + hours.slot_minutes <= hours.end_minute:
        moment = local_instant(day, minute, zone)
        if moment is not None:
            starts.append(moment)
        minute += hours.slot_minutes
    return starts


def slot_rows(
    hours: OpeningHours, clinic: Clinic, now: datetime, days: int = WINDOW_DAYS
) -> list[dict[str, object]]:
    """The slots of ``hours`` from ``now`` to ``days`` ahead, as rows to insert."""
    zone = clinic_zone(clinic)
    today = now.astimezone(zone).date()
    rows: list[dict[str, object]] = []
    for offset in range(days + 1):
        for start in slot_starts(hours, today + timedelta(days=offset), zone):
            if start <= now or start > now + timedelta(days=days):
                continue
            rows.append(
                {
                    "clinic_id": hours.clinic_id,
                    "doctor_id": hours.doctor_id,
                    "department_id": hours.department_id,
                    "hours_id": hours.id,
                    "starts_at": start,
                    "ends_at": start + timedelta(minutes=hours.slot_minutes),
                    "capacity": hours.capacity,
                    "booked": 0,
                    "kinds": hours.kinds,
                    "closed": False,
                }
            )
    return rows


def insert_slots(db: Session, rows: list[dict[str, object]]) -> int:
    """Insert slot rows, skipping those that exist (doctor + start); how many were added."""
    dialect = db.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    added = 0
    for chunk in range(0, len(rows), 1000):
        stmt = insert(Slot).values(rows[chunk : chunk + 1000])
        result = db.execute(stmt.on_conflict_do_nothing(index_elements=["doctor_id", "starts_at"]))
        added += result.rowcount  # type: ignore[attr-defined]
    return added


def materialise(
    db: Session, hours: OpeningHours, clinic: Clinic, now: datetime, days: int = WINDOW_DAYS
) -> int:
    """Add the missing slots of ``hours`` from ``now`` to ``days`` ahead (those inside a
    closure closed); how many were added."""
    added = insert_slots(db, slot_rows(hours, clinic, now, days))
    if added:
        close_inside(db, hours.clinic_id, now)
    return added


def drop_free_slots(db: Session, hours_id: int, now: datetime) -> None:
    """Remove the future slots of ``hours_id`` nobody booked or holds (hours changed or gone).

    Booked slots stay, with their visits, until someone cancels them.
    """
    held = select(SlotHold.slot_id).where(SlotHold.expires_at > now)
    db.execute(
        delete(Slot)
        .where(
            Slot.hours_id == hours_id,
            Slot.starts_at > now,
            Slot.booked == 0,
            Slot.id.not_in(held),
        )
        .execution_options(synchronize_session=False)
    )
    db.execute(delete(SlotHold).where(SlotHold.expires_at <= now))


def close_inside(db: Session, clinic_id: int, now: datetime) -> None:
    """Mark every future slot of the clinic inside one of its closures as closed."""
    closures = db.execute(
        select(Closure.doctor_id, Closure.starts_at, Closure.ends_at).where(
            Closure.clinic_id == clinic_id, Closure.ends_at > now
        )
    ).all()
    for doctor_id, starts_at, ends_at in closures:
        db.execute(
            update(Slot)
            .where(*inside(clinic_id, doctor_id, starts_at, ends_at), Slot.closed.is_(False))
            .values(closed=True)
            .execution_options(synchronize_session=False)
        )


def inside(
    clinic_id: int, doctor_id: int | None, starts_at: datetime, ends_at: datetime
) -> list[ColumnElement[bool]]:
    """Conditions on `Slot` for the slots a closure covers (any overlap)."""
    conditions: list[ColumnElement[bool]] = [
        Slot.clinic_id == clinic_id,
        Slot.starts_at < ends_at,
        Slot.ends_at > starts_at,
    ]
    if doctor_id is not None:
        conditions.append(Slot.doctor_id == doctor_id)
    return conditions


def reopen(
    db: Session, clinic_id: int, doctor_id: int | None, span: tuple[datetime, datetime]
) -> None:
    """Open again the slots of a removed closure that no other closure still covers."""
    starts_at, ends_at = span
    others = select(Closure.id).where(
        Closure.clinic_id == Slot.clinic_id,
        or_(Closure.doctor_id.is_(None), Closure.doctor_id == Slot.doctor_id),
        Closure.starts_at < Slot.ends_at,
        Closure.ends_at > Slot.starts_at,
    )
    db.execute(
        update(Slot)
        .where(*inside(clinic_id, doctor_id, starts_at, ends_at), ~others.exists())
        .values(closed=False)
        .execution_options(synchronize_session=False)
    )


def extend_all(db: Session, now: datetime, clinic_ids: Iterable[int] | None = None) -> int:
    """Materialise every opening hours' window (the daily roll); slots added."""
    query = select(OpeningHours, Clinic).join(Clinic, Clinic.id == OpeningHours.clinic_id)
    if clinic_ids is not None:
        query = query.where(OpeningHours.clinic_id.in_(list(clinic_ids)))
    return sum(materialise(db, hours, clinic, now) for hours, clinic in db.execute(query).all())


def parse_kinds(kinds: str) -> list[str]:
    """The visit kinds stored as ``"clinic,video"``."""
    return [k for k in kinds.split(",") if k]
