"""The medicines part of an elder's record (the doctor's ``/doctor/elders/{id}``): every plan,
and the doses taken of those due in the last 30 days."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from server.models import Elder, User, utcnow
from server.reminders.doses import adherence
from server.reminders.plans import plan_public, plans_of

TEMPLATE = "reminders/_record.html"
RECORD_DAYS = 30


def record_section(db: Session, rt: Any, user: User, elders: list[Elder]) -> dict[str, Any]:
    """Plans (active, paused, ended) and 30 days of adherence of the record's one elder."""
    (elder,) = elders
    days = adherence(db, elder, utcnow(), RECORD_DAYS)
    due = sum(d.due for d in days)
    taken = sum(d.taken for d in days)
    return {
        "elder": elder,
        "plans": [plan_public(p) for p in plans_of(db, elder.id)],
        "days": [
            {"day": d.day, "due": d.due, "taken": d.taken, "percent": d.percent} for d in days
        ],
        "due": due,
        "taken": taken,
        "percent": round(100 * taken / due) if due else None,
        "record_days": RECORD_DAYS,
    }
