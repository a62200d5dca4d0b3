"""The appointments controller with plain pytest: the list read aloud, booking step by step,
refusals and an expired hold said plainly, booking offline refused, cancelling through the
outbox, visits booked elsewhere said at once, and visit reminders at the right local time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from protocol import (
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
    CallKind,
    CallRinging,
    DayPart,
    ElderInfo,
    ErrorCode,
    HeldSlot,
    Lang,
    Message,
    VisitInfo,
    VisitPlace,
)
from tests.support.viewmodels import ELDER, RecordingSpeaker
from tvbox.appointments.controller import (
    APPOINTMENTS,
    BOOK,
    CANCEL,
    CONFIRM,
    VISIT_REMINDER,
    AppointmentsController,
)
from tvbox.appointments.reminders import ReminderKind, reminders_of
from tvbox.box import AppViewModel
from tvbox.context import Clock
from tvbox.events import LinkState, LinkStateChanged, ServerMessage
from tvbox.home.view import Tile
from tvbox.outbox import Outbox
from tvbox.store import BoxStore
from tvbox.ui.keys import RemoteAction

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
EN_ELDER = ELDER.model_copy(update={"lang": Lang.EN})


def visit(
    visit_id: int,
    starts_at: datetime,
    place: VisitPlace = VisitPlace.CLINIC,
    tz: str = "Asia/Shanghai",
) -> VisitInfo:
    return VisitInfo(
        id=visit_id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=15),
        place=place,
        clinic_name="Riverside Clinic",
        doctor_name="Dr. Wang",
        department_name="General practice",
        timezone=tz,
    )


class Timers:
    """The box's clock under the test's hand: a settable now and timers that fire on demand."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.pending: list[tuple[datetime, Callable[[], None]]] = []

    def call_later(self, delay: float, fn: Callable[[], None]) -> Callable[[], None]:
        entry = (self.now + timedelta(seconds=delay), fn)
        self.pending.append(entry)
        return lambda: entry in self.pending and self.pending.remove(entry)  # type: ignore[func-returns-value]

    def advance(self, to: datetime) -> None:
        """Move the time on to ``to``, firing the timers due by then in order."""
        while True:
            due = sorted((e for e in self.pending if e[0] <= to), key=lambda e: e[0])
            if not due:
                break
            at, fn = due[0]
            self.pending.remove(due[0])
            self.now = max(self.now, at)
            fn()
        self.now = to


class Wire:
    """The live link: what the box sent, and whether it is up."""

    def __init__(self) -> None:
        self.sent: list[Message] = []
        self.up = True

    async def send(self, message: Message) -> bool:
        if self.up:
            self.sent.append(message)
        return self.up


@pytest.fixture
def timers() -> Timers:
    return Timers(NOW)


@pytest.fixture
def wire() -> Wire:
    return Wire()


def make_box(
    store: BoxStore,
    speaker: RecordingSpeaker,
    timers: Timers,
    wire: Wire,
    elder: ElderInfo = EN_ELDER,
) -> AppViewModel:
    store.save_pairing(7, "token-7", elder)
    box = AppViewModel(
        store,
        Outbox(store),
        speaker,
        Lang.EN,
        clock=Clock(now=lambda: timers.now, call_later=timers.call_later),
        send_live=wire.send,
    )
    box.handle_link_event(LinkStateChanged(LinkState.ONLINE))
    return box


@pytest.fixture
def box(store: BoxStore, speaker: RecordingSpeaker, timers: Timers, wire: Wire) -> AppViewModel:
    return make_box(store, speaker, timers, wire)


def control(box: AppViewModel) -> AppointmentsController:
    owner = box.router.owner(APPOINTMENTS)
    assert isinstance(owner, AppointmentsController)
    return owner


def push(box: AppViewModel, message: Message) -> None:
    box.handle_link_event(ServerMessage(message))


async def flushed() -> None:
    """Let the live sends scheduled on the loop run."""
    for _ in range(3):
        await asyncio.sleep(0)


def spoken(speaker: RecordingSpeaker) -> str:
    return " | ".join(s[0] for s in speaker.said)


def test_the_tile_opens_the_visits_each_read_aloud(
    box: AppViewModel, speaker: RecordingSpeaker
) -> None:
    push(
        box,
        Appointments(
            elder_id=1,
            visits=[
                visit(4, NOW + timedelta(days=1)),
                visit(5, NOW + timedelta(days=3), VisitPlace.VIDEO),
            ],
        ),
    )
    box.activate(Tile.APPOINTMENTS)
    assert box.screen is APPOINTMENTS
    page = control(box).page(APPOINTMENTS)
    assert [c.label for c in page.choices] == [
        "Tue 8 Dec  10:00 am  ·  Riverside Clinic",
        "Thu 10 Dec  10:00 am  ·  Video visit",
        "Book a visit",
    ]
    said = speaker.last
    assert (
        "1: tomorrow, Tuesday 8 December at 10:00 in the morning, "
        "General practice at Riverside Clinic, with Dr. Wang." in said
    )
    assert "2: Thursday 10 December at 10:00 in the morning, video visit with Dr. Wang" in said
    box.handle(RemoteAction.BACK)
    assert box.screen.value == "home"


def test_the_list_is_kept_on_the_box_and_shown_offline(
    store: BoxStore, speaker: RecordingSpeaker, timers: Timers, wire: Wire
) -> None:
    first = make_box(store, speaker, timers, wire)
    push(first, Appointments(elder_id=1, visits=[visit(4, NOW + timedelta(days=1))]))
    again = AppViewModel(
        store,
        Outbox(store),
        speaker,
        Lang.EN,
        clock=Clock(now=lambda: timers.now, call_later=timers.call_later),
    )
    again.activate(Tile.APPOINTMENTS)
    page = control(again).page(APPOINTMENTS)
    assert page.choices[0].label.startswith("Tue 8 Dec")
    assert page.body == "Not connected: these are the visits the TV last heard of."
    assert speaker.last.startswith("Not connected")
    again.handle(RemoteAction.DOWN)
    again.handle(RemoteAction.OK)  # Book a visit, offline
    assert again.screen is APPOINTMENTS
    assert speaker.last.startswith("Booking a visit needs the connection")
    assert control(again).page(APPOINTMENTS).body.startswith("Booking a visit needs the connection")


async def test_booking_step_by_step_then_ok_books(
    box: AppViewModel, speaker: RecordingSpeaker, wire: Wire
) -> None:
    push(box, Appointments(elder_id=1))
    box.activate(Tile.APPOINTMENTS)
    box.handle(RemoteAction.OK)  # the only choice: Book a visit
    await flushed()
    assert box.screen is BOOK
    asked = wire.sent[-1]
    assert isinstance(asked, ApptOptionsRequest) and asked.step is BookingStep.DEPARTMENTS
    push(
        box,
        ApptOptions(
            ref=asked.id,
            step=BookingStep.DEPARTMENTS,
            options=[
                ApptOption(key="gp", label="General practice"),
                ApptOption(key="eye", label="Eye clinic"),
            ],
        ),
    )
    assert "What is the visit for? 1: General practice. 2: Eye clinic." in speaker.last
    box.handle(RemoteAction.DIGIT_2)
    await flushed()
    asked = wire.sent[-1]
    assert isinstance(asked, ApptOptionsRequest) and asked.department == "eye"
    push(
        box,
        ApptOptions(
            ref=asked.id,
            step=BookingStep.CLINICS,
            options=[ApptOption(key="3", label="Riverside Clinic", distance_km=1.2)],
        ),
    )
    assert control(box).page(BOOK).choices[0].label == "Riverside Clinic  (1.2 km)"
    box.handle(RemoteAction.OK)
    await flushed()
    asked = wire.sent[-1]
    assert isinstance(asked, ApptOptionsRequest) and asked.clinic_id == 3
    push(
        box,
        ApptOptions(
            ref=asked.id,
            step=BookingStep.DAYS,
            timezone="Asia/Shanghai",
            options=[ApptOption(key="2026-12-08", day=date(2026, 12, 8))],
        ),
    )
    assert control(box).page(BOOK).choices[0].label == "Tuesday 8 December"
    box.handle(RemoteAction.OK)
    assert control(box).page(BOOK).title == "Morning or afternoon?"
    box.handle(RemoteAction.DOWN)
    box.handle(RemoteAction.OK)
    await flushed()
    asked = wire.sent[-1]
    assert isinstance(asked, ApptOptionsRequest) and asked.part is not None
    assert asked.part.value == "afternoon" and asked.day == date(2026, 12, 8)
    start = datetime(2026, 12, 8, 6, 30, tzinfo=UTC)
    push(
        box,
        ApptOptions(
            ref=asked.id,
            step=BookingStep.TIMES,
            options=[ApptOption(key="77", starts_at=start, doctor_name="Dr. Wang")],
        ),
    )
    assert control(box).page(BOOK).choices[0].label == "2:30 pm  Dr. Wang"
    box.handle(RemoteAction.OK)
    await flushed()
    hold = wire.sent[-1]
    assert isinstance(hold, ApptHold) and hold.slot_id == 77 and box.screen is CONFIRM
    push(box, held(hold.id, start))
    assert speaker.last == (
        "Please confirm your visit: tomorrow, Tuesday 8 December at 2:30 in the afternoon, "
        "Eye clinic at Riverside Clinic, with Dr. Wang. Press OK to book it, or Back to choose "
        "another time."
    )
    box.handle(RemoteAction.OK)
    await flushed()
    booked = wire.sent[-1]
    assert isinstance(booked, ApptBook) and booked.hold_id == 5 and booked.slot_id == 77
    push(box, ApptBooked(ref=booked.id, key=booked.key, visit=visit(9, start)))
    assert box.screen is APPOINTMENTS
    assert speaker.last.startswith("Booked. Your visit is tomorrow, Tuesday 8 December at 2:30")
    assert control(box).page(APPOINTMENTS).choices[0].label.startswith("Tue 8 Dec  2:30 pm")


def held(ref: str | None, start: datetime, expires_in: float = 180) -> ApptHeld:
    return ApptHeld(
        ref=ref,
        hold_id=5,
        expires_at=NOW + timedelta(seconds=expires_in),
        slot=HeldSlot(
            slot_id=77,
            starts_at=start,
            ends_at=start + timedelta(minutes=15),
            timezone="Asia/Shanghai",
            clinic_name="Riverside Clinic",
            doctor_name="Dr. Wang",
            department_name="Eye clinic",
            places=[VisitPlace.CLINIC],
        ),
    )


async def to_confirm(box: AppViewModel, wire: Wire) -> datetime:
    """Walk to the confirm screen with one choice at each step; the slot's start."""
    start = datetime(2026, 12, 8, 1, 0, tzinfo=UTC)
    push(box, Appointments(elder_id=1))
    control(box).start_booking()
    for step, option in (
        (BookingStep.DEPARTMENTS, ApptOption(key="gp", label="GP")),
        (BookingStep.CLINICS, ApptOption(key="3", label="Riverside")),
        (BookingStep.DAYS, ApptOption(key="d", day=date(2026, 12, 8))),
    ):
        await flushed()
        push(box, ApptOptions(ref=wire.sent[-1].id, step=step, options=[option]))
        box.handle(RemoteAction.OK)
    box.handle(RemoteAction.OK)  # morning
    await flushed()
    push(
        box,
        ApptOptions(
            ref=wire.sent[-1].id,
            step=BookingStep.TIMES,
            options=[ApptOption(key="77", starts_at=start)],
        ),
    )
    box.handle(RemoteAction.OK)
    await flushed()
    push(box, held(wire.sent[-1].id, start))
    assert box.screen is CONFIRM
    return start


async def test_an_expired_hold_is_said_and_the_times_are_asked_again(
    box: AppViewModel, speaker: RecordingSpeaker, wire: Wire, timers: Timers
) -> None:
    await to_confirm(box, wire)
    timers.advance(NOW + timedelta(minutes=3))
    await flushed()
    assert box.screen is BOOK and control(box).step.value == "times"
    assert "kept for you for 3 minutes" in spoken(speaker)
    again = wire.sent[-1]
    assert isinstance(again, ApptOptionsRequest) and again.step is BookingStep.TIMES


@pytest.mark.parametrize(
    ("code", "words", "step"),
    [
        (ErrorCode.SLOT_TAKEN, "just taken by someone else", "times"),
        (ErrorCode.HOLD_EXPIRED, "kept for you for 3 minutes", "times"),
        (ErrorCode.CLINIC_CLOSED, "the clinic is closed then", "days"),
    ],
)
async def test_a_refused_booking_is_said_plainly(
    box: AppViewModel, speaker: RecordingSpeaker, wire: Wire, code: ErrorCode, words: str, step: str
) -> None:
    await to_confirm(box, wire)
    box.handle(RemoteAction.OK)
    await flushed()
    booking = wire.sent[-1]
    assert isinstance(booking, ApptBook)
    push(box, ApptRefused(ref=booking.id, code=code, message="x"))
    await flushed()
    assert words in spoken(speaker)
    assert box.screen is BOOK and control(box).step.value == step


async def test_back_from_confirm_lets_the_time_go_and_asks_again(
    box: AppViewModel, wire: Wire
) -> None:
    await to_confirm(box, wire)
    box.handle(RemoteAction.BACK)
    await flushed()
    assert box.screen is BOOK and control(box).held is None
    for _ in range(6):
        box.handle(RemoteAction.BACK)
    assert box.screen.value == "home"


async def test_the_link_going_while_booking_is_said(
    box: AppViewModel, speaker: RecordingSpeaker, wire: Wire
) -> None:
    await to_confirm(box, wire)
    wire.up = False
    box.handle(RemoteAction.OK)
    await flushed()
    assert box.screen is APPOINTMENTS
    assert "not connected, so nothing was booked" in speaker.last


def test_cancel_asks_then_goes_through_the_outbox_offline(
    box: AppViewModel, store: BoxStore, speaker: RecordingSpeaker
) -> None:
    push(box, Appointments(elder_id=1, visits=[visit(4, NOW + timedelta(days=2))]))
    box.handle_link_event(LinkStateChanged(LinkState.OFFLINE))
    box.activate(Tile.APPOINTMENTS)
    box.handle(RemoteAction.OK)
    assert box.screen is CANCEL
    assert speaker.last.startswith("Cancel your visit Wednesday 9 December at 10:00 in the morning")
    box.handle(RemoteAction.OK)  # the focus starts on "No, keep it"
    assert box.screen is APPOINTMENTS and not Outbox(store).pending()
    box.handle(RemoteAction.OK)
    box.handle(RemoteAction.DOWN)
    box.handle(RemoteAction.OK)  # "Yes, cancel it"
    pending = Outbox(store).pending()
    assert len(pending) == 1 and isinstance(pending[0].message, ApptCancel)
    assert pending[0].message.appointment_id == 4
    assert "will be cancelled as soon as the TV is connected again" in speaker.last
    assert control(box).page(APPOINTMENTS).choices[0].label.endswith("cancelling")
    # The server's list without the visit settles it, and says nothing more.
    said = len(speaker.said)
    push(box, Appointments(elder_id=1))
    assert control(box).cancelling == set() and len(speaker.said) == said


def test_a_visit_booked_elsewhere_is_shown_and_said_at_once(
    box: AppViewModel, speaker: RecordingSpeaker
) -> None:
    push(box, Appointments(elder_id=1))
    assert box.screen.value == "home"
    push(
        box, Appointments(elder_id=1, visits=[visit(4, NOW + timedelta(days=1), VisitPlace.VIDEO)])
    )
    assert box.screen is APPOINTMENTS
    assert speaker.last == (
        "A visit was booked for you: tomorrow, Tuesday 8 December at 10:00 in the morning, "
        "video visit with Dr. Wang, General practice."
    )
    push(box, Appointments(elder_id=1))
    assert (
        speaker.last
        == "Your visit tomorrow, Tuesday 8 December at 10:00 in the morning was cancelled."
    )


def test_reminders_the_evening_before_and_leave_by_the_travel_time(
    box: AppViewModel, speaker: RecordingSpeaker, timers: Timers
) -> None:
    start = datetime(2026, 12, 8, 1, 0, tzinfo=UTC)  # Tuesday 9:00 in Shanghai
    push(box, Appointments(elder_id=1, visits=[visit(4, start)], travel_minutes=40))
    timers.advance(datetime(2026, 12, 7, 10, 59, tzinfo=UTC))
    assert box.screen.value == "home"
    timers.advance(datetime(2026, 12, 7, 11, 0, tzinfo=UTC))  # 19:00 in Shanghai
    assert box.screen is VISIT_REMINDER
    assert speaker.last.startswith(
        "Tomorrow you have a visit: tomorrow, Tuesday 8 December at 9:00"
    )
    box.handle(RemoteAction.OK)
    assert box.screen.value == "home"
    timers.advance(datetime(2026, 12, 8, 0, 19, tzinfo=UTC))
    assert box.screen.value == "home"
    timers.advance(datetime(2026, 12, 8, 0, 20, tzinfo=UTC))  # 8:20, 40 minutes before
    assert box.screen is VISIT_REMINDER
    assert speaker.last.startswith("Time to get ready: leave by 8:20 in the morning")


def test_a_reminder_given_is_not_given_again_after_a_restart(
    store: BoxStore, speaker: RecordingSpeaker, timers: Timers, wire: Wire
) -> None:
    start = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)  # in an hour
    first = make_box(store, speaker, timers, wire)
    push(first, Appointments(elder_id=1, visits=[visit(4, start, VisitPlace.VIDEO)]))
    timers.advance(NOW)
    assert first.screen is VISIT_REMINDER
    assert "Your visit is soon" in speaker.last
    timers.pending.clear()
    again = make_box(store, speaker, timers, wire)
    timers.advance(NOW + timedelta(seconds=1))
    assert again.screen.value == "home"


def test_the_evening_reminder_keeps_its_wall_clock_across_daylight_saving() -> None:
    # New York leaves daylight saving on Sunday 1 November 2026: the evening before a Monday
    # 9:00 visit is 19:00 EST (00:00 UTC), and before a Sunday visit 19:00 EDT (23:00 UTC).
    monday = visit(1, datetime(2026, 11, 2, 14, 0, tzinfo=UTC), tz="America/New_York")
    sunday = visit(2, datetime(2026, 11, 1, 14, 0, tzinfo=UTC), tz="America/New_York")
    evening, before = reminders_of(monday, "America/New_York", None)
    assert evening.at == datetime(2026, 11, 2, 0, 0, tzinfo=UTC)
    assert before.kind is ReminderKind.BEFORE and before.at == datetime(
        2026, 11, 2, 13, 0, tzinfo=UTC
    )
    assert reminders_of(sunday, "America/New_York", None)[0].at == datetime(
        2026, 10, 31, 23, 0, tzinfo=UTC
    )


def test_a_video_visit_rings_as_the_doctor_ready_and_ok_joins(
    box: AppViewModel, speaker: RecordingSpeaker
) -> None:
    push(box, CallRinging(call_id=3, kind=CallKind.CONSULT, caller_name="Dr. Wang", visit_id=4))
    assert box.screen.value == "call"
    assert speaker.last.startswith(
        "Dr. Wang is ready for your video visit Press OK to join. Press Back to decline."
    )


async def test_a_day_with_only_afternoon_times_offers_only_the_afternoon(
    box: AppViewModel, wire: Wire
) -> None:
    push(box, Appointments(elder_id=1))
    control(box).start_booking()
    for step, option in (
        (BookingStep.DEPARTMENTS, ApptOption(key="gp", label="GP")),
        (BookingStep.CLINICS, ApptOption(key="3", label="Riverside")),
        (BookingStep.DAYS, ApptOption(key="d", day=date(2026, 12, 6), parts=[DayPart.AFTERNOON])),
    ):
        await flushed()
        push(box, ApptOptions(ref=wire.sent[-1].id, step=step, options=[option]))
        box.handle(RemoteAction.OK)
    page = control(box).page(BOOK)
    assert page.title == "Morning or afternoon?"
    assert [c.label for c in page.choices] == ["Afternoon"]
    box.handle(RemoteAction.OK)
    await flushed()
    asked = wire.sent[-1]
    assert isinstance(asked, ApptOptionsRequest) and asked.part is DayPart.AFTERNOON
