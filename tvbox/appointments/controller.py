"""Clinic appointments on the TV: the elder's visits, "Book a visit" step by step, cancelling,
and visit reminders. No Kivy.

- The Appointments tile opens the list of upcoming visits (stored on the box, so it shows
  offline too), each read aloud; OK on a visit asks whether to cancel it; the last choice
  is "Book a visit".
- Booking asks, one screen at a time and at most six choices each: what for (department),
  which clinic (nearest first), which day, morning or afternoon, what time; then a confirm
  screen said in full while the server holds the slot (3 minutes; an expired hold is said
  and the times are asked again); OK books. Booking needs the connection, and says so.
- A cancellation goes through the outbox: made offline, it is applied once the link returns.
- The server pushes the visit list at once on any change, whoever made it: a new visit or
  a visit cancelled elsewhere is shown and said.
- Visit reminders (`tvbox.appointments.reminders`) are worked out from the stored list and
  woken by the box's clock: they ring offline and after a restart.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from typing import Any

from protocol import (
    MAX_CHOICES,
    Appointments,
    ApptBook,
    ApptBooked,
    ApptCancel,
    ApptHeld,
    ApptHold,
    ApptOption,
    ApptOptions,
    ApptOptionsRequest,
    ApptRefused,
    BookingStep,
    DayPart,
    ErrorCode,
    Message,
    VisitInfo,
    VisitPlace,
)
from tvbox.appointments import reminders as visit_reminders
from tvbox.appointments.reminders import ReminderKind, VisitReminder
from tvbox.appointments.store import VisitStore
from tvbox.appointments.view import STEPS, Step
from tvbox.appointments.words import day_words, row_words, time_words, what_words, when_words, zone
from tvbox.context import BoxContext, FeatureHost
from tvbox.events import LinkState, LinkStateChanged
from tvbox.router import ARROWS, Controller, Screen
from tvbox.speech import Priority
from tvbox.ui.choices import Choice, Focus, PageView, choices
from tvbox.ui.i18n import text
from tvbox.ui.keys import RemoteAction

log = logging.getLogger(__name__)

APPOINTMENTS = Screen.APPOINTMENTS
BOOK = Screen("appt_book")
CONFIRM = Screen("appt_confirm")
CANCEL = Screen("appt_cancel")
VISIT_REMINDER = Screen("visit_reminder")
LIST_VISITS = MAX_CHOICES - 1  # the last choice is "Book a visit"
WAKE_AT_MOST = 900.0  # the reminder clock looks again at least every 15 minutes
# Screens a visit reminder or a new visit never covers (calls are checked on their own).
DO_NOT_COVER = frozenset({Screen.SOS, Screen.REMINDER, Screen.CALL, Screen.PAIRING})
SERVER_STEP = {
    Step.DEPARTMENTS: BookingStep.DEPARTMENTS,
    Step.CLINICS: BookingStep.CLINICS,
    Step.DAYS: BookingStep.DAYS,
    Step.TIMES: BookingStep.TIMES,
}


class AppointmentsController(Controller):
    """The visit list, the booking steps, the confirm and cancel screens, visit reminders."""

    screens = (APPOINTMENTS, BOOK, CONFIRM, CANCEL, VISIT_REMINDER)

    def __init__(self, ctx: BoxContext, store: VisitStore) -> None:
        self.ctx = ctx
        self.store = store
        saved = store.visits()
        self.known = saved is not None  # a list was ever received (new visits are then said)
        self.visits: list[VisitInfo] = list(saved.visits) if saved else []
        self.travel_minutes = saved.travel_minutes if saved else None
        self.cancelling = store.cancelling()
        self.focus = Focus()
        self.step = Step.DEPARTMENTS
        self.options: list[ApptOption] | None = None  # None: asked, no answer yet
        self.chosen: dict[Step, ApptOption] = {}
        self.zone_name = ""  # the chosen clinic's zone
        self.message = ""  # said and shown on the current screen (offline, nothing free…)
        self.waiting: str | None = None  # id of the request whose answer is awaited
        self.held: ApptHeld | None = None
        self.book_key: str | None = None
        self.booking = False
        self.cancel_target: VisitInfo | None = None
        self.reminder: VisitReminder | None = None
        self._under: Screen | None = None
        self._hold_timer: Callable[[], None] | None = None
        self._wake: Callable[[], None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._seq = 0

    # -- the router's hooks --------------------------------------------------------

    def prompt(self, screen: Screen) -> str:
        lang = self.ctx.lang
        if screen is APPOINTMENTS:
            return self._list_prompt()
        if screen is BOOK:
            page = self.page(BOOK)
            if self.options is None or self.message:
                return f"{page.title} {page.body}"
            items = " ".join(
                text(lang, "appt.spoken_option", n=c.number, label=c.label) for c in page.choices
            )
            return text(lang, "appt.spoken_step", title=page.title, items=items)
        if screen is CONFIRM:
            if self.held is None:
                return text(lang, "appt.booking")
            when, what = self._held_words()
            return text(lang, "appt.confirm_spoken", when=when, what=what)
        if screen is CANCEL and self.cancel_target is not None:
            visit = self.cancel_target
            return text(
                lang,
                "appt.cancel_spoken",
                when=self._when(visit),
                what=what_words(lang, visit, visit.place),
            )
        if screen is VISIT_REMINDER and self.reminder is not None:
            return text(lang, "appt.reminder_spoken", body=self._reminder_body(self.reminder))
        return ""

    def focus_name(self, screen: Screen) -> str | None:
        page = self.page(screen)
        focused = [c.label for c in page.choices if c.focused]
        return focused[0] if focused else None

    def reset(self, screen: Screen) -> None:
        self.focus = Focus()
        self.message = ""

    def handlers(self) -> dict[type, Callable[[Any], None]]:
        return {
            Appointments: self._on_visits,
            ApptOptions: self._on_options,
            ApptHeld: self._on_held,
            ApptBooked: self._on_booked,
            ApptRefused: self._on_refused,
            LinkStateChanged: self._on_link,
        }

    def handle_key(self, screen: Screen, action: RemoteAction) -> bool:
        """Arrows move, OK or a digit chooses, Back goes one step back (never loses a visit)."""
        if screen is VISIT_REMINDER:
            if action is RemoteAction.RED:
                return False
            if action in (RemoteAction.OK, RemoteAction.BACK, RemoteAction.HOME):
                self._leave_reminder()
            elif action is RemoteAction.GREEN:
                self.ctx.repeat_prompt()
            return True
        if action is RemoteAction.BACK:
            self.back(screen)
            return True
        page = self.page(screen)
        if action in ARROWS and page.choices:
            if self.focus.move(action, len(page.choices)):
                label = page.choices[self.focus.index].label
                self.ctx.say(label, Priority.LOW, cut=True)
            return True
        if action is RemoteAction.OK:
            self.choose(screen, self.focus.index)
            return True
        if action.digit is not None and 1 <= action.digit <= len(page.choices):
            self.focus.index = action.digit - 1
            self.choose(screen, action.digit - 1)
            return True
        return False

    # -- what each screen shows ------------------------------------------------------

    def listed(self) -> list[VisitInfo]:
        """The visits on the list screen (the first five)."""
        return self.visits[:LIST_VISITS]

    def page(self, screen: Screen) -> PageView:
        """The words of one of this feature's screens."""
        lang = self.ctx.lang
        if screen is APPOINTMENTS:
            labels = [row_words(lang, v, v.id in self.cancelling) for v in self.listed()]
            labels.append(text(lang, "appt.book"))
            body = self.message
            if not body and not self.visits:
                body = text(lang, "appt.none")
            if not body and self.ctx.link_state is not LinkState.ONLINE:
                body = text(lang, "appt.offline_note")
            return PageView(
                text(lang, "appt.title"),
                body,
                choices(labels, self.focus.index),
                text(lang, "appt.hint_list"),
            )
        if screen is BOOK:
            title = text(lang, f"appt.step.{self.step.value}")
            if self.options is None:
                return PageView(title, text(lang, "appt.looking"), (), text(lang, "appt.hint_step"))
            labels = [self._option_label(o) for o in self.options]
            body = self.message or ("" if labels else text(lang, "appt.none_free"))
            return PageView(
                title, body, choices(labels, self.focus.index), text(lang, "appt.hint_step")
            )
        if screen is CONFIRM:
            if self.held is None:
                body = self.message or text(lang, "appt.booking")
                return PageView(text(lang, "appt.confirm_title"), body, (), "")
            when, what = self._held_words()
            body = self.message or text(lang, "appt.confirm_body", when=_capital(when), what=what)
            return PageView(
                text(lang, "appt.confirm_title"), body, (), text(lang, "appt.confirm_hint")
            )
        if screen is CANCEL:
            visit = self.cancel_target
            body = (
                ""
                if visit is None
                else f"{_capital(self._when(visit))}\n{what_words(lang, visit, visit.place)}"
            )
            labels = [text(lang, "appt.cancel_keep"), text(lang, "appt.cancel_yes")]
            return PageView(
                text(lang, "appt.cancel_title"),
                body,
                choices(labels, self.focus.index),
                text(lang, "appt.cancel_hint"),
            )
        body = "" if self.reminder is None else self._reminder_body(self.reminder)
        return PageView(
            text(lang, "appt.reminder_title"), body, (), text(lang, "appt.reminder_hint"), True
        )

    def _option_label(self, option: ApptOption) -> str:
        lang = self.ctx.lang
        if self.step is Step.CLINICS and option.distance_km is not None:
            return text(lang, "appt.km", label=option.label, km=f"{option.distance_km:g}")
        if self.step is Step.DAYS and option.day is not None:
            return day_words(lang, option.day)
        if self.step is Step.TIMES and option.starts_at is not None:
            at = option.starts_at.astimezone(zone(self.zone_name or "Asia/Shanghai"))
            return text(
                lang,
                "appt.time_with",
                time=time_words(lang, at, short=True),
                doctor=option.doctor_name,
            )
        return option.label

    def _when(self, visit: VisitInfo) -> str:
        return when_words(self.ctx.lang, visit.starts_at, visit.timezone, self.ctx.clock.now())

    def _held_words(self) -> tuple[str, str]:
        assert self.held is not None
        slot = self.held.slot
        lang = self.ctx.lang
        when = when_words(lang, slot.starts_at, slot.timezone, self.ctx.clock.now())
        return when, what_words(lang, slot, self._place(slot.places))

    @staticmethod
    def _place(places: list[VisitPlace]) -> VisitPlace:
        return VisitPlace.CLINIC if VisitPlace.CLINIC in places or not places else places[0]

    def _list_prompt(self) -> str:
        lang = self.ctx.lang
        if self.message:
            return self.message
        if not self.visits:
            return text(lang, "appt.spoken_none")
        items = " ".join(
            text(
                lang,
                "appt.spoken_item",
                n=i + 1,
                when=self._when(v),
                what=what_words(lang, v, v.place),
            )
            for i, v in enumerate(self.listed())
        )
        spoken = text(lang, "appt.spoken_list", items=items)
        if self.ctx.link_state is not LinkState.ONLINE:
            spoken = f"{text(lang, 'appt.offline_note')} {spoken}"
        return spoken

    def snapshot(self) -> dict[str, Any]:
        """The visits and the screen's words, for `/state` (tests and the local API)."""
        page = self.page(self.ctx.screen) if self.ctx.screen in self.screens else None
        return {
            "visits": [v.id for v in self.visits],
            "cancelling": sorted(self.cancelling),
            "travel_minutes": self.travel_minutes,
            "waiting": self.waiting is not None or self.booking,
            "title": page.title if page else None,
            "body": page.body if page else None,
            "choices": [c.label for c in page.choices] if page else [],
        }

    # -- the list and cancelling ----------------------------------------------------

    def open(self) -> None:
        """The Appointments tile: the list of visits, read aloud."""
        self.message = ""
        self.ctx.show(APPOINTMENTS, reset=True)

    def choose(self, screen: Screen, index: int) -> None:
        """The choice ``index`` of ``screen`` was taken."""
        if screen is APPOINTMENTS:
            listed = self.listed()
            if index >= len(listed):
                self.start_booking()
            elif listed[index].id in self.cancelling:
                self.ctx.say(self.page(APPOINTMENTS).choices[index].label, cut=True)
            else:
                self.cancel_target = listed[index]
                self.focus = Focus()
                self.ctx.show(CANCEL)
        elif screen is CANCEL:
            if index == 1:
                self.cancel_visit()
            else:
                self.back(CANCEL)
        elif screen is BOOK and self.options:
            if index < len(self.options):
                self._chosen(self.options[index])
        elif screen is CONFIRM:
            self.book()

    def cancel_visit(self) -> None:
        """Cancel the visit asked about: through the outbox, applied when the link allows."""
        visit = self.cancel_target
        if visit is None:
            return
        self.ctx.send_durable(
            ApptCancel(key=f"cancel:{visit.id}:{uuid.uuid4().hex[:12]}", appointment_id=visit.id)
        )
        self.store.add_cancelling(visit.id)
        self.cancelling.add(visit.id)
        online = self.ctx.link_state is LinkState.ONLINE
        words = text(
            self.ctx.lang,
            "appt.cancelled" if online else "appt.cancelled_offline",
            when=self._when(visit),
        )
        self.cancel_target = None
        self.focus = Focus()
        self.message = ""
        self.ctx.show(APPOINTMENTS, None)
        self.ctx.say(words, Priority.HIGH, cut=True)

    def back(self, screen: Screen) -> None:
        """Back: one step back; from the list, home."""
        self.message = ""
        if screen is APPOINTMENTS:
            self.ctx.go_home()
        elif screen is CANCEL:
            self.cancel_target = None
            self.ctx.show(APPOINTMENTS, reset=True)
        elif screen is CONFIRM:
            self._drop_hold()
            self._ask(Step.TIMES)
        elif screen is BOOK:
            position = STEPS.index(self.step)
            if position == 0:
                self.ctx.show(APPOINTMENTS, reset=True)
            else:
                self._ask(STEPS[position - 1])

    # -- booking ------------------------------------------------------------------------

    def start_booking(self) -> None:
        """ "Book a visit": needs the connection, and says so plainly when there is none."""
        if not self._online():
            self._say_offline(APPOINTMENTS, "appt.offline_book")
            return
        self.chosen.clear()
        self._ask(Step.DEPARTMENTS)

    def _online(self) -> bool:
        return self.ctx.send_live is not None and self.ctx.link_state is LinkState.ONLINE

    def _say_offline(self, screen: Screen, key: str) -> None:
        self._drop_hold()
        self.booking = False
        self.waiting = None
        self.message = text(self.ctx.lang, key)
        self.ctx.show(screen, None)
        self.ctx.say(self.message, Priority.HIGH, cut=True)
        self.ctx.changed()

    def _ask(self, step: Step) -> None:
        """Show ``step`` and ask the server for its choices (morning/afternoon: asked here)."""
        self.step = step
        self.focus = Focus()
        self.message = ""
        for later in STEPS[STEPS.index(step) :]:
            self.chosen.pop(later, None)
        if step is Step.PART:
            # Only the halves of the chosen day with a free time (both from an older server).
            day = self.chosen.get(Step.DAYS)
            parts = set(day.parts) if day is not None and day.parts else set(DayPart)
            self.options = [
                ApptOption(key=p.value, label=text(self.ctx.lang, f"appt.part.{p.value}"))
                for p in DayPart
                if p in parts
            ]
            self.waiting = None
            self.ctx.show(BOOK)
            return
        self.options = None
        if not self._online():
            self._say_offline(APPOINTMENTS, "appt.offline_book")
            return
        request = ApptOptionsRequest(
            id=self._next_id(),
            step=SERVER_STEP[step],
            department=self._key(Step.DEPARTMENTS),
            clinic_id=int(self._key(Step.CLINICS) or 0) or None,
            day=self.chosen[Step.DAYS].day if Step.DAYS in self.chosen else None,
            part=DayPart(self.chosen[Step.PART].key) if Step.PART in self.chosen else None,
        )
        self.waiting = request.id
        self.ctx.show(BOOK, None)
        self._send(request)

    def _key(self, step: Step) -> str | None:
        option = self.chosen.get(step)
        return None if option is None else option.key

    def _chosen(self, option: ApptOption) -> None:
        self.chosen[self.step] = option
        if self.step is Step.TIMES:
            self._hold(int(option.key))
            return
        self._ask(STEPS[STEPS.index(self.step) + 1])

    def _hold(self, slot_id: int) -> None:
        if not self._online():
            self._say_offline(APPOINTMENTS, "appt.offline_book")
            return
        self.held = None
        self.message = ""
        request = ApptHold(id=self._next_id(), slot_id=slot_id)
        self.waiting = request.id
        self.ctx.show(CONFIRM, None)
        self._send(request)

    def book(self) -> None:
        """OK on the confirm screen: book the held slot (one key per attempt, so a resend
        after a lost answer finds the first booking)."""
        if self.held is None or self.booking:
            return
        if not self._online():
            self._say_offline(APPOINTMENTS, "appt.no_connection")
            return
        self.booking = True
        if self.book_key is None:
            self.book_key = f"book:{uuid.uuid4().hex[:20]}"
        held = self.held
        request = ApptBook(
            id=self._next_id(),
            key=self.book_key,
            slot_id=held.slot.slot_id,
            hold_id=held.hold_id,
            place=self._place(held.slot.places),
        )
        self.waiting = request.id
        self.message = text(self.ctx.lang, "appt.booking")
        self._cancel_hold_timer()
        self.ctx.changed()
        self._send(request)

    def _drop_hold(self) -> None:
        self._cancel_hold_timer()
        self.held = None
        self.book_key = None

    def _cancel_hold_timer(self) -> None:
        if self._hold_timer is not None:
            self._hold_timer()
            self._hold_timer = None

    def _hold_ran_out(self) -> None:
        self._hold_timer = None
        if self.ctx.screen is CONFIRM and self.held is not None and not self.booking:
            self._retry(Step.TIMES, text(self.ctx.lang, "appt.hold_expired"))

    def _retry(self, step: Step, words: str) -> None:
        """Say why, and ask ``step`` again (its choices afresh)."""
        self._drop_hold()
        self.booking = False
        self._ask(step)
        self.ctx.say(words, Priority.HIGH, cut=True)
        self.ctx.changed()

    # -- what the server says --------------------------------------------------------

    def _on_options(self, message: ApptOptions) -> None:
        if message.ref != self.waiting or self.ctx.screen is not BOOK:
            return
        self.waiting = None
        self.options = list(message.options[:MAX_CHOICES])
        if message.timezone:
            self.zone_name = message.timezone
        self.focus.clamp(len(self.options))
        self.ctx.say(self.prompt(BOOK), Priority.NORMAL, cut=True)
        self.ctx.changed()

    def _on_held(self, message: ApptHeld) -> None:
        if message.ref != self.waiting or self.ctx.screen is not CONFIRM:
            return
        self.waiting = None
        self.held = message
        self.book_key = None
        self.message = ""
        seconds = max((message.expires_at - self.ctx.clock.now()).total_seconds(), 0.0)
        self._cancel_hold_timer()
        self._hold_timer = self.ctx.clock.call_later(seconds, self._hold_ran_out)
        self.ctx.say(self.prompt(CONFIRM), Priority.NORMAL, cut=True)
        self.ctx.changed()

    def _on_booked(self, message: ApptBooked) -> None:
        if message.ref != self.waiting:
            return
        self.waiting = None
        self.booking = False
        self._drop_hold()
        visit = message.visit
        if visit.id not in {v.id for v in self.visits}:
            self.visits = sorted([*self.visits, visit], key=lambda v: (v.starts_at, v.id))
        lang = self.ctx.lang
        words = text(
            lang, "appt.booked", when=self._when(visit), what=what_words(lang, visit, visit.place)
        )
        self.message = ""
        self.focus = Focus()
        self.ctx.show(APPOINTMENTS, None)
        self.ctx.say(words, Priority.HIGH, cut=True)
        self.schedule_reminders()
        self.ctx.changed()

    def _on_refused(self, message: ApptRefused) -> None:
        if message.ref != self.waiting:
            return
        self.waiting = None
        lang = self.ctx.lang
        if message.code in (ErrorCode.SLOT_TAKEN, ErrorCode.HOLD_EXPIRED, ErrorCode.OVERLAP):
            key = {
                ErrorCode.SLOT_TAKEN: "appt.slot_taken",
                ErrorCode.HOLD_EXPIRED: "appt.hold_expired",
            }
            words = text(lang, key[message.code]) if message.code in key else message.message
            self._retry(Step.TIMES, words)
        elif message.code in (ErrorCode.CLINIC_CLOSED, ErrorCode.OUTSIDE_WINDOW):
            self._retry(Step.DAYS, text(lang, "appt.clinic_closed"))
        else:
            self._drop_hold()
            self.booking = False
            self._say_offline(APPOINTMENTS, "appt.no_connection")
            self.message = text(lang, "appt.refused", message=message.message)
            self.ctx.say(self.message, Priority.HIGH, cut=True)

    def _on_link(self, event: LinkStateChanged) -> None:
        if event.state is LinkState.ONLINE or self.waiting is None and not self.booking:
            return
        # The link went while an answer was awaited: nothing more will come of it.
        if self.ctx.screen in (BOOK, CONFIRM):
            self._say_offline(APPOINTMENTS, "appt.no_connection")

    def _on_visits(self, message: Appointments) -> None:
        """The server's list (on connect, and after any change by anyone)."""
        now = self.ctx.clock.now()
        before = {v.id: v for v in self.visits}
        after = {v.id for v in message.visits}
        mine = set(self.cancelling)  # cancelled on this TV: said already
        self.store.save_visits(message)
        self.store.settle_cancelling(after)
        self.cancelling = self.store.cancelling()
        self.visits = list(message.visits)
        self.travel_minutes = message.travel_minutes
        self.focus.clamp(min(len(self.visits), LIST_VISITS) + 1)
        news: list[str] = []
        lang = self.ctx.lang
        if self.known and not self.booking:
            for visit in message.visits:
                if visit.id not in before:
                    news.append(
                        text(
                            lang,
                            "appt.new_visit",
                            when=self._when(visit),
                            what=what_words(lang, visit, visit.place),
                        )
                    )
            for gone in before.values():
                if gone.id not in after and gone.starts_at > now and gone.id not in mine:
                    news.append(text(lang, "appt.visit_cancelled", when=self._when(gone)))
        self.known = True
        self.schedule_reminders()
        if news and not self.ctx.in_call and self.ctx.screen not in DO_NOT_COVER:
            if self.ctx.screen in (Screen.HOME, APPOINTMENTS, Screen.NOTICE):
                self.message = ""
                self.ctx.show(APPOINTMENTS, None)
            self.ctx.say(" ".join(news), Priority.HIGH, cut=True)
        self.ctx.changed()

    # -- visit reminders ----------------------------------------------------------------

    def _reminders(self) -> list[VisitReminder]:
        elder = self.ctx.elder
        elder_zone = elder.timezone if elder is not None else "Asia/Shanghai"
        return visit_reminders.all_reminders(self.visits, elder_zone, self.travel_minutes)

    def schedule_reminders(self) -> None:
        """Wake for the next visit reminder (at once for one due now); no loop: nothing."""
        if self._wake is not None:
            self._wake()
            self._wake = None
        now = self.ctx.clock.now()
        planned = self._reminders()
        given = self.store.reminded()
        if visit_reminders.due(planned, given, now):
            delay = 0.0
        else:
            at = visit_reminders.next_time(planned, given, now)
            if at is None:
                return
            delay = min((at - now).total_seconds(), WAKE_AT_MOST)
        try:
            self._wake = self.ctx.clock.call_later(max(delay, 0.0), self._wake_up)
        except RuntimeError:
            log.debug("no event loop yet: visit reminders wait for the next change")

    def _wake_up(self) -> None:
        self.check_visit_reminders()

    def check_visit_reminders(self) -> bool:
        """Show a visit reminder due now (the clock calls this); True if one appeared."""
        self._wake = None
        now = self.ctx.clock.now()
        given = self.store.reminded()
        found = visit_reminders.due(self._reminders(), given, now)
        shown = False
        busy = (
            self.ctx.in_call or self.ctx.screen in DO_NOT_COVER or self.ctx.screen is VISIT_REMINDER
        )
        if found and not busy:
            reminder = found[0]
            self.store.add_reminded(reminder.key, {str(v.id) for v in self.visits})
            self.reminder = reminder
            if self.ctx.screen is not VISIT_REMINDER:
                self._under = self.ctx.screen
            self.ctx.show(VISIT_REMINDER, Priority.URGENT)
            self.ctx.changed()
            shown = True
        if found and busy:
            # Covering a call, an SOS or a medicine reminder: look again in a minute.
            try:
                self._wake = self.ctx.clock.call_later(60.0, self._wake_up)
            except RuntimeError:
                pass
            return shown
        self.schedule_reminders()
        return shown

    def _reminder_body(self, reminder: VisitReminder) -> str:
        lang = self.ctx.lang
        visit = reminder.visit
        when = self._when(visit)
        what = what_words(lang, visit, visit.place)
        if reminder.kind is ReminderKind.LEAVE:
            leave = time_words(lang, reminder.at.astimezone(zone(visit.timezone)))
            return text(lang, "appt.reminder.leave", leave=leave, when=when, what=what)
        return text(lang, f"appt.reminder.{reminder.kind.value}", when=when, what=what)

    def _leave_reminder(self) -> None:
        back = self._under or self.ctx.base_screen
        self._under = None
        self.reminder = None
        self.ctx.show(back if back is not VISIT_REMINDER else self.ctx.base_screen, None)
        self.check_visit_reminders()

    # -- sending ---------------------------------------------------------------------------

    def _next_id(self) -> str:
        self._seq += 1
        return f"appt-{self._seq}"

    def _send(self, message: Message) -> None:
        sender = self.ctx.send_live
        if sender is None:
            self._say_offline(APPOINTMENTS, "appt.no_connection")
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            log.warning("no event loop; %s not sent", message.type)
            return

        async def deliver() -> bool:
            return await sender(message)

        task = loop.create_task(deliver())
        self._tasks.add(task)
        task.add_done_callback(lambda t: self._sent(t, message))

    def _sent(self, task: asyncio.Task[Any], message: Message) -> None:
        self._tasks.discard(task)
        if task.cancelled() or task.exception() is not None or task.result():
            return
        if message.id == self.waiting:  # the link went before it left
            self._say_offline(APPOINTMENTS, "appt.no_connection")


def _capital(words: str) -> str:
    """A line starting with a capital on screen ("Tomorrow, …"); Chinese is unchanged."""
    return words[:1].upper() + words[1:]


def build(host: FeatureHost) -> tuple[Controller, ...]:
    """The appointments feature's controller over the box's store (see `tvbox.features`)."""
    control = AppointmentsController(host, VisitStore(host.store))
    control.schedule_reminders()
    return (control,)


__all__ = ["APPOINTMENTS", "BOOK", "CANCEL", "CONFIRM", "VISIT_REMINDER", "Choice", "build"]
