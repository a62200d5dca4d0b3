"""Appointments on the box socket: the visit list pushed on connect and on every change
(whoever made it), the booking steps' choices, hold and book with the box's key, cancel
through the outbox exactly once, bad messages refused with the socket kept open, and the
family's travel-time setting."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from starlette.testclient import WebSocketTestSession

from protocol import (
    Ack,
    Appointments,
    ApptBook,
    ApptBooked,
    ApptCancel,
    ApptHeld,
    ApptHold,
    ApptOptions,
    ApptOptionsRequest,
    ApptRefused,
    BookingStep,
    CallDecline,
    CallKind,
    CallRinging,
    ClientKind,
    DayPart,
    Error,
    ErrorCode,
    Heartbeat,
    Hello,
    MedPlans,
    Welcome,
)
from server.models import Appointment, AuditEntry, Elder, Slot
from server.runtime import Runtime
from tests.server.test_appointments_api import ROLES, Timetable, book, slots, table
from tests.server.test_box_socket import pair_box, recv, send
from tests.support.waiting import wait_until
from tests.support.world import PASSWORD, World

__all__ = ["table"]  # the fixture, shared with the API tests


def connect(ws: WebSocketTestSession, token: str) -> list[Any]:
    """Say hello as the box; the welcome and the state sent on connect (up to the heartbeat)."""
    send(ws, Hello(client=ClientKind.BOX, device_token=token))
    assert isinstance(recv(ws), Welcome)
    send(ws, Heartbeat(id="sync"))
    state = []
    while True:
        message = recv(ws)
        if isinstance(message, Heartbeat):
            return state
        state.append(message)


def next_of(ws: WebSocketTestSession, kind: type) -> Any:
    """The next message of ``kind`` (plans and other pushes in between are skipped)."""
    for _ in range(10):
        message = recv(ws)
        if isinstance(message, kind):
            return message
        assert not isinstance(message, Error), message
    raise AssertionError(f"no {kind.__name__}")


def test_the_box_books_step_by_step_and_every_change_reaches_it(
    client: TestClient, rt: Runtime, world: World, table: Timetable
) -> None:
    token, device_id = pair_box(client, world)
    with client.websocket_connect("/ws/box") as ws:
        state = connect(ws, token)
        assert not [m for m in state if isinstance(m, Appointments)]  # never booked: nothing
        # A visit booked by the family reaches the box at once.
        first_slot = slots(client, table.who("family_a"), department="gp")[0]
        assert (
            book(client, table.who("family_a"), first_slot["id"], world.elder_a.id).status_code
            == 201
        )
        pushed = next_of(ws, Appointments)
        assert [v.starts_at.isoformat() for v in pushed.visits] == [
            first_slot["starts_at"].replace("Z", "+00:00")
        ]
        assert pushed.visits[0].clinic_name == world.clinic_a.name
        assert pushed.visits[0].department_name == "全科"  # the elder reads Chinese
        # The choices, step by step.
        send(ws, ApptOptionsRequest(id="d", step=BookingStep.DEPARTMENTS))
        departments = next_of(ws, ApptOptions)
        assert departments.ref == "d" and [o.key for o in departments.options][:1] == ["gp"]
        send(ws, ApptOptionsRequest(id="c", step=BookingStep.CLINICS, department="gp"))
        clinics = next_of(ws, ApptOptions)
        assert [o.key for o in clinics.options] == [str(world.clinic_a.id)]
        send(
            ws,
            ApptOptionsRequest(
                id="y", step=BookingStep.DAYS, department="gp", clinic_id=world.clinic_a.id
            ),
        )
        days = next_of(ws, ApptOptions)
        assert 1 <= len(days.options) <= 6 and days.timezone == "Asia/Shanghai"
        day = days.options[-1].day
        # Each day says which halves have a free time: the TV offers only those.
        assert all(o.parts for o in days.options) and DayPart.MORNING in days.options[-1].parts
        send(
            ws,
            ApptOptionsRequest(
                id="t",
                step=BookingStep.TIMES,
                department="gp",
                clinic_id=world.clinic_a.id,
                day=day,
                part=DayPart.MORNING,
            ),
        )
        times = next_of(ws, ApptOptions)
        assert times.options and all(o.starts_at is not None for o in times.options)
        slot_id = int(times.options[0].key)
        send(ws, ApptHold(id="h", slot_id=slot_id))
        held = next_of(ws, ApptHeld)
        assert held.ref == "h" and held.slot.slot_id == slot_id
        assert held.slot.department_name == "全科"
        key = f"book:{uuid.uuid4().hex[:16]}"
        send(ws, ApptBook(id="b", key=key, slot_id=slot_id, hold_id=held.hold_id))
        answers = [recv(ws), recv(ws)]
        booked = next(m for m in answers if isinstance(m, ApptBooked))
        listed = next(m for m in answers if isinstance(m, Appointments))
        assert booked.created and booked.ref == "b"
        assert booked.visit.id in [v.id for v in listed.visits]
        # The same key again (the answer was lost) is the same visit, not a second one.
        send(ws, ApptBook(id="b2", key=key, slot_id=slot_id))
        again = next_of(ws, ApptBooked)
        assert again.visit.id == booked.visit.id and not again.created
        # The clinic's day list shows what the TV booked.
        day_list = client.get(
            "/api/appointments",
            params={"clinic_id": world.clinic_a.id},
            headers=table.who("clinic_staff_a"),
        ).json()
        mine = [v for v in day_list if v["id"] == booked.visit.id]
        assert mine and mine[0]["booked_by"] == "elder_box"
        # Cancelled from the outbox: applied once, the resend changes nothing.
        cancel = ApptCancel(key="cancel:abc12345", appointment_id=booked.visit.id)
        send(ws, cancel)
        replies = [recv(ws), recv(ws)]
        ack = next(m for m in replies if isinstance(m, Ack))
        assert not ack.duplicate
        assert booked.visit.id not in [
            v.id for m in replies if isinstance(m, Appointments) for v in m.visits
        ]
        send(ws, cancel)
        assert next_of(ws, Ack).duplicate
    with rt.db.session() as db:
        slot = db.get(Slot, slot_id)
        assert slot is not None and slot.booked == 0
        actions = db.scalars(
            select(AuditEntry.action).where(AuditEntry.actor_device_id == device_id)
        ).all()
        assert actions.count("appointment.cancelled") == 1
        assert actions.count("appointment.booked") == 1
    # A new connection gets the list at once (the elder has been booked for).
    with client.websocket_connect("/ws/box") as ws:
        state = connect(ws, token)
        listed = [m for m in state if isinstance(m, Appointments)]
        assert len(listed) == 1 and [v.starts_at for v in listed[0].visits] == [
            pushed.visits[0].starts_at
        ]


def test_a_taken_slot_and_an_expired_hold_are_refused_in_words(
    client: TestClient, rt: Runtime, world: World, table: Timetable
) -> None:
    token, _ = pair_box(client, world)
    slot = slots(client, table.who("family_b"), department="gp")[0]
    assert book(client, table.who("family_b"), slot["id"], world.elder_b.id).status_code == 201
    with client.websocket_connect("/ws/box") as ws:
        connect(ws, token)
        send(ws, ApptHold(id="h", slot_id=slot["id"]))
        refused = next_of(ws, ApptRefused)
        assert refused.ref == "h" and refused.code is ErrorCode.SLOT_TAKEN and refused.message
        other = slots(client, table.who("family_a"), department="gp")[0]
        send(ws, ApptBook(id="b", key="book:12345678", slot_id=other["id"], hold_id=999999))
        refused = next_of(ws, ApptRefused)
        assert refused.code is ErrorCode.HOLD_EXPIRED
        send(ws, ApptHold(id="x", slot_id=999999))
        assert next_of(ws, ApptRefused).code is ErrorCode.NOT_FOUND
        # Someone else's visit cannot be cancelled from this box: acked, nothing changed.
        with rt.db.session() as db:
            theirs = db.scalar(
                select(Appointment.id).where(Appointment.elder_id == world.elder_b.id)
            )
        send(ws, ApptCancel(key="cancel:other123", appointment_id=theirs))
        assert next_of(ws, Ack).duplicate
    with rt.db.session() as db:
        visit = db.get(Appointment, theirs)
        assert visit is not None and visit.status.value == "booked"


@pytest.mark.parametrize(
    "frame",
    [
        '{"type": "appt_options_request", "step": "all", "id": "x1"}',
        '{"type": "appt_options_request", "step": "days", "department": "1; drop"}',
        '{"type": "appt_book", "key": "k", "slot_id": 1}',
        '{"type": "appt_hold", "slot_id": -1}',
        '{"type": "appt_cancel", "key": "cancel:12345678", "appointment_id": 99999999999999999}',
        '{"type": "appointments", "elder_id": 1}',
    ],
)
def test_bad_appointment_messages_get_an_error_and_the_socket_stays_open(
    client: TestClient, world: World, frame: str
) -> None:
    token, _ = pair_box(client, world)
    with client.websocket_connect("/ws/box") as ws:
        connect(ws, token)
        ws.send_text(frame)
        err = recv(ws)
        assert isinstance(err, Error) and err.message
        send(ws, ApptOptionsRequest(id="ok", step=BookingStep.DEPARTMENTS))
        assert isinstance(next_of(ws, ApptOptions), ApptOptions), "the same socket still works"


TRAVEL = {
    "family_a": 200,
    "family_b": 404,
    "doctor_a": 403,
    "doctor_b": 404,
    "operator_a": 200,
    "operator_b": 404,
    "admin": 403,
    "clinic_staff_a": 404,
}


@pytest.mark.parametrize("role", ROLES)
def test_who_may_set_the_travel_time(
    client: TestClient, world: World, table: Timetable, role: str
) -> None:
    resp = client.patch(
        f"/api/elders/{world.elder_a.id}/visit-travel",
        json={"minutes": 35},
        headers=table.who(role),
    )
    assert resp.status_code == TRAVEL[role], resp.text
    if resp.status_code == 200:
        assert resp.json() == {"elder_id": world.elder_a.id, "minutes": 35}


def test_the_travel_time_reaches_the_box_and_bad_values_are_refused(
    client: TestClient, rt: Runtime, world: World, table: Timetable
) -> None:
    token, _ = pair_box(client, world)
    family = table.who("family_a")
    path = f"/api/elders/{world.elder_a.id}/visit-travel"
    for body in (
        {"minutes": -1},
        {"minutes": 241},
        {"minutes": "soon"},
        {},
        {"minutes": 5, "x": 1},
    ):
        resp = client.patch(path, json=body, headers=family)
        assert resp.status_code == 422 and resp.json()["code"], (body, resp.text)
    assert (
        client.patch(
            "/api/elders/999999/visit-travel", json={"minutes": 5}, headers=family
        ).status_code
        == 404
    )
    with client.websocket_connect("/ws/box") as ws:
        connect(ws, token)
        assert client.patch(path, json={"minutes": 50}, headers=family).status_code == 200
        assert next_of(ws, Appointments).travel_minutes == 50
        assert client.patch(path, json={"minutes": None}, headers=family).status_code == 200
        assert next_of(ws, Appointments).travel_minutes is None
    with rt.db.session() as db:
        elder = db.get(Elder, world.elder_a.id)
        assert elder is not None and elder.visit_travel_minutes is None


def test_plans_are_still_the_first_state_of_an_elder_never_booked(
    client: TestClient, world: World
) -> None:
    token, _ = pair_box(client, world)
    with client.websocket_connect("/ws/box") as ws:
        state = connect(ws, token)
    assert isinstance(state[0], MedPlans)


VIDEO_CALL = {
    "family_a": 403,
    "family_b": 404,
    "doctor_a": 201,
    "doctor_b": 404,
    "operator_a": 403,
    "operator_b": 404,
    "admin": 403,
    "clinic_staff_a": 403,
}


def video_visit(client: TestClient, world: World, table: Timetable, kind: str = "video") -> int:
    slot = slots(client, table.who("family_a"), department="gp", kind=kind)[0]
    resp = book(client, table.who("family_a"), slot["id"], world.elder_a.id, kind=kind)
    assert resp.status_code == 201, resp.text
    return int(resp.json()["id"])


def test_the_doctor_rings_the_tv_for_a_video_visit_and_sees_if_it_is_answered(
    client: TestClient, world: World, table: Timetable
) -> None:
    token, _ = pair_box(client, world)
    visit_id = video_visit(client, world, table)
    doctor = table.who("doctor_a")
    path = f"/api/appointments/{visit_id}/video-call"
    # The TV is off: the doctor is told so, nothing rings.
    off = client.post(path, headers=doctor)
    assert off.status_code == 409 and "not connected" in off.json()["detail"]
    with client.websocket_connect("/ws/box") as ws:
        connect(ws, token)
        resp = client.post(path, headers=doctor)
        assert resp.status_code == 201, resp.text
        call_id = resp.json()["call_id"]
        ringing = next_of(ws, CallRinging)
        assert ringing.call_id == call_id and ringing.visit_id == visit_id
        assert ringing.kind is CallKind.CONSULT and ringing.caller_name == world.doctor_a.name
        seen = client.get(f"/api/calls/{call_id}", headers=doctor).json()
        assert seen["status"] == "ringing"
        assert client.post(path, headers=doctor).status_code == 409  # already ringing
        # The elder does not answer (declines): the doctor sees it, and may ring again.
        send(ws, CallDecline(call_id=call_id))
        ended = wait_until(
            lambda: (
                (c := client.get(f"/api/calls/{call_id}", headers=doctor).json())["status"]
                == "ended"
                and c
            ),
            10,
            "the call ended",
        )
        assert ended["end_reason"] == "declined"
        again = client.post(path, headers=doctor)
        assert again.status_code == 201 and again.json()["call_id"] != call_id
        assert next_of(ws, CallRinging).visit_id == visit_id


@pytest.mark.parametrize("role", ROLES)
def test_who_may_start_a_video_visit(
    client: TestClient, world: World, table: Timetable, role: str
) -> None:
    token, _ = pair_box(client, world)
    visit_id = video_visit(client, world, table)
    with client.websocket_connect("/ws/box") as ws:
        connect(ws, token)
        resp = client.post(f"/api/appointments/{visit_id}/video-call", headers=table.who(role))
        assert resp.status_code == VIDEO_CALL[role], resp.text


def test_only_a_booked_video_visit_rings(
    client: TestClient, world: World, table: Timetable
) -> None:
    doctor = table.who("doctor_a")
    at_clinic = video_visit(client, world, table, kind="clinic")
    resp = client.post(f"/api/appointments/{at_clinic}/video-call", headers=doctor)
    assert resp.status_code == 409 and resp.json()["detail"]
    video = video_visit(client, world, table)
    cancel = client.post(f"/api/appointments/{video}/cancel", headers=table.who("family_a"))
    assert cancel.status_code == 200
    resp = client.post(f"/api/appointments/{video}/video-call", headers=doctor)
    assert resp.status_code == 409 and resp.json()["code"]
    assert client.post("/api/appointments/999999/video-call", headers=doctor).status_code == 404
    assert client.post("/api/appointments/0/video-call", headers=doctor).status_code == 422


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert found, "not logged in"
    return found[1]


def test_the_family_sets_the_travel_time_on_the_family_page(
    client: TestClient, rt: Runtime, world: World
) -> None:
    token, _ = pair_box(client, world)
    elder_id = world.elder_a.id
    resp = client.post("/login", data={"email": world.family_a.email, "password": PASSWORD})
    assert resp.status_code in (200, 303)
    home = client.get("/family?lang=en", headers={"accept": "text/html"}).text
    assert f'id="travel-{elder_id}"' in home
    assert "How many minutes does" in home
    form = {"csrf": _csrf(home), "elder_id": str(elder_id)}
    # Wrong values: the family page again, the error beside the field, what was typed kept.
    for typed in ("soon", "-5", "241", "1e3"):
        bad = client.post(
            "/family/visit-travel?lang=en", data={**form, "minutes": typed}, follow_redirects=False
        )
        assert bad.status_code == 422, typed
        assert f'id="travel-error-{elder_id}"' in bad.text and "0 to 240" in bad.text
        assert f'value="{typed}"' in bad.text and 'aria-invalid="true"' in bad.text
        assert 'id="panel-appointments" open' in bad.text
    zh = client.post(
        "/family/visit-travel?lang=zh", data={**form, "minutes": "很久"}, follow_redirects=False
    )
    assert zh.status_code == 422 and "请填 0 到 240 之间的整数分钟" in zh.text
    forged = client.post("/family/visit-travel", data={"elder_id": str(elder_id), "minutes": "20"})
    assert forged.status_code == 403  # no CSRF token: another site's form
    # Another family's elder: refused, nothing changed.
    other = client.post(
        "/family/visit-travel",
        data={**form, "elder_id": str(world.elder_b.id), "minutes": "20"},
        follow_redirects=False,
    )
    assert other.status_code == 404
    with client.websocket_connect("/ws/box") as ws:
        connect(ws, token)
        saved = client.post(
            "/family/visit-travel", data={**form, "minutes": " 35 "}, follow_redirects=False
        )
        assert saved.status_code == 303
        assert saved.headers["location"].endswith(f"#appointments-{elder_id}")
        # The TV hears it at once: its "leave by" reminders are 35 minutes before.
        assert next_of(ws, Appointments).travel_minutes == 35
        again = client.get("/family?lang=en", headers={"accept": "text/html"}).text
        assert re.search(rf'id="travel-{elder_id}"[^>]*value="35"', again)
        cleared = client.post(
            "/family/visit-travel", data={**form, "minutes": ""}, follow_redirects=False
        )
        assert cleared.status_code == 303
        assert next_of(ws, Appointments).travel_minutes is None
    with rt.db.session() as db:
        elder = db.get(Elder, elder_id)
        assert elder is not None and elder.visit_travel_minutes is None
        assert (
            db.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(
                    AuditEntry.action == "elder.visit_travel_set", AuditEntry.elder_id == elder_id
                )
            )
            == 2
        )
