"""The rolling window: every hour, each clinic's opening hours add the slots of the day that
has come into the window, and holds that ran out are swept away."""

from __future__ import annotations

from sqlalchemy import delete

from server.appointments.schedule import extend_all
from server.models import SlotHold, utcnow
from server.runtime import Runtime

ROLL_SECONDS = 3600.0


def roll_window(rt: Runtime) -> None:
    """Materialise the window's new slots; forget expired holds (they count for nothing)."""
    now = utcnow()
    with rt.db.session() as db:
        db.execute(delete(SlotHold).where(SlotHold.expires_at <= now))
        extend_all(db, now)
