"""The box's local record of medication plans and of what became of each dose.

Two tables in the box's own SQLite file (beside settings and the outbox): ``med_plans`` holds
the plans as last pushed by the server (so reminders work with the network down), and
``dose_log`` one row per dose the box has shown or settled, keyed by the dose key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from protocol import PlanInfo
from tvbox.store import BoxStore

_SCHEMA = """
CREATE TABLE IF NOT EXISTS med_plans (
    id         INTEGER PRIMARY KEY,
    plan       TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS dose_log (
    dose_key     TEXT PRIMARY KEY,
    plan_id      INTEGER NOT NULL,
    local        TEXT NOT NULL,
    at           TEXT NOT NULL,
    state        TEXT NOT NULL,
    shown_at     TEXT,
    answered_at  TEXT,
    snoozes      INTEGER NOT NULL DEFAULT 0,
    snooze_until TEXT
);
CREATE INDEX IF NOT EXISTS ix_dose_log_at ON dose_log(at);
"""


@dataclass(frozen=True)
class DoseEntry:
    """One row of the dose log."""

    dose_key: str
    plan_id: int
    local: datetime
    at: datetime
    state: str
    shown_at: datetime | None
    answered_at: datetime | None
    snoozes: int
    snooze_until: datetime | None


def _dt(value: object) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))


class ReminderStore:
    """Plans and the dose log in the box store's SQLite connection."""

    def __init__(self, store: BoxStore) -> None:
        self.db = store.db
        self.db.executescript(_SCHEMA)

    def plans(self) -> list[PlanInfo]:
        """Every stored plan, by id."""
        rows = self.db.execute("SELECT plan FROM med_plans ORDER BY id").fetchall()
        return [PlanInfo.model_validate_json(row[0]) for row in rows]

    def replace_plans(self, plans: list[PlanInfo]) -> None:
        """Store the server's current plan list, dropping plans it no longer sends."""
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute("DELETE FROM med_plans")
            self.db.executemany(
                "INSERT INTO med_plans(id, plan) VALUES(?, ?)",
                [(p.id, p.model_dump_json()) for p in plans],
            )

    def entry(self, dose_key: str) -> DoseEntry | None:
        """The log row of one dose."""
        row = self.db.execute(
            "SELECT dose_key, plan_id, local, at, state, shown_at, answered_at, snoozes, "
            "snooze_until FROM dose_log WHERE dose_key = ?",
            (dose_key,),
        ).fetchone()
        return None if row is None else _entry(row)

    def entries_since(self, since: datetime) -> dict[str, DoseEntry]:
        """Log rows of doses due at or after ``since``, by dose key."""
        rows = self.db.execute(
            "SELECT dose_key, plan_id, local, at, state, shown_at, answered_at, snoozes, "
            "snooze_until FROM dose_log WHERE at >= ?",
            (since.isoformat(),),
        ).fetchall()
        return {str(r[0]): _entry(r) for r in rows}

    def record(
        self,
        dose_key: str,
        plan_id: int,
        local: datetime,
        at: datetime,
        state: str,
        *,
        shown_at: datetime | None = None,
        answered_at: datetime | None = None,
        snooze_until: datetime | None = None,
        snoozed: bool = False,
    ) -> None:
        """Create or update the log row of one dose."""
        self.db.execute(
            "INSERT INTO dose_log(dose_key, plan_id, local, at, state, shown_at, answered_at, "
            "snoozes, snooze_until) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(dose_key) DO UPDATE SET state = excluded.state, "
            "shown_at = COALESCE(dose_log.shown_at, excluded.shown_at), "
            "answered_at = COALESCE(excluded.answered_at, dose_log.answered_at), "
            "snoozes = dose_log.snoozes + excluded.snoozes, snooze_until = excluded.snooze_until",
            (
                dose_key,
                plan_id,
                local.isoformat(),
                at.isoformat(),
                state,
                None if shown_at is None else shown_at.isoformat(),
                None if answered_at is None else answered_at.isoformat(),
                1 if snoozed else 0,
                None if snooze_until is None else snooze_until.isoformat(),
            ),
        )


def _entry(row: tuple[object, ...]) -> DoseEntry:
    key, plan_id, local, at, state, shown, answered, snoozes, until = row
    return DoseEntry(
        dose_key=str(key),
        plan_id=int(str(plan_id)),
        local=datetime.fromisoformat(str(local)),
        at=datetime.fromisoformat(str(at)),
        state=str(state),
        shown_at=_dt(shown),
        answered_at=_dt(answered),
        snoozes=int(str(snoozes)),
        snooze_until=_dt(until),
    )
