"""The daily check-in on the box: when it is due, whether the elder was active, and asking.

If the elder has not used the remote or spoken by the time the family set (in the elder's
timezone), the TV asks "Are you all right?" on the SOS screen; any key or "yes" answers,
and no answer within `ANSWER_SECONDS` raises an SOS. No Kivy.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from protocol import CheckInRuleSet, SosSource
from tvbox.context import BoxContext, FeatureHost
from tvbox.router import Controller, Screen
from tvbox.sos.controller import SosController
from tvbox.sos.view import SosPhase, SosViewModel
from tvbox.speech import Priority
from tvbox.store import BoxStore
from tvbox.ui.i18n import text
from tvbox.ui.keys import RemoteAction

ANSWER_SECONDS = 300.0
CHECK_IN_KEY = "check_in_time"  # in the box store: the rule's local time, "HH:MM"


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def next_due(now: datetime, time_local: str, timezone: str) -> datetime:
    """The next moment (UTC, after ``now``) the clock reads ``time_local`` in ``timezone``."""
    zone = _zone(timezone)
    hour, minute = (int(part) for part in time_local.split(":"))
    local_now = now.astimezone(zone)
    due = datetime.combine(local_now.date(), time(hour, minute), tzinfo=zone)
    if due <= local_now:
        due = datetime.combine(local_now.date() + timedelta(days=1), time(hour, minute), zone)
    return due.astimezone(UTC)


def active_today(last_activity: datetime | None, now: datetime, timezone: str) -> bool:
    """Whether the elder used the remote or spoke since local midnight."""
    if last_activity is None:
        return False
    zone = _zone(timezone)
    midnight = datetime.combine(now.astimezone(zone).date(), time(0, 0), tzinfo=zone)
    return last_activity >= midnight


class CheckInController(Controller):
    """The daily check-in: its rule from the server, its timer, and its answer."""

    def __init__(
        self,
        ctx: BoxContext,
        sos: SosViewModel,
        alarm: SosController,
        store: BoxStore,
        *,
        answer_seconds: float = ANSWER_SECONDS,
    ) -> None:
        self.ctx = ctx
        self.sos = sos
        self.alarm = alarm  # asks on the SOS screen, with its timer; sends the SOS
        self.store = store
        self.answer_seconds = answer_seconds
        self.last_activity: datetime | None = None
        self._due_timer: Callable[[], None] | None = None

    def intercept(self, screen: Screen, action: RemoteAction) -> bool:
        """Every key counts as activity; any key but red answers "Are you all right?"."""
        self.note_activity()
        if self.sos.phase is SosPhase.CHECK_IN and action is not RemoteAction.RED:
            self.answer_check_in()
            return True
        return False

    def handlers(self) -> dict[type, Callable[[Any], None]]:
        return {CheckInRuleSet: self._check_in_rule}

    def note_activity(self) -> None:
        """The elder used the remote or spoke (the voice feature calls this too)."""
        self.last_activity = self.ctx.clock.now()

    def answer_check_in(self) -> bool:
        """The elder answered "Are you all right?" (any key, or "yes" by voice)."""
        if self.sos.phase is not SosPhase.CHECK_IN:
            return False
        self.alarm.stop_timer()
        self.sos.reset()
        self.ctx.show(self.ctx.base_screen, None)
        self.ctx.say(text(self.ctx.lang, "help.check_in_thanks"), cut=True)
        self.ctx.changed()
        return True

    def _check_in_rule(self, message: CheckInRuleSet) -> None:
        if message.time_local is None:
            self.store.delete(CHECK_IN_KEY)
        else:
            self.store.put(CHECK_IN_KEY, message.time_local)
        self.schedule_check_in()

    def _timezone(self) -> str:
        elder = self.ctx.elder
        return elder.timezone if elder else "UTC"

    def schedule_check_in(self) -> None:
        """Set the timer of the next check-in (none without a rule or while unpaired)."""
        if self._due_timer is not None:
            self._due_timer()
            self._due_timer = None
        time_local = self.store.get(CHECK_IN_KEY)
        if time_local is None or not self.ctx.paired:
            return
        now = self.ctx.clock.now()
        delay = (next_due(now, time_local, self._timezone()) - now).total_seconds()
        self._due_timer = self.ctx.clock.call_later(max(0.0, delay), self._check_in_due)

    def _check_in_due(self) -> None:
        self._due_timer = None
        now = self.ctx.clock.now()
        if not active_today(self.last_activity, now, self._timezone()) and (
            self.sos.phase is SosPhase.IDLE or self.sos.phase is SosPhase.ACKNOWLEDGED
        ):
            self.sos.ask_check_in()
            self.ctx.show(Screen.SOS, Priority.URGENT)
            self.alarm.start_timer(self.answer_seconds, self._check_in_missed)
        self.schedule_check_in()  # tomorrow's
        self.ctx.changed()

    def _check_in_missed(self) -> None:
        self.alarm.timer_fired()
        if self.sos.phase is SosPhase.CHECK_IN:
            self.alarm.send(SosSource.CHECK_IN, "no answer to the daily check-in")


def build(host: FeatureHost) -> tuple[Controller, ...]:
    """The SOS feature's controllers: the daily check-in (first: any key answers it) and the
    SOS itself, sharing the SOS screen (see `tvbox.features`)."""
    sos = SosViewModel(host.sos_cancel_seconds)
    alarm = SosController(host, sos, ask_seconds=host.sos_ask_seconds)
    check_in = CheckInController(
        host, sos, alarm, host.store, answer_seconds=host.check_in_answer_seconds
    )
    return (check_in, alarm)
