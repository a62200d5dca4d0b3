"""Medication reminders on the TV: the full-screen reminder over whatever was showing,
its keys and answers, and the list of today's doses (the Medicines tile).

`ReminderController` owns the reminder and medicines screens. Plans arrive as `MedPlans`
(the server sends them on connect and on every change; accepted at any time) and are kept
in the box's store, so reminders fire with the network down. Whoever must wake the box
for the next dose (`ReminderClock`) watches the plans through `watch_plans`. No Kivy.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from protocol import ElderInfo, MedPlans
from tvbox.context import BoxContext, FeatureHost
from tvbox.reminders.store import ReminderStore
from tvbox.reminders.view import Choice, ReminderViewModel
from tvbox.router import ARROWS, Controller, Screen
from tvbox.speech import Priority
from tvbox.ui.i18n import text
from tvbox.ui.keys import RemoteAction


class ReminderController(Controller):
    """Due doses on screen, what the keys answer, and who to tell when plans change."""

    screens = (Screen.REMINDER, Screen.MEDICINES)

    def __init__(self, ctx: BoxContext, reminders: ReminderViewModel) -> None:
        self.ctx = ctx
        self.reminders = reminders
        self._under: Screen | None = None  # the screen the reminder covers
        self._plan_watchers: list[Callable[[], None]] = []

    def now(self) -> datetime:
        """The box's clock (the reminder clock plans its wake-ups by it)."""
        return self.ctx.clock.now()

    def watch_plans(self, callback: Callable[[], None]) -> None:
        """Call `callback` whenever the wake-ups may have changed (plans, time zone, snooze)."""
        self._plan_watchers.append(callback)

    def _plans_changed(self) -> None:
        for callback in list(self._plan_watchers):
            callback()

    # -- the router's hooks ------------------------------------------------

    def prompt(self, screen: Screen) -> str:
        if screen is Screen.MEDICINES:
            return self.next_medicine_summary()
        return self.reminders.prompt(self.ctx.lang)

    def focus_name(self, screen: Screen) -> str | None:
        return self.reminders.focused.value if screen is Screen.REMINDER else None

    def handle_key(self, screen: Screen, action: RemoteAction) -> bool:
        """Every key but red on the reminder (Back is safe: a snooze); OK/Back on the list."""
        if screen is Screen.MEDICINES:
            if action in (RemoteAction.OK, RemoteAction.BACK):
                self.ctx.go_home()
                return True
            return False
        if action is RemoteAction.RED:
            return False
        if action in ARROWS:
            if self.reminders.move(action):
                label = text(self.ctx.lang, f"reminder.choice.{self.reminders.focused.value}")
                self.ctx.say(label, Priority.LOW, cut=True)
        elif action is RemoteAction.OK:
            self.answer_reminder(self.reminders.focused)
        elif action in (RemoteAction.BACK, RemoteAction.HOME, RemoteAction.YELLOW):
            self.answer_reminder(Choice.SNOOZE)  # Back is safe: the reminder comes back
        elif action is RemoteAction.GREEN:
            self.ctx.repeat_prompt()
        elif action.digit is not None and 1 <= action.digit <= len(Choice):
            self.answer_reminder(list(Choice)[action.digit - 1])
        return True

    def handlers(self) -> dict[type, Callable[[Any], None]]:
        return {MedPlans: self._on_plans}

    def elder_changed(self, elder: ElderInfo) -> None:
        """Doses are due in the elder's time zone."""
        if elder.timezone != self.reminders.timezone:
            self.reminders.timezone = elder.timezone
            self._plans_changed()

    # -- reminders -----------------------------------------------------------

    def _on_plans(self, message: MedPlans) -> None:
        self.reminders.set_plans(message.plans, self.now())
        if self.ctx.screen is Screen.REMINDER and not self.reminders.showing:
            self.leave()
        self._plans_changed()
        self.check_reminders()

    def check_reminders(self) -> bool:
        """Show doses that are due now (the reminder clock calls this); True if one appeared."""
        grew = self.reminders.check(self.now())
        if grew and self.ctx.in_call:
            # Never cover a video call: the reminder shows once the call is over.
            self.ctx.changed()
            return grew
        if grew:
            if self.ctx.screen is not Screen.REMINDER:
                self._under = self.ctx.screen
            self.ctx.show(Screen.REMINDER, Priority.URGENT)
            self.ctx.changed()
        elif self.ctx.screen is Screen.REMINDER and not self.reminders.showing:
            self.leave()
            self.ctx.changed()
        return grew

    def show_after_call(self) -> None:
        """A dose that came due during a call shows once the call has ended."""
        if self.reminders.showing:
            self._under = self.ctx.screen
            self.ctx.show(Screen.REMINDER, None)
            self.ctx.say(self.reminders.prompt(self.ctx.lang), Priority.URGENT)

    def repeat_reminder_if_due(self) -> None:
        """Say the reminder again if it has waited 5 minutes unanswered."""
        if self.ctx.screen is Screen.REMINDER and self.reminders.repeat_due(self.now()):
            self.ctx.say(self.reminders.prompt(self.ctx.lang), Priority.URGENT, cut=True)

    def answer_reminder(self, choice: Choice) -> None:
        """Answer the reminder on screen for every medicine on it."""
        if not self.reminders.answer(choice, self.now()):
            return
        self.ctx.say(text(self.ctx.lang, f"reminder.said.{choice.value}"), cut=True)
        if choice is Choice.SNOOZE:
            self._plans_changed()  # the clock must wake at the snooze's end
        if self.reminders.showing:
            # A medicine came due just before the key: it was not answered, so it stays.
            self.ctx.say(self.reminders.prompt(self.ctx.lang), Priority.URGENT)
        else:
            self.leave()
        self.ctx.changed()

    def answer_current_reminder(self, taken: bool) -> bool:
        """Voice hook: "I took it" (True) or "not now" (False, a snooze); False if none shown."""
        if self.ctx.screen is not Screen.REMINDER or not self.reminders.showing:
            return False
        self.answer_reminder(Choice.TAKEN if taken else Choice.SNOOZE)
        return True

    def next_medicine_summary(self) -> str:
        """Voice hook: today's doses taken so far and the next dose, as one sentence."""
        return self.reminders.summary(self.ctx.lang, self.now())

    def leave(self) -> None:
        """Back to the screen the reminder covered (silently)."""
        back = self._under or self.ctx.base_screen
        self._under = None
        self.ctx.show(back if back is not Screen.REMINDER else self.ctx.base_screen, None)


def build(host: FeatureHost) -> tuple[Controller, ...]:
    """The reminders feature's controller over the box's store (see `tvbox.features`)."""
    reminders = ReminderViewModel(
        ReminderStore(host.store), host.outbox, on_outbox_added=host.wake_outbox
    )
    if host.elder is not None:
        reminders.timezone = host.elder.timezone
    return (ReminderController(host, reminders),)
