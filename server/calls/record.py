"""The consults part of an elder's record (the doctor's ``/doctor/elders/{id}``): every consult,
newest first, with the doctor who took it, how it ended, its outcome and notes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol import CallKind
from server.models import Call, Elder, User

TEMPLATE = "calls/_record.html"
RECORD_CONSULTS = 50


@dataclass(frozen=True)
class RecordConsult:
    """One consult as the record lists it."""

    call: Call
    doctor: str
    minutes: int | None


def record_section(db: Session, rt: Any, user: User, elders: list[Elder]) -> dict[str, Any]:
    """The newest consults of the record's one elder."""
    (elder,) = elders
    calls = list(
        db.scalars(
            select(Call)
            .where(Call.elder_id == elder.id, Call.kind == CallKind.CONSULT)
            .order_by(Call.requested_at.desc(), Call.id.desc())
            .limit(RECORD_CONSULTS)
        )
    )
    ids = {c.user_id for c in calls if c.user_id is not None}
    names = dict(db.execute(select(User.id, User.name).where(User.id.in_(ids))).tuples().all())
    return {
        "consults": [
            RecordConsult(
                call=c,
                doctor=names.get(c.user_id, "") if c.user_id else "",
                minutes=(
                    max(1, round((c.ended_at - c.answered_at).total_seconds() / 60))
                    if c.answered_at and c.ended_at
                    else None
                ),
            )
            for c in calls
        ]
    }
