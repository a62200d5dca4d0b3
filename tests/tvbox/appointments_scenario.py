"""Runs the real Kivy app offscreen through every appointment screen and screenshots each.

Started by `test_appointments_screens.py` in a fresh interpreter (Kivy apps do not restart
cleanly in one process). The server's answers are handed to the box as the link would hand
them; the box's live sends are recorded. Prints one JSON report line.

    python -m tests.tvbox.appointments_scenario DATA_DIR SHOTS_DIR WIDTHxHEIGHT PREFIX LANG
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from protocol import (  # noqa: E402
    Appointments,
    ApptHeld,
    ApptOption,
    ApptOptions,
    BookingStep,
    HeldSlot,
    Lang,
    Message,
    VisitInfo,
    VisitPlace,
)
from tests.tvbox.scenario_main import STEP_TIMEOUT, scenario_main  # sets Kivy up offscreen
from tvbox.appointments.controller import APPOINTMENTS, VISIT_REMINDER  # noqa: E402
from tvbox.appointments.reminders import reminders_of  # noqa: E402
from tvbox.events import LinkState, LinkStateChanged, ServerMessage  # noqa: E402
from tvbox.ui.keys import KEYCODE_FOR, RemoteAction  # noqa: E402

NAMES = {
    Lang.ZH: (
        ["全科", "慢病门诊", "眼科", "口腔科", "中医科", "康复科"],
        ["安心社区卫生服务中心", "东城区第二医院", "和平里中医诊所"],
        "王建国医生",
    ),
    Lang.EN: (
        ["General practice", "Chronic disease", "Eye clinic", "Dental", "TCM", "Rehabilitation"],
        ["Anxin Community Health Centre", "Dongcheng Hospital No. 2", "Hepingli TCM Clinic"],
        "Dr. Wang Jianguo",
    ),
}


def visits(lang: Lang, now: datetime) -> Appointments:
    departments, clinics, doctor = NAMES[lang]
    # The day after tomorrow at 9:00 in Shanghai: no reminder of it is due while the scenario runs
    # (tomorrow's visit would put its evening-before reminder on screen from 19:00 Shanghai time).
    first = (now + timedelta(days=2)).replace(hour=1, minute=0, second=0, microsecond=0)
    return Appointments(
        elder_id=1,
        travel_minutes=40,
        visits=[
            VisitInfo(
                id=10 + i,
                starts_at=first + timedelta(days=3 * i),
                ends_at=first + timedelta(days=3 * i, minutes=15),
                place=place,
                clinic_name=clinics[0],
                doctor_name=doctor,
                department_name=departments[i],
                timezone="Asia/Shanghai",
            )
            for i, place in enumerate((VisitPlace.CLINIC, VisitPlace.VIDEO, VisitPlace.HOME))
        ],
    )


async def scenario(app: Any, shots: Path, prefix: str, lang: Lang, report: dict[str, Any]) -> None:
    """Walk every appointment screen; record checks and screenshots into ``report``."""
    from kivy.clock import Clock
    from kivy.core.window import Window

    vm = app.vm
    sent: list[Message] = []

    async def send_live(message: Message) -> bool:
        sent.append(message)
        return True

    vm.send_live = send_live
    vm.handle_link_event(LinkStateChanged(LinkState.ONLINE))
    departments, clinics, doctor = NAMES[lang]
    now = datetime.now(UTC)

    async def frames(count: int = 3) -> None:
        for _ in range(count):
            done = asyncio.get_running_loop().create_future()
            Clock.schedule_once(lambda _dt, f=done: f.done() or f.set_result(None), 0)
            await asyncio.wait_for(done, STEP_TIMEOUT)

    def check(name: str, ok: bool, detail: Any = None) -> None:
        report["checks"].append({"name": name, "ok": bool(ok), "detail": detail})

    async def press(action: RemoteAction) -> None:
        Window.dispatch("on_key_down", KEYCODE_FOR[action], 0, None, [])
        await frames()

    def answer(message: Message) -> None:
        vm.handle_link_event(ServerMessage(message))

    async def shot(name: str, screen: str) -> None:
        await frames()
        check(f"{name} on screen", app.manager.current == screen, app.manager.current)
        path = shots / f"tvbox-{prefix}{name}-{lang.value}.png"
        report["screenshots"].append(await asyncio.wait_for(app.screenshot(str(path)), 30))

    answer(visits(lang, now))
    await press(RemoteAction.DIGIT_3)
    await shot("appointments-list", "appointments")
    for _ in range(3):
        await press(RemoteAction.DOWN)
    await press(RemoteAction.OK)
    await shot("appointments-looking", "appt_book")
    options = [ApptOption(key=f"d{i}", label=name) for i, name in enumerate(departments)]
    answer(ApptOptions(ref=sent[-1].id, step=BookingStep.DEPARTMENTS, options=options))
    await shot("appointments-departments", "appt_book")
    await press(RemoteAction.OK)
    options = [
        ApptOption(key=str(i + 1), label=name, distance_km=round(0.8 + 1.7 * i, 1))
        for i, name in enumerate(clinics)
    ]
    answer(ApptOptions(ref=sent[-1].id, step=BookingStep.CLINICS, options=options))
    await shot("appointments-clinics", "appt_book")
    await press(RemoteAction.OK)
    today = now.date()
    days = [today + timedelta(days=d) for d in (1, 2, 3, 6, 7, 8)]
    options = [ApptOption(key=d.isoformat(), day=d) for d in days]
    answer(
        ApptOptions(
            ref=sent[-1].id, step=BookingStep.DAYS, options=options, timezone="Asia/Shanghai"
        )
    )
    await shot("appointments-days", "appt_book")
    await press(RemoteAction.OK)
    await shot("appointments-part", "appt_book")
    await press(RemoteAction.OK)
    day: date = days[0]
    base = datetime(day.year, day.month, day.day, 0, 30, tzinfo=UTC)  # 8:30 in Shanghai
    options = [
        ApptOption(key=str(100 + i), starts_at=base + timedelta(minutes=15 * i), doctor_name=doctor)
        for i in range(6)
    ]
    answer(ApptOptions(ref=sent[-1].id, step=BookingStep.TIMES, options=options))
    await shot("appointments-times", "appt_book")
    await press(RemoteAction.DOWN)
    await press(RemoteAction.OK)
    start = base + timedelta(minutes=15)
    held = ApptHeld(
        ref=sent[-1].id,
        hold_id=1,
        expires_at=datetime.now(UTC) + timedelta(minutes=3),
        slot=HeldSlot(
            slot_id=101,
            starts_at=start,
            ends_at=start + timedelta(minutes=15),
            timezone="Asia/Shanghai",
            clinic_name=clinics[0],
            doctor_name=doctor,
            department_name=departments[0],
            places=[VisitPlace.CLINIC],
        ),
    )
    answer(held)
    await shot("appointments-confirm", "appt_confirm")
    for _ in range(7):
        await press(RemoteAction.BACK)
    check("Back leads home", app.manager.current == "home", app.manager.current)
    await press(RemoteAction.DIGIT_3)
    await press(RemoteAction.OK)
    await shot("appointments-cancel", "appt_cancel")
    await press(RemoteAction.BACK)
    await press(RemoteAction.BACK)
    control = vm.router.owner(APPOINTMENTS)
    first = visits(lang, now).visits[0]
    control.reminder = reminders_of(first, "Asia/Shanghai", 40)[1]
    vm.show(VISIT_REMINDER)
    vm.changed()
    await shot("appointments-reminder", "visit_reminder")
    await press(RemoteAction.OK)
    vm.handle_link_event(LinkStateChanged(LinkState.OFFLINE))
    await press(RemoteAction.DIGIT_3)
    await press(RemoteAction.DOWN)
    await press(RemoteAction.DOWN)
    await press(RemoteAction.DOWN)
    await press(RemoteAction.OK)
    await shot("appointments-offline", "appointments")


if __name__ == "__main__":
    asyncio.run(scenario_main(scenario))
