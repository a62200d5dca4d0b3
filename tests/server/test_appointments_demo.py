"""`./anxin demo` has visits today on the clinic's day list (one a video visit, in the
clinic's zone, still to come when the day allows) and upcoming visits for the demo elder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from server.appointments.demo import seed_appointments
from server.core.db import Database
from server.demo import seed_demo
from server.models import Appointment, AppointmentStatus, Elder, VisitKind

SHANGHAI = ZoneInfo("Asia/Shanghai")  # the demo clinic's zone


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A December 2026 moment in the clinic's zone, as UTC (6 December is a Sunday)."""
    return datetime(2026, 12, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


def seeded(db_url: str, now: datetime) -> list[tuple[Appointment, str]]:
    database = Database(db_url)
    try:
        with database.session() as db:
            assert seed_demo(db, [partial(seed_appointments, now=now)])
            db.flush()
            rows = db.execute(
                select(Appointment, Elder.name)
                .join(Elder, Elder.id == Appointment.elder_id)
                .where(Appointment.status == AppointmentStatus.BOOKED)
                .order_by(Appointment.starts_at)
            ).all()
            db.expunge_all()
            return [(visit, name) for visit, name in rows]
    finally:
        database.dispose()


@pytest.mark.parametrize(
    "now",
    [
        pytest.param(at(6, 14, 3), id="sunday-afternoon-no-session-of-the-week"),
        pytest.param(at(7, 7, 0), id="monday-before-the-morning-session"),
        pytest.param(at(10, 10, 50), id="thursday-inside-the-morning-session"),
    ],
)
def test_the_demo_has_visits_later_today_one_of_them_by_video(db_url: str, now: datetime) -> None:
    visits = seeded(db_url, now)
    today = now.astimezone(SHANGHAI).date()
    later_today = [
        (v, name)
        for v, name in visits
        if v.starts_at > now and v.starts_at.astimezone(SHANGHAI).date() == today
    ]
    assert len(later_today) >= 3, [(v.starts_at, name) for v, name in visits]
    video = [(v, name) for v, name in later_today if v.kind is VisitKind.VIDEO]
    assert [name for _v, name in video] == ["王秀英"]
    # Soon, not at the end of the day; but after the TV's one-hour reminder, so the elder's
    # TV opens on its home screen.
    first = min(v.starts_at for v, _name in later_today) - now
    assert timedelta(hours=1) < first < timedelta(hours=4)
    # The demo elder also has visits on later days for the TV and the family page.
    assert [v for v, name in visits if name == "王秀英" and v.starts_at.date() > today]


def test_late_at_night_the_demo_still_has_upcoming_visits(db_url: str) -> None:
    now = at(6, 23, 40)
    visits = seeded(db_url, now)
    assert all(v.starts_at > now for v, _name in visits)
    assert len([v for v, name in visits if name == "王秀英"]) >= 2
