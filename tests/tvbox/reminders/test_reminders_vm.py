"""The box's reminders as the elder meets them, driven by a test clock (no Kivy, real SQLite)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from protocol import (
    DoseAnswer,
    ElderInfo,
    Lang,
    MedPlans,
    PlanInfo,
    PlanStatus,
    Schedule,
)
from tests.support.viewmodels import RecordingSpeaker
from tvbox.box import AppViewModel, Screen
from tvbox.context import Clock as BoxClock
from tvbox.events import ServerMessage, Welcomed
from tvbox.outbox import Outbox
from tvbox.speech import Priority
from tvbox.store import BoxStore
from tvbox.ui.keys import RemoteAction

SHANGHAI = ElderInfo(id=1, name="王秀英", lang=Lang.EN, timezone="Asia/Shanghai")
CREATED = datetime(2026, 11, 21, 23, 0, tzinfo=UTC)  # 07:00 on 22 Nov in Shanghai


class Clock:
    """A settable clock."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def at_local(self, tz: str, *args: int) -> None:
        from zoneinfo import ZoneInfo

        self.now = datetime(*args, tzinfo=ZoneInfo(tz)).astimezone(UTC)  # type: ignore[misc]


def plan(
    pid: int,
    medicine: str,
    *times: time,
    status: PlanStatus = PlanStatus.ACTIVE,
    updated_at: datetime = CREATED,
) -> PlanInfo:
    return PlanInfo(
        id=pid,
        medicine=medicine,
        strength="5 mg",
        dose="1 tablet",
        instructions="after meals",
        appearance="white round",
        colour="#ffffff",
        schedule=Schedule(times=times, start_date=date(2026, 1, 1)),
        status=status,
        updated_at=updated_at,
    )


def make_vm(
    store: BoxStore, clock: Clock, speaker: RecordingSpeaker, elder: ElderInfo = SHANGHAI
) -> AppViewModel:
    store.save_pairing(7, "token-7", elder)
    vm = AppViewModel(store, Outbox(store), speaker, Lang.EN, clock=BoxClock(now=clock))
    return vm


def push(vm: AppViewModel, *plans: PlanInfo) -> None:
    vm.handle_link_event(ServerMessage(MedPlans(elder_id=1, plans=list(plans))))


def answers(store: BoxStore) -> list[tuple[str, str]]:
    out = []
    for item in Outbox(store).pending():
        assert isinstance(item.message, DoseAnswer)
        out.append((item.message.outcome.value, item.message.scheduled_local.strftime("%H:%M")))
    return out


@pytest.fixture
def clock() -> Clock:
    c = Clock(CREATED)
    c.at_local("Asia/Shanghai", 2026, 11, 22, 7, 59)
    return c


def test_reminder_covers_the_screen_speaks_and_ok_means_taken(
    store: BoxStore, clock: Clock, speaker: RecordingSpeaker
) -> None:
    vm = make_vm(store, clock, speaker)
    push(vm, plan(1, "Amlodipine", time(8, 0)))
    vm.open_settings()
    assert not vm.check_reminders()
    clock.at_local("Asia/Shanghai", 2026, 11, 22, 8, 0)
    assert vm.check_reminders()
    assert vm.screen is Screen.REMINDER
    assert "Amlodipine" in speaker.last and speaker.said[-1][2] is Priority.URGENT
    view = vm.reminders.view(vm.lang)
    assert view.lines[0].medicine == "Amlodipine 5 mg"
    assert "after meals" in view.lines[0].detail
    vm.handle(RemoteAction.DOWN)  # arrows move; nothing is answered yet
    vm.handle(RemoteAction.UP)
    assert answers(store) == []
    vm.handle(RemoteAction.OK)
    assert answers(store) == [("taken", "08:00")]
    assert vm.screen is Screen.SETTINGS, "the reminder gives the screen back"
    assert not vm.check_reminders(), "an answered dose never comes back"
    assert vm.snapshot()["medicines"] == [
        {"time": "08:00", "medicine": "Amlodipine", "state": "taken"}
    ]


def test_medicines_due_together_are_one_reminder(
    store: BoxStore, clock: Clock, speaker: RecordingSpeaker
) -> None:
    vm = make_vm(store, clock, speaker)
    push(vm, plan(1, "Amlodipine", time(8, 0)), plan(2, "Metformin", time(8, 0)))
    clock.at_local("Asia/Shanghai", 2026, 11, 22, 8, 0, 1)
    assert vm.check_reminders()
    said = speaker.last
    assert "Amlodipine" in said and "Metformin" in said
    vm.handle(RemoteAction.OK)
    assert sorted(answers(store)) == [("taken", "08:00"), ("taken", "08:00")]


def test_snooze_comes_back_in_ten_minutes_and_repeats_every_five(
    store: BoxStore, clock: Clock, speaker: RecordingSpeaker
) -> None:
    vm = make_vm(store, clock, speaker)
    push(vm, plan(1, "Amlodipine", time(8, 0)))
    clock.at_local("Asia/Shanghai", 2026, 11, 22, 8, 0)
    vm.check_reminders()
    spoken = len(speaker.said)
    clock.now += timedelta(minutes=4)
    vm.repeat_reminder_if_due()
    assert len(speaker.said) == spoken
    clock.now += timedelta(minutes=1)
    vm.repeat_reminder_if_due()
    assert len(speaker.said) == spoken + 1 and "Amlodipine" in speaker.last
    vm.handle(RemoteAction.RIGHT)
    vm.handle(RemoteAction.OK)  # "In 10 minutes"
    assert vm.screen is Screen.HOME
    clock.now += timedelta(minutes=9)
    assert not vm.check_reminders()
    clock.now += timedelta(minutes=1)
    assert vm.check_reminders()
    vm.handle(RemoteAction.BACK)  # Back is safe: another snooze, not a lost dose
    clock.now += timedelta(minutes=10)
    assert vm.check_reminders()
    vm.handle(RemoteAction.DIGIT_3)  # skip
    assert [k for k, _ in answers(store)] == ["snoozed", "snoozed", "skipped"]
    assert len({item.key for item in Outbox(store).pending()}) == 3


def test_box_off_during_a_dose_shows_it_within_grace_and_records_missed_after(
    store: BoxStore, clock: Clock, speaker: RecordingSpeaker, tmp_path: object
) -> None:
    vm = make_vm(store, clock, speaker)
    push(vm, plan(1, "Amlodipine", time(8, 0), time(9, 0)))
    # The box is off from 07:59 to 10:30: 08:00 is 2 h 30 ago (missed), 09:00 still shown.
    clock.at_local("Asia/Shanghai", 2026, 11, 22, 10, 30)
    again = AppViewModel(store, Outbox(store), speaker, Lang.EN, clock=BoxClock(now=clock))
    again.start()
    assert again.screen is Screen.REMINDER
    assert [d.slot.local.hour for d in again.reminders.showing] == [9]
    assert answers(store) == [("missed", "08:00")]
    # Restart while the 09:00 reminder is up: it is shown again, not lost, not doubled.
    third = AppViewModel(store, Outbox(store), speaker, Lang.EN, clock=BoxClock(now=clock))
    third.start()
    assert [d.slot.local.hour for d in third.reminders.showing] == [9]
    third.handle(RemoteAction.OK)
    fourth = AppViewModel(store, Outbox(store), speaker, Lang.EN, clock=BoxClock(now=clock))
    fourth.start()
    assert fourth.screen is Screen.HOME
    assert answers(store) == [("missed", "08:00"), ("taken", "09:00")]


def test_no_answer_for_two_hours_is_recorded_as_missed(
    store: BoxStore, clock: Clock, speaker: RecordingSpeaker
) -> None:
    vm = make_vm(store, clock, speaker)
    push(vm, plan(1, "Amlodipine", time(8, 0)))
    clock.at_local("Asia/Shanghai", 2026, 11, 22, 8, 0)
    vm.check_reminders()
    clock.now += timedelta(hours=2, seconds=1)
    vm.check_reminders()
    assert vm.screen is Screen.HOME
    assert answers(store) == [("missed", "08:00")]


def test_paused_plans_stay_quiet_and_new_plans_arrive_by_push(
    store: BoxStore, clock: Clock, speaker: RecordingSpeaker
) -> None:
    vm = make_vm(store, clock, speaker)
    push(vm, plan(1, "Amlodipine", time(8, 0), status=PlanStatus.PAUSED))
    clock.at_local("Asia/Shanghai", 2026, 11, 22, 8, 0)
    assert not vm.check_reminders()
    push(vm, plan(1, "Amlodipine", time(8, 0)))  # resumed: due now, shown at once
    assert vm.screen is Screen.REMINDER
    push(vm)  # ended on the server: the reminder goes away
    assert vm.screen is Screen.HOME


def _local(hour: int, minute: int = 0) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(2026, 11, 22, hour, minute, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC)


# Each change happens at 10:00 local, after the 08:00 dose was taken; what the server sends.
PLAN_CHANGES = {
    "paused then resumed": [
        [
            plan(
                1,
                "Amlodipine",
                time(8, 0),
                time(20, 0),
                status=PlanStatus.PAUSED,
                updated_at=_local(10),
            )
        ],
        [plan(1, "Amlodipine", time(8, 0), time(20, 0), updated_at=_local(11))],
    ],
    "times and dose edited": [
        [plan(1, "Amlodipine", time(8, 30), time(20, 0), updated_at=_local(10))],
    ],
    "replaced by a new plan": [
        [plan(2, "Amlodipine", time(8, 0), time(20, 0), updated_at=_local(10))],
    ],
}


@pytest.mark.parametrize("change", list(PLAN_CHANGES))
def test_a_plan_change_keeps_todays_answered_dose(
    store: BoxStore, clock: Clock, speaker: RecordingSpeaker, change: str
) -> None:
    vm = make_vm(store, clock, speaker)
    push(vm, plan(1, "Amlodipine", time(8, 0), time(20, 0)))
    clock.at_local("Asia/Shanghai", 2026, 11, 22, 8, 0)
    assert vm.check_reminders()
    vm.handle(RemoteAction.OK)
    for hour, plans in enumerate(PLAN_CHANGES[change], start=10):
        clock.at_local("Asia/Shanghai", 2026, 11, 22, hour, 0)
        push(vm, *plans)
        assert vm.screen is Screen.HOME, "an answered dose never rings again"
        assert vm.snapshot()["medicines"][0] == (
            {"time": "08:00", "medicine": "Amlodipine", "state": "taken"}
        )
    assert vm.snapshot()["medicines"] == [
        {"time": "08:00", "medicine": "Amlodipine", "state": "taken"},
        {"time": "20:00", "medicine": "Amlodipine", "state": "upcoming"},
    ]
    assert vm.next_medicine_summary() == (
        "Medicines today: 1 of 2 taken. Next: Amlodipine at 20:00."
    )
    # A box restart reads the same from its store.
    again = AppViewModel(store, Outbox(store), speaker, Lang.EN, clock=BoxClock(now=clock))
    assert again.snapshot()["medicines"] == vm.snapshot()["medicines"]
    clock.at_local("Asia/Shanghai", 2026, 11, 22, 20, 0)
    assert vm.check_reminders(), "the later dose still rings"
    assert answers(store) == [("taken", "08:00")]


def test_a_paused_plan_does_not_ring_but_lists_what_was_answered(
    store: BoxStore, clock: Clock, speaker: RecordingSpeaker
) -> None:
    vm = make_vm(store, clock, speaker)
    push(vm, plan(1, "Amlodipine", time(8, 0), time(20, 0)))
    clock.at_local("Asia/Shanghai", 2026, 11, 22, 8, 0)
    vm.check_reminders()
    vm.handle(RemoteAction.OK)
    push(
        vm,
        plan(
            1,
            "Amlodipine",
            time(8, 0),
            time(20, 0),
            status=PlanStatus.PAUSED,
            updated_at=_local(10),
        ),
    )
    clock.at_local("Asia/Shanghai", 2026, 11, 22, 20, 0)
    assert not vm.check_reminders()
    assert vm.reminders.wakeups(clock.now, timedelta(hours=36)) == []
    assert vm.snapshot()["medicines"] == [
        {"time": "08:00", "medicine": "Amlodipine", "state": "taken"}
    ]


def test_london_elder_gets_eight_oclock_local_across_the_dst_change(
    store: BoxStore, speaker: RecordingSpeaker
) -> None:
    london = SHANGHAI.model_copy(update={"timezone": "Europe/London"})
    clock = Clock(datetime(2026, 3, 28, 7, 59, tzinfo=UTC))
    vm = make_vm(store, clock, speaker, london)
    push(vm, plan(1, "Amlodipine", time(8, 0), updated_at=datetime(2026, 3, 28, tzinfo=UTC)))
    fired = []
    for minute in range(0, 2 * 24 * 60, 1):
        clock.now = datetime(2026, 3, 28, 7, 0, tzinfo=UTC) + timedelta(minutes=minute)
        if vm.check_reminders():
            fired.append(clock.now)
            vm.handle(RemoteAction.OK)
    # 08:00 GMT on Saturday, then 08:00 BST = 07:00 UTC on Sunday.
    assert fired == [
        datetime(2026, 3, 28, 8, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 7, 0, tzinfo=UTC),
    ]


def test_medicines_tile_and_voice_hooks(
    store: BoxStore, clock: Clock, speaker: RecordingSpeaker
) -> None:
    vm = make_vm(store, clock, speaker)
    push(vm, plan(1, "Amlodipine", time(8, 0), time(20, 0)))
    vm.handle(RemoteAction.DIGIT_2)  # the Medicines tile
    assert vm.screen is Screen.MEDICINES
    assert speaker.last == "Medicines today: 0 of 2 taken. Next: Amlodipine at 08:00."
    assert not vm.answer_current_reminder(True), "nothing to answer"
    clock.at_local("Asia/Shanghai", 2026, 11, 22, 8, 0)
    vm.check_reminders()
    assert vm.answer_current_reminder(True)
    assert vm.screen is Screen.MEDICINES
    assert vm.next_medicine_summary() == (
        "Medicines today: 1 of 2 taken. Next: Amlodipine at 20:00."
    )
    vm.handle(RemoteAction.BACK)
    assert vm.screen is Screen.HOME


def test_welcome_asks_nothing_and_plans_sent_after_it_are_applied(
    store: BoxStore, clock: Clock, speaker: RecordingSpeaker
) -> None:
    # The server sends the elder's plans right after its welcome, unasked: the box no
    # longer requests them, and takes them whenever they come.
    import asyncio

    vm = make_vm(store, clock, speaker)
    sent: list[object] = []

    async def send_live(message: object) -> bool:
        sent.append(message)
        return True

    async def scenario() -> None:
        vm.send_live = send_live  # type: ignore[assignment]
        vm.handle_link_event(Welcomed(7, SHANGHAI))
        await asyncio.wait_for(asyncio.sleep(0), 1)
        await asyncio.wait_for(asyncio.sleep(0), 1)
        push(vm, plan(1, "Amlodipine", time(8, 0)))

    asyncio.run(scenario())
    assert sent == [], "nothing is requested after the welcome"
    assert vm.snapshot()["plans"] == [1]
    clock.at_local("Asia/Shanghai", 2026, 11, 22, 8, 0)
    assert vm.check_reminders()
    assert vm.screen is Screen.REMINDER and "Amlodipine" in speaker.last


def test_a_dose_due_during_a_video_call_waits_until_the_call_ends(
    store: BoxStore, clock: Clock, speaker: RecordingSpeaker
) -> None:
    from protocol import CallEnded, CallEndReason, CallKind, CallRinging

    vm = make_vm(store, clock, speaker)
    push(vm, plan(1, "Amlodipine", time(8, 0)))
    vm.handle_link_event(
        ServerMessage(CallRinging(call_id=4, kind=CallKind.FAMILY, caller_name="Li Na"))
    )
    assert vm.screen is Screen.CALL
    clock.at_local("Asia/Shanghai", 2026, 11, 22, 8, 0)
    vm.check_reminders()
    assert vm.screen is Screen.CALL, "a reminder never covers the call"
    assert "Amlodipine" not in speaker.last
    vm.handle_link_event(ServerMessage(CallEnded(call_id=4, reason=CallEndReason.HUNG_UP)))
    assert vm.screen is Screen.REMINDER and "Amlodipine" in speaker.last
    vm.handle(RemoteAction.OK)
    assert answers(store) == [("taken", "08:00")] and vm.screen is Screen.HOME


def test_a_key_pressed_as_the_next_medicine_comes_due_answers_only_what_was_seen(
    store: BoxStore, clock: Clock, speaker: RecordingSpeaker
) -> None:
    # Aspirin is on the screen; Metformin comes due 20 s later, and the elder's "snooze" for
    # Aspirin is handled a moment after (a busy box): Metformin must not be snoozed unseen.
    vm = make_vm(store, clock, speaker)
    push(vm, plan(1, "Aspirin", time(8, 0)), plan(2, "Metformin", time(8, 0, 20)))
    clock.at_local("Asia/Shanghai", 2026, 11, 22, 8, 0, 0)
    assert vm.check_reminders()
    clock.at_local("Asia/Shanghai", 2026, 11, 22, 8, 0, 20)
    assert vm.check_reminders()
    clock.now += timedelta(milliseconds=300)
    vm.handle(RemoteAction.DIGIT_2)
    assert answers(store) == [("snoozed", "08:00")]
    assert vm.screen is Screen.REMINDER, "Metformin stays on the screen"
    assert [r["medicine"] for r in vm.snapshot()["reminder"]] == ["Metformin"]
    assert "Metformin" in speaker.last and "Aspirin" not in speaker.last
    clock.now += timedelta(seconds=1)
    vm.handle(RemoteAction.OK)
    assert answers(store) == [("snoozed", "08:00"), ("taken", "08:00")]
    assert vm.screen is Screen.HOME


def test_a_medicine_on_the_screen_for_a_few_seconds_is_answered_with_the_rest(
    store: BoxStore, clock: Clock, speaker: RecordingSpeaker
) -> None:
    vm = make_vm(store, clock, speaker)
    push(vm, plan(1, "Aspirin", time(8, 0)), plan(2, "Metformin", time(8, 0, 20)))
    clock.at_local("Asia/Shanghai", 2026, 11, 22, 8, 0, 0)
    vm.check_reminders()
    clock.at_local("Asia/Shanghai", 2026, 11, 22, 8, 0, 20)
    vm.check_reminders()
    clock.now += timedelta(seconds=3)
    vm.handle(RemoteAction.OK)
    assert sorted(answers(store)) == [("taken", "08:00"), ("taken", "08:00")]
    assert vm.screen is Screen.HOME
