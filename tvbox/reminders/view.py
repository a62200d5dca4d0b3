"""Medication reminders on the box: which doses are due, the full-screen reminder, the answers.

No Kivy, no network, no real clock: ``now`` is passed in (the app's clock object), so tests
drive hours of schedule in microseconds. Dose times come from `protocol.schedule`, the same
code the server uses, in the elder's timezone.

Rules:
- a dose is shown when its time comes, or at start if it passed less than ``grace`` ago;
- several doses due together are one reminder; OK = taken, or snooze 10 minutes, or skip;
- a key answers only what the elder could have seen: a dose that joined the reminder less
  than ``SETTLE`` before the key stays on the screen, unanswered, and is announced again
  (a busy box may handle a key pressed for one medicine just after the next one came due);
- a dose unanswered ``grace`` after its time is recorded as missed ("no answer");
- every answer goes to the outbox with a key from (plan, dose time, answer): exactly once;
- a plan change (pause, resume, new times, the plan replaced by another) never forgets what
  was answered: today's answered doses stay listed with their answer, and an answered dose
  never rings again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from protocol import DoseAnswer, DoseOutcome, DoseSlot, Lang, PlanInfo, PlanStatus, answer_key
from protocol.schedule import doses_between, local_day_bounds, zone
from tvbox.outbox import Outbox
from tvbox.reminders.store import ReminderStore
from tvbox.ui.i18n import text
from tvbox.ui.keys import RemoteAction

GRACE = timedelta(hours=2)
SNOOZE = timedelta(minutes=10)
REPEAT = timedelta(minutes=5)
CATCH_UP = timedelta(hours=24)
SETTLE = timedelta(seconds=3)
SHOWING = "showing"
SNOOZED = DoseOutcome.SNOOZED.value
SETTLED = {DoseOutcome.TAKEN.value, DoseOutcome.SKIPPED.value, DoseOutcome.MISSED.value}


class Choice(Enum):
    """The answers on the reminder screen, in order."""

    TAKEN = "taken"
    SNOOZE = "snooze"
    SKIP = "skip"


_OUTCOME = {
    Choice.TAKEN: DoseOutcome.TAKEN,
    Choice.SNOOZE: DoseOutcome.SNOOZED,
    Choice.SKIP: DoseOutcome.SKIPPED,
}


@dataclass(frozen=True)
class DueDose:
    """A dose on the reminder screen and its plan."""

    slot: DoseSlot
    plan: PlanInfo


@dataclass(frozen=True)
class MedicineLine:
    """One medicine on the reminder screen."""

    medicine: str
    colour: str
    detail: str


@dataclass(frozen=True)
class ReminderView:
    """Everything the reminder screen shows, already translated."""

    title: str
    lines: tuple[MedicineLine, ...]
    choices: tuple[tuple[str, bool], ...]
    hint: str


@dataclass(frozen=True)
class TodayRow:
    """One dose of today on the Medicines screen."""

    time: str
    medicine: str
    colour: str
    state: str
    label: str


class ReminderViewModel:
    """Plans, the dose log and the reminder being shown."""

    def __init__(
        self,
        store: ReminderStore,
        outbox: Outbox,
        *,
        grace: timedelta = GRACE,
        on_outbox_added: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.outbox = outbox
        self.grace = grace
        self.on_outbox_added = on_outbox_added
        self.timezone = "Asia/Shanghai"
        self.plans: dict[int, PlanInfo] = {p.id: p for p in store.plans()}
        self.showing: list[DueDose] = []
        self.joined: dict[str, datetime] = {}  # dose key -> when it came onto the reminder
        self.focus = 0
        self.last_spoken: datetime | None = None

    # -- plans -----------------------------------------------------------

    def set_plans(self, plans: list[PlanInfo], now: datetime) -> None:
        """Adopt the server's plan list (stored for offline use).

        A plan the server no longer sends (ended, replaced by another) is kept as ended while
        the dose log holds answers about it from the last day, so today's list still names
        the medicine the elder answered for.
        """
        sent = {p.id for p in plans}
        logged = {e.plan_id for e in self.store.entries_since(now - CATCH_UP).values()}
        kept = [
            p.model_copy(update={"status": PlanStatus.ENDED})
            for i, p in self.plans.items()
            if i not in sent and i in logged
        ]
        merged = [*plans, *kept]
        self.store.replace_plans(merged)
        self.plans = {p.id: p for p in merged}
        self.showing = [d for d in self.showing if d.slot.plan_id in self._active()]
        self._forget_gone()

    def _active(self) -> dict[int, PlanInfo]:
        return {i: p for i, p in self.plans.items() if p.status is PlanStatus.ACTIVE}

    def slots(self, start: datetime, end: datetime) -> list[DoseSlot]:
        """Doses of active plans due in ``[start, end)``."""
        active = self._active()
        plans = [(p.id, p.schedule) for p in active.values()]
        slots = doses_between(plans, self.timezone, start, end)
        return [s for s in slots if s.at >= active[s.plan_id].updated_at - timedelta(seconds=1)]

    def wakeups(self, now: datetime, horizon: timedelta) -> list[datetime]:
        """Instants in ``[now, now + horizon)`` the box must wake at (doses, snooze ends)."""
        times = {s.at for s in self.slots(now, now + horizon)}
        for entry in self.store.entries_since(now - self.grace).values():
            if entry.state == SNOOZED and entry.snooze_until and entry.snooze_until >= now:
                times.add(entry.snooze_until)
        return sorted(times)

    # -- what is due -----------------------------------------------------

    def check(self, now: datetime) -> bool:
        """Settle overdue doses as missed and show newly due ones; True if the reminder grew."""
        log = self.store.entries_since(now - CATCH_UP)
        showing_keys = {d.slot.key for d in self.showing}
        grew = False
        for slot in self.slots(now - CATCH_UP, now + timedelta(microseconds=1)):
            entry = log.get(slot.key)
            state = entry.state if entry else None
            if state in SETTLED:
                continue
            if now - slot.at > self.grace:
                self._settle(slot, DoseOutcome.MISSED, now)
                continue
            if slot.key in showing_keys:
                continue
            if state == SNOOZED and entry and entry.snooze_until and entry.snooze_until > now:
                continue
            self.showing.append(DueDose(slot, self.plans[slot.plan_id]))
            self.joined[slot.key] = now
            self.store.record(slot.key, slot.plan_id, slot.local, slot.at, SHOWING, shown_at=now)
            grew = True
        self.showing = [d for d in self.showing if d.slot.key not in self._settled_keys(now)]
        self._forget_gone()
        if grew:
            self.showing.sort(key=lambda d: (d.slot.at, d.plan.medicine))
            self.focus = 0
            self.last_spoken = now
        return grew

    def _forget_gone(self) -> None:
        keys = {d.slot.key for d in self.showing}
        self.joined = {k: t for k, t in self.joined.items() if k in keys}

    def _settled_keys(self, now: datetime) -> set[str]:
        log = self.store.entries_since(now - CATCH_UP)
        return {k for k, e in log.items() if e.state in SETTLED}

    def repeat_due(self, now: datetime) -> bool:
        """Whether the reminder should be spoken again (every 5 minutes until answered)."""
        if not self.showing or self.last_spoken is None:
            return False
        if now - self.last_spoken >= REPEAT:
            self.last_spoken = now
            return True
        return False

    # -- answers ---------------------------------------------------------

    def move(self, action: RemoteAction) -> bool:
        """Move between Taken / Snooze / Skip with the arrows."""
        step = {
            RemoteAction.LEFT: -1,
            RemoteAction.UP: -1,
            RemoteAction.RIGHT: 1,
            RemoteAction.DOWN: 1,
        }.get(action)
        if step is None:
            return False
        target = self.focus + step
        if not 0 <= target < len(Choice):
            return False
        self.focus = target
        return True

    @property
    def focused(self) -> Choice:
        """The focused answer."""
        return list(Choice)[self.focus]

    def answer(self, choice: Choice, now: datetime) -> list[DueDose]:
        """Answer the doses on the reminder the elder could see; return them (empty if none).

        Doses on the screen from the start are always answered; one that joined less than
        ``SETTLE`` ago stays showing: the key was meant for what was there before.
        """
        first = min((self.joined.get(d.slot.key, now) for d in self.showing), default=now)

        def seen(dose: DueDose) -> bool:
            joined = self.joined.get(dose.slot.key, first)
            return joined <= first or now - joined >= SETTLE

        answered = [d for d in self.showing if seen(d)]
        self.showing = [d for d in self.showing if not seen(d)]
        for dose in answered:
            self._settle(dose.slot, _OUTCOME[choice], now)
            self.joined.pop(dose.slot.key, None)
        self.focus = 0
        if self.showing:
            self.last_spoken = now
        return answered

    def _settle(self, slot: DoseSlot, outcome: DoseOutcome, now: datetime) -> None:
        key = answer_key(slot.plan_id, slot.local, outcome)
        if outcome is DoseOutcome.SNOOZED:
            entry = self.store.entry(slot.key)
            key += f"#{(entry.snoozes if entry else 0) + 1}"
            self.store.record(
                slot.key,
                slot.plan_id,
                slot.local,
                slot.at,
                SNOOZED,
                snooze_until=now + SNOOZE,
                snoozed=True,
            )
        else:
            self.store.record(
                slot.key, slot.plan_id, slot.local, slot.at, outcome.value, answered_at=now
            )
        if self.outbox.get(key) is None:  # a restart mid-answer must not queue it twice
            self.outbox.add(
                DoseAnswer(
                    key=key,
                    plan_id=slot.plan_id,
                    scheduled_local=slot.local,
                    scheduled_at=slot.at,
                    outcome=outcome,
                    occurred_at=now,
                )
            )
            if self.on_outbox_added is not None:
                self.on_outbox_added()

    # -- views -----------------------------------------------------------

    def view(self, lang: Lang) -> ReminderView:
        """The reminder screen."""
        lines = tuple(
            MedicineLine(
                medicine=" ".join(p for p in (d.plan.medicine, d.plan.strength) if p),
                colour=d.plan.colour,
                detail=" · ".join(
                    p for p in (d.plan.dose, d.plan.appearance, d.plan.instructions) if p
                ),
            )
            for d in self.showing
        )
        when = self.showing[0].slot.local.strftime("%H:%M") if self.showing else ""
        choices = tuple(
            (text(lang, f"reminder.choice.{c.value}"), i == self.focus)
            for i, c in enumerate(Choice)
        )
        return ReminderView(
            title=text(lang, "reminder.title", time=when),
            lines=lines,
            choices=choices,
            hint=text(lang, "reminder.hint"),
        )

    def prompt(self, lang: Lang) -> str:
        """What is said when the reminder appears (and every 5 minutes)."""
        parts = [
            text(
                lang,
                "reminder.spoken_item",
                medicine=d.plan.medicine,
                dose=d.plan.dose or "",
                instructions=d.plan.instructions or "",
            )
            for d in self.showing
        ]
        return text(lang, "reminder.spoken", items=" ".join(parts))

    def today(self, lang: Lang, now: datetime) -> list[TodayRow]:
        """Today's doses (local day) and what became of each.

        The doses the current plans call for, and every dose of today already answered, even
        if its plan was paused, given new times or replaced since: an answer is history.
        """
        day = now.astimezone(zone(self.timezone)).date()
        begin, after = local_day_bounds(day, self.timezone)
        log = {k: e for k, e in self.store.entries_since(begin).items() if e.at < after}
        showing = {d.slot.key for d in self.showing}
        doses: dict[str, tuple[datetime, datetime, int]] = {
            s.key: (s.at, s.local, s.plan_id) for s in self.slots(begin, after)
        }
        for key, answered in log.items():
            if answered.state != SHOWING and answered.plan_id in self.plans:
                doses.setdefault(key, (answered.at, answered.local, answered.plan_id))
        rows = []
        for key, (at, local, plan_id) in sorted(
            doses.items(), key=lambda kv: (kv[1][0], self.plans[kv[1][2]].medicine)
        ):
            entry = log.get(key)
            if key in showing:
                state = "due"
            elif entry is not None and entry.state != SHOWING:
                state = entry.state
            else:
                state = "due" if at <= now else "upcoming"
            plan = self.plans[plan_id]
            rows.append(
                TodayRow(
                    local.strftime("%H:%M"),
                    plan.medicine,
                    plan.colour,
                    state,
                    text(lang, f"medicines.state.{state}"),
                )
            )
        return rows

    def next_dose(self, now: datetime) -> DueDose | None:
        """The next dose still to come."""
        slots = self.slots(now + timedelta(microseconds=1), now + timedelta(days=8))
        return None if not slots else DueDose(slots[0], self.plans[slots[0].plan_id])

    def summary(self, lang: Lang, now: datetime) -> str:
        """A spoken summary: today's doses taken so far, and the next dose."""
        rows = self.today(lang, now)
        taken = sum(1 for r in rows if r.state == DoseOutcome.TAKEN.value)
        nxt = self.next_dose(now)
        if nxt is None:
            upcoming = text(lang, "medicines.no_next")
        else:
            local = nxt.slot.local
            today = now.astimezone(zone(self.timezone)).date()
            key = "medicines.next_today" if local.date() == today else "medicines.next_later"
            upcoming = text(
                lang,
                key,
                time=local.strftime("%H:%M"),
                medicine=nxt.plan.medicine,
                date=local.strftime("%m-%d"),
            )
        if not rows:
            return text(lang, "medicines.none_today", next=upcoming)
        return text(lang, "medicines.spoken", taken=taken, total=len(rows), next=upcoming)
