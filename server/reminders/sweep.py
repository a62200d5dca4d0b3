"""The missed-dose sweep: doses not confirmed within their plan's window become "missed",
and the elder's family is alerted once — on their open pages and by e-mail (queued in
`server.outgoing` with the claim, so a failed send is retried and a crash loses nothing).

Safe with several server processes on one database: a missed record is inserted under the
(plan, local time) unique constraint, and each alert is claimed with a conditional UPDATE
(``alert_claimed_at IS NULL``) whose row count says which process sends it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from protocol import DoseAlert, DoseOutcome, Topic
from server.models import (
    CareLink,
    DoseRecord,
    Elder,
    MedicationPlan,
    ReminderAlertSetting,
    SweepMark,
    User,
    utcnow,
)
from server.notify import Email
from server.outgoing import deliver, queue_email
from server.push import push_change
from server.reminders.dose_index import index_for
from server.runtime import Runtime
from server.web.i18n import translate
from server.web.when import local, zone_name_words

log = logging.getLogger(__name__)
# How far back every sweep looks at least (a slow box's late answer, a clock that jumped).
LOOKBACK = timedelta(hours=3)
# After an outage the sweep catches up from where the last one got (`SweepMark`), but no
# further back than this: a dose older than a week is history, not an alert.
CATCH_UP = timedelta(days=7)
# A dose caught up on is still alerted if it was due within this; older ones are recorded
# as missed (the family sees them in the history) without an e-mail a day late.
ALERT_MAX_AGE = timedelta(days=1)
SWEEP_MARK = "missed_doses"
# The mark only matters once it is older than LOOKBACK, so it is moved now and then, not
# written by every sweep (a write per sweep cost SQLite about 9 ms of its 18 ms).
MARK_EVERY = timedelta(minutes=10)
SWEEP_SECONDS = 30.0


@dataclass(frozen=True)
class MissedDose:
    """A dose this process claimed the alert for."""

    record_id: int
    elder_id: int
    elder_name: str
    plan_id: int
    medicine: str
    scheduled_at: datetime
    scheduled_local: str


def find_missed(db: Session, now: datetime) -> int:
    """Insert "missed" records for overdue unanswered doses; return how many were tried.

    Every dose whose window closed since the last sweep got (``SweepMark``, at most
    ``CATCH_UP`` ago) or in the last ``LOOKBACK``, whichever is earlier, is checked against
    the records, so a server that was down for a night still finds the doses of that night.
    The in-process index only makes it fast. The mark moves (every ``MARK_EVERY``) in the
    same transaction as the records; several processes may move it (the inserts are
    idempotent either way).
    """
    mark = db.get(SweepMark, SWEEP_MARK)
    since = _swept_from(mark, now)
    index = index_for(db)
    with index.lock:
        index.ensure(db, since, now)
        candidates = index.closing(since, now)
        windows = dict(index.windows)
    if mark is None or mark.swept_until < now - MARK_EVERY:
        _mark_swept(db, now)
    overdue = _snoozed_overdue(db, since, now, windows)
    if not candidates:
        return overdue
    known = set(
        db.execute(
            select(DoseRecord.plan_id, DoseRecord.scheduled_local).where(
                DoseRecord.scheduled_at >= min(c.at for c in candidates),
                DoseRecord.scheduled_at <= max(c.at for c in candidates),
            )
        ).tuples()
    )
    new = [
        {
            "plan_id": c.plan_id,
            "elder_id": c.elder_id,
            "scheduled_local": c.local,
            "scheduled_at": c.at,
            "outcome": DoseOutcome.MISSED,
            "snoozes": 0,
            "recorded_at": now,
        }
        for c in candidates
        if (c.plan_id, c.local) not in known
    ]
    if not new:
        return overdue
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(DoseRecord).on_conflict_do_nothing(
        index_elements=["plan_id", "scheduled_local"]
    )
    db.execute(statement, new)
    return len(new) + overdue


def _swept_from(mark: SweepMark | None, now: datetime) -> datetime:
    """Where this sweep starts: the last sweep's mark or ``LOOKBACK``, whichever is earlier."""
    since = now - LOOKBACK
    if mark is not None and mark.swept_until < since:
        since = max(mark.swept_until, now - CATCH_UP)
        log.info("missed-dose sweep catching up from %s", since.isoformat())
    return since


def _mark_swept(db: Session, now: datetime) -> None:
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(SweepMark).values(name=SWEEP_MARK, swept_until=now)
    db.execute(
        statement.on_conflict_do_update(
            index_elements=["name"], set_={"swept_until": statement.excluded.swept_until}
        )
    )


def _snoozed_overdue(
    db: Session, since: datetime, now: datetime, windows: dict[int, timedelta]
) -> int:
    """Snoozing is not an answer: a dose still snoozed when its window closes is missed."""
    longest = max(windows.values(), default=timedelta(0))
    rows = db.execute(
        select(DoseRecord.id, DoseRecord.plan_id, DoseRecord.scheduled_at).where(
            DoseRecord.outcome == DoseOutcome.SNOOZED,
            DoseRecord.scheduled_at >= since - longest,
        )
    ).all()
    ids = [r.id for r in rows if r.plan_id in windows and r.scheduled_at < now - windows[r.plan_id]]
    if ids:
        db.execute(
            update(DoseRecord)
            .where(DoseRecord.id.in_(ids), DoseRecord.outcome == DoseOutcome.SNOOZED)
            .values(outcome=DoseOutcome.MISSED)
            .execution_options(synchronize_session=False)
        )
    return len(ids)


def claim_alerts(db: Session, now: datetime) -> list[MissedDose]:
    """Claim every unalerted missed dose; only the process whose UPDATE hits sends it."""
    candidates = db.execute(
        select(
            DoseRecord.id,
            DoseRecord.elder_id,
            DoseRecord.plan_id,
            DoseRecord.scheduled_at,
            DoseRecord.scheduled_local,
            MedicationPlan.medicine,
            Elder.name,
        )
        .join(MedicationPlan, MedicationPlan.id == DoseRecord.plan_id)
        .join(Elder, Elder.id == DoseRecord.elder_id)
        .where(
            DoseRecord.outcome == DoseOutcome.MISSED,
            DoseRecord.alert_claimed_at.is_(None),
            # A deactivated elder's service ended: no one is alerted about their doses.
            Elder.is_active.is_(True),
            DoseRecord.scheduled_at >= now - ALERT_MAX_AGE,
        )
    ).all()
    claimed = []
    for c in candidates:
        result = db.execute(
            update(DoseRecord)
            .where(DoseRecord.id == c.id, DoseRecord.alert_claimed_at.is_(None))
            .values(alert_claimed_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(
                MissedDose(
                    c.id,
                    c.elder_id,
                    c.name,
                    c.plan_id,
                    c.medicine,
                    c.scheduled_at,
                    c.scheduled_local,
                )
            )
    return claimed


def alert_audience(db: Session, elder_id: int) -> tuple[list[User], list[User]]:
    """Linked family members to e-mail and to alert live, by their alert settings."""
    family = db.scalars(
        select(User)
        .join(CareLink, CareLink.user_id == User.id)
        .where(CareLink.elder_id == elder_id, User.is_active.is_(True))
    ).all()
    prefs = {
        s.user_id: s
        for s in db.scalars(
            select(ReminderAlertSetting).where(ReminderAlertSetting.elder_id == elder_id)
        )
    }
    email = [u for u in family if u.email and (u.id not in prefs or prefs[u.id].email_missed)]
    live = [u for u in family if u.id not in prefs or prefs[u.id].live_missed]
    return email, live


def _email_for(user: User, dose: MissedDose, zone: str, base_url: str) -> Email:
    """The missed-dose e-mail in the reader's language, the time in the elder's zone, named."""
    moment = local(dose.scheduled_at, zone)
    values = {
        "name": dose.elder_name,
        "medicine": dose.medicine,
        "time": moment.strftime("%H:%M"),
        "date": moment.strftime("%Y-%m-%d"),
        "zone": zone_name_words(user.lang, zone),
        "link": f"{base_url.rstrip('/')}/family#med-{dose.elder_id}",
    }
    body = translate(user.lang, "med.mail.body", **values)
    body += "\n" + translate(user.lang, "msg.signature")
    return Email(
        to=user.email, subject=translate(user.lang, "med.mail.subject", **values), body=body
    )


def run_sweep(rt: Runtime, now: datetime | None = None) -> list[MissedDose]:
    """One sweep: find missed doses, claim their alerts, then send them (e-mail and live)."""
    now = now or utcnow()
    with rt.db.session() as db:
        find_missed(db, now)
    with rt.db.session() as db:
        # The claim and its e-mails commit together: a crash after this loses nothing (the
        # outgoing sweep sends them) and a second process finds nothing left to claim.
        claimed = claim_alerts(db, now)
        work = []
        for dose in claimed:
            email_to, live_to = alert_audience(db, dose.elder_id)
            zone = db.scalar(select(Elder.timezone).where(Elder.id == dose.elder_id)) or ""
            base_url = rt.settings.public_base_url
            mail_ids = [
                queue_email(
                    db,
                    _email_for(u, dose, zone, base_url),
                    f"dose-missed:{dose.record_id}:{u.id}",
                )
                for u in email_to
            ]
            work.append((dose, mail_ids, {u.id for u in live_to}))
    for dose, mail_ids, live_ids in work:
        alert = DoseAlert(
            elder_id=dose.elder_id,
            elder_name=dose.elder_name,
            plan_id=dose.plan_id,
            medicine=dose.medicine,
            scheduled_at=dose.scheduled_at,
        )

        async def push(alert: DoseAlert = alert, users: set[int] = live_ids) -> None:
            await rt.hub.to_users(users, alert)
            data = {"plan_id": alert.plan_id, "outcome": "missed"}
            await push_change(rt.hub, Topic.MEDICATION, alert.elder_id, data, users)

        rt.hub.push(push())
        deliver(rt, mail_ids)
    return claimed


def missed_dose_sweep(rt: Runtime) -> str | None:
    """The registered periodic job; what it sent, if anything."""
    missed = run_sweep(rt)
    return f"{len(missed)} missed-dose alerts sent" if missed else None
