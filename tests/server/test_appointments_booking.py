"""No double booking, whatever races: many bookings at once of a one-place slot, and one elder
booking overlapping slots at once, on SQLite and on PostgreSQL (both, whatever the suite's
backend: ``ANXIN_TEST_DATABASE_URL`` or the local test database)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from protocol import ErrorCode, Lang, Role
from server.appointments.booking import Booker, book
from server.core.db import Database
from server.errors import AppError
from server.models import (
    Appointment,
    AppointmentStatus,
    BookedBy,
    Clinic,
    Department,
    Elder,
    Slot,
    VisitKind,
    utcnow,
)
from tests.support.databases import migrated_database
from tests.support.world import make_elder, make_user

RACERS = 50


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated database of each kind."""
    with migrated_database(tmp_path, request.param) as url:
        db = Database(url)
        try:
            yield db
        finally:
            db.dispose()


def _slots(database: Database, doctors: int, capacity: int) -> tuple[list[int], int]:
    """One slot tomorrow for each of ``doctors`` doctors, all at the same time; (ids, clinic)."""
    starts = utcnow().replace(microsecond=0) + timedelta(days=1)
    with database.session() as db:
        clinic = Clinic(name="Race clinic")
        db.add(clinic)
        db.flush()
        dept = Department(clinic_id=clinic.id, code="gp", name_zh="全科", name_en="GP")
        db.add(dept)
        db.flush()
        ids = []
        for n in range(doctors):
            doctor = make_user(db, Role.DOCTOR, clinic_id=clinic.id)
            slot = Slot(
                clinic_id=clinic.id,
                doctor_id=doctor.id,
                department_id=dept.id,
                starts_at=starts + timedelta(minutes=2 * n),
                ends_at=starts + timedelta(minutes=2 * n + 30),
                capacity=capacity,
                booked=0,
                kinds="clinic,video",
                closed=False,
            )
            db.add(slot)
            db.flush()
            ids.append(slot.id)
        return ids, clinic.id


def _race(count: int, attempt: Callable[[int], None]) -> list[str]:
    """Run ``attempt(i)`` for every i at once; each one's outcome ("ok" or its error code)."""
    start = threading.Barrier(count)

    def one(i: int) -> str:
        start.wait(timeout=30)
        try:
            attempt(i)
        except AppError as err:
            return f"{err.code}:{err.message}"
        return "ok"

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


def _booker(n: int) -> Booker:
    return Booker(BookedBy.FAMILY, f"user:{n}", Lang.EN, user_id=None)


def test_fifty_bookings_of_a_one_place_slot_give_exactly_one(database: Database) -> None:
    (slot_id,), _ = _slots(database, doctors=1, capacity=1)
    with database.session() as db:
        elders = [make_elder(db).id for _ in range(RACERS)]

    def attempt(i: int) -> None:
        with database.session() as db:
            elder = db.get(Elder, elders[i])
            assert elder is not None
            book(db, _booker(i), elder, slot_id, VisitKind.CLINIC, uuid.uuid4().hex, utcnow())

    outcomes = _race(RACERS, attempt)
    assert outcomes.count("ok") == 1, outcomes
    taken = f"{ErrorCode.SLOT_TAKEN}:That time has just been taken. Please choose another time."
    assert outcomes.count(taken) == RACERS - 1, set(outcomes)
    with database.session() as db:
        slot = db.get(Slot, slot_id)
        assert slot is not None and slot.booked == 1
        booked = db.scalar(
            select(func.count(Appointment.id)).where(
                Appointment.slot_id == slot_id, Appointment.status == AppointmentStatus.BOOKED
            )
        )
        assert booked == 1


def test_one_elder_booking_overlapping_slots_at_once_gets_one(database: Database) -> None:
    # Ten doctors' 30-minute slots, 2 minutes apart: every two of them overlap.
    slot_ids, _ = _slots(database, doctors=10, capacity=5)
    with database.session() as db:
        elder_id = make_elder(db).id

    def attempt(i: int) -> None:
        with database.session() as db:
            elder = db.get(Elder, elder_id)
            assert elder is not None
            kind = VisitKind.VIDEO if i % 2 else VisitKind.CLINIC
            # Family and operator alike, each with its own key: only one visit may stand.
            book(db, _booker(i), elder, slot_ids[i], kind, uuid.uuid4().hex, utcnow())

    outcomes = _race(len(slot_ids), attempt)
    assert outcomes.count("ok") == 1, outcomes
    assert all(o == "ok" or o.startswith(f"{ErrorCode.OVERLAP}:") for o in outcomes), outcomes
    with database.session() as db:
        visits = db.scalars(select(Appointment).where(Appointment.elder_id == elder_id)).all()
        assert len(visits) == 1
        assert sum(s.booked for s in db.scalars(select(Slot))) == 1


def test_a_retried_booking_is_stored_once(database: Database) -> None:
    (slot_id,), _ = _slots(database, doctors=1, capacity=3)
    with database.session() as db:
        elder_id = make_elder(db).id

    def attempt(i: int) -> None:
        with database.session() as db:
            elder = db.get(Elder, elder_id)
            assert elder is not None
            book(db, _booker(1), elder, slot_id, VisitKind.CLINIC, "same-key", utcnow())

    assert _race(8, attempt) == ["ok"] * 8
    with database.session() as db:
        slot = db.get(Slot, slot_id)
        assert slot is not None and slot.booked == 1
        assert db.scalar(select(func.count(Appointment.id))) == 1


def test_the_database_refuses_a_slot_past_its_capacity(database: Database) -> None:
    """The CHECK holds even for a write that skips the engine."""
    (slot_id,), _ = _slots(database, doctors=1, capacity=1)
    with pytest.raises(Exception, match="(?i)check"), database.session() as db:
        slot = db.get(Slot, slot_id)
        assert slot is not None
        slot.booked = 2
        db.flush()
