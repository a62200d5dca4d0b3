"""The booking engine: holds, bookings and cancellations that never overbook, whatever races.

Locks, always taken in this order so two transactions never wait on each other in a circle:

1. the elder's row in ``appointment_locks`` (upserted, then updated): bookings and holds of
   one elder take turns, so the overlap check reads a settled list of the elder's visits.
   On SQLite this first write also takes the database's write lock, which serialises every
   booking like ``BEGIN IMMEDIATE`` would (SQLite has one writer; reads before it ran outside
   any transaction, so no stale snapshot is upgraded);
2. the slot's row (``SELECT … FOR UPDATE`` on PostgreSQL);
3. the appointment's row.

The count is then raised with a conditional ``UPDATE`` (``booked + live holds < capacity``)
and the table's CHECK ``booked <= capacity`` refuses anything past it even if a code path
forgot the lock. Cancellations and closures only lower counts: they lock slot then visit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from protocol import Lang
from server.appointments.errors import (
    ClinicClosed,
    HoldExpired,
    OutsideWindow,
    Overlap,
    SlotTaken,
)
from server.appointments.schedule import WINDOW_DAYS, parse_kinds
from server.errors import Conflict, InvalidInput, NotFound
from server.models import (
    Appointment,
    AppointmentLock,
    AppointmentStatus,
    BookedBy,
    Elder,
    Slot,
    SlotHold,
    VisitKind,
)
from server.web.i18n import translate

HOLD_MINUTES = 3
# Visits that occupy the elder's time (a cancelled one does not).
ACTIVE = (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED)


@dataclass(frozen=True)
class Booker:
    """Who books: the elder's box, a family member or an operator; ``sender`` scopes keys."""

    kind: BookedBy
    sender: str  # "user:7" or "device:3"
    lang: Lang
    user_id: int | None = None
    device_id: int | None = None


@dataclass(frozen=True)
class Ask:
    """One booking asked for: by whom, for which elder, which slot and kind of visit, under
    which idempotency key, at what time, with which of the booker's holds."""

    booker: Booker
    elder: Elder
    slot_id: int
    kind: VisitKind
    key: str
    now: datetime
    hold_id: int | None = None


def lock_elder(db: Session, elder_id: int) -> None:
    """Take the elder's booking lock (see the module's docstring) until the transaction ends."""
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.execute(
        insert(AppointmentLock)
        .values(elder_id=elder_id, version=0)
        .on_conflict_do_nothing(index_elements=["elder_id"])
    )
    db.execute(
        update(AppointmentLock)
        .where(AppointmentLock.elder_id == elder_id)
        .values(version=AppointmentLock.version + 1)
        .execution_options(synchronize_session=False)
    )


def lock_slot(db: Session, slot_id: int) -> Slot | None:
    """The slot, read afresh and locked until the transaction ends (PostgreSQL)."""
    return db.scalar(
        select(Slot)
        .where(Slot.id == slot_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def live_holds(db: Session, slot_id: int, now: datetime, besides: int | None = None) -> int:
    """Unexpired holds on the slot (other than ``besides``): they count against its capacity."""
    query = select(func.count(SlotHold.id)).where(
        SlotHold.slot_id == slot_id, SlotHold.expires_at > now
    )
    if besides is not None:
        query = query.where(SlotHold.id != besides)
    return db.scalar(query) or 0


def _bookable(lang: Lang, slot: Slot, now: datetime) -> None:
    if slot.starts_at <= now or slot.starts_at > now + timedelta(days=WINDOW_DAYS):
        raise OutsideWindow(lang, WINDOW_DAYS)
    if slot.closed:
        raise ClinicClosed(lang)


def _check_overlap(
    db: Session, lang: Lang, elder: Elder, slot: Slot, besides: int | None = None
) -> None:
    query = select(Appointment.id).where(
        Appointment.elder_id == elder.id,
        Appointment.status.in_(ACTIVE),
        Appointment.starts_at < slot.ends_at,
        Appointment.ends_at > slot.starts_at,
    )
    if besides is not None:
        query = query.where(Appointment.id != besides)
    clash = db.scalar(query)
    if clash is not None:
        raise Overlap(lang, elder.name)


def hold_slot(db: Session, booker: Booker, elder: Elder, slot_id: int, now: datetime) -> SlotHold:
    """Keep a place of the slot for ``booker`` for `HOLD_MINUTES`; their earlier hold for
    this elder is let go."""
    lock_elder(db, elder.id)
    slot = lock_slot(db, slot_id)
    if slot is None:
        raise NotFound(f"no slot {slot_id}")
    _bookable(booker.lang, slot, now)
    _check_overlap(db, booker.lang, elder, slot)
    for old in db.scalars(
        select(SlotHold).where(SlotHold.holder == booker.sender, SlotHold.elder_id == elder.id)
    ):
        db.delete(old)
    db.flush()
    if slot.booked + live_holds(db, slot.id, now) >= slot.capacity:
        raise SlotTaken(booker.lang)
    hold = SlotHold(
        slot_id=slot.id,
        elder_id=elder.id,
        holder=booker.sender,
        expires_at=now + timedelta(minutes=HOLD_MINUTES),
        created_at=now,
    )
    db.add(hold)
    db.flush()
    return hold


def release_hold(db: Session, sender: str, hold_id: int) -> None:
    """Let go of one's own hold (Back on the confirm screen); NotFound if it is not theirs."""
    hold = db.get(SlotHold, hold_id)
    if hold is None or hold.holder != sender:
        raise NotFound(f"no hold {hold_id} of yours")
    db.delete(hold)


def _retried(
    db: Session, booker: Booker, key: str, elder_id: int, slot_id: int
) -> Appointment | None:
    first = db.scalar(
        select(Appointment)
        .where(Appointment.sender == booker.sender, Appointment.idempotency_key == key)
        .execution_options(populate_existing=True)
    )
    if first is not None and (first.elder_id, first.slot_id) != (elder_id, slot_id):
        raise Conflict(translate(booker.lang, "appointments.key_reused"))
    return first


def _check_booking(
    db: Session,
    booker: Booker,
    elder: Elder,
    slot: Slot,
    kind: VisitKind,
    now: datetime,
    hold_id: int | None,
    besides: int | None = None,
) -> None:
    """Everything a booking checks but the count: the window, closures, the visit kind, the
    booker's hold and the elder's other visits (other than ``besides``)."""
    _bookable(booker.lang, slot, now)
    if kind.value not in parse_kinds(slot.kinds):
        raise InvalidInput(translate(booker.lang, "appointments.kind_not_offered"))
    if hold_id is not None:
        hold = db.get(SlotHold, hold_id)
        mine = hold is not None and (hold.holder, hold.slot_id, hold.elder_id) == (
            booker.sender,
            slot.id,
            elder.id,
        )
        if hold is None or not mine or hold.expires_at <= now:
            raise HoldExpired(booker.lang)
    _check_overlap(db, booker.lang, elder, slot, besides)


def precheck(db: Session, ask: Ask, besides: int | None = None) -> Slot:
    """The checks of `book`, read without a lock or a write (so nothing waits on them): the
    slot if a booking would go through now. Used before asking a clinic's own server, whose
    answer may take seconds; `book` checks again under the locks afterwards.
    ``besides``: a visit being moved, which does not count as a clash."""
    slot = db.scalar(
        select(Slot).where(Slot.id == ask.slot_id).execution_options(populate_existing=True)
    )
    if slot is None:
        raise NotFound(f"no slot {ask.slot_id}")
    _check_booking(db, ask.booker, ask.elder, slot, ask.kind, ask.now, ask.hold_id, besides)
    if slot.booked + live_holds(db, slot.id, ask.now, besides=ask.hold_id) >= slot.capacity:
        raise SlotTaken(ask.booker.lang)
    return slot


def book(
    db: Session,
    booker: Booker,
    elder: Elder,
    slot_id: int,
    kind: VisitKind,
    key: str,
    now: datetime,
    hold_id: int | None = None,
) -> tuple[Appointment, bool]:
    """Book the elder into the slot; (the visit, True) or, for a retried key, (the first, False).

    Raises `SlotTaken`, `Overlap`, `HoldExpired`, `ClinicClosed` or `OutsideWindow`.
    """
    first = _retried(db, booker, key, elder.id, slot_id)
    if first is not None:
        return first, False
    lock_elder(db, elder.id)
    slot = lock_slot(db, slot_id)
    if slot is None:
        raise NotFound(f"no slot {slot_id}")
    first = _retried(db, booker, key, elder.id, slot_id)  # a racing retry won the lock
    if first is not None:
        return first, False
    _check_booking(db, booker, elder, slot, kind, now, hold_id)
    others = live_holds(db, slot.id, now, besides=hold_id)
    try:
        raised = db.execute(
            update(Slot)
            .where(Slot.id == slot.id, Slot.booked + others < Slot.capacity)
            .values(booked=Slot.booked + 1)
            .execution_options(synchronize_session=False)
        )
    except IntegrityError as err:  # the CHECK: only if a path forgot the lock
        raise SlotTaken(booker.lang) from err
    if raised.rowcount != 1:  # type: ignore[attr-defined]
        raise SlotTaken(booker.lang)
    visit = Appointment(
        elder_id=elder.id,
        slot_id=slot.id,
        clinic_id=slot.clinic_id,
        doctor_id=slot.doctor_id,
        department_id=slot.department_id,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        kind=kind,
        status=AppointmentStatus.BOOKED,
        booked_by=booker.kind,
        booked_by_user_id=booker.user_id,
        booked_by_device_id=booker.device_id,
        sender=booker.sender,
        idempotency_key=key,
        created_at=now,
        updated_at=now,
        cancel_reason="",
    )
    db.add(visit)
    if hold_id is not None:
        db.execute(delete(SlotHold).where(SlotHold.id == hold_id))
    db.flush()
    return visit, True


def book_ask(db: Session, ask: Ask) -> tuple[Appointment, bool]:
    """`book` what ``ask`` asks for."""
    return book(db, ask.booker, ask.elder, ask.slot_id, ask.kind, ask.key, ask.now, ask.hold_id)


def cancel(db: Session, appointment_id: int, reason: str, now: datetime) -> bool:
    """Cancel a booked visit and free its place; False if it was not booked any more."""
    found = db.execute(
        select(Appointment.elder_id, Appointment.slot_id).where(Appointment.id == appointment_id)
    ).first()
    if found is None:
        raise NotFound(f"no appointment {appointment_id}")
    elder_id, slot_id = found
    lock_elder(db, elder_id)  # first: on SQLite the write lock, before the status is read
    lock_slot(db, slot_id)
    visit = db.scalar(
        select(Appointment)
        .where(Appointment.id == appointment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert visit is not None
    if visit.status is not AppointmentStatus.BOOKED:
        return False
    visit.status = AppointmentStatus.CANCELLED
    visit.cancelled_at = visit.updated_at = now
    visit.cancel_reason = reason[:500]
    db.execute(
        update(Slot)
        .where(Slot.id == slot_id)
        .values(booked=Slot.booked - 1)
        .execution_options(synchronize_session=False)
    )
    db.flush()
    return True
