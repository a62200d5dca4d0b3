"""Appointments over the API: a clinic's timetable, free-slot search, holds, booking, cancelling,
closures that tell families, daylight saving, bad input, and who may call what."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from protocol import Changed, ClientKind, Hello, Lang, Role, Topic, Welcome
from server.app import FEATURES
from server.appointments.schedule import materialise
from server.demo import DEMO_LOGINS, seed_demo
from server.features import demo_seeds
from server.models import (
    Clinic,
    Department,
    Elder,
    OpeningHours,
    OutgoingMessage,
    Slot,
    SlotHold,
    User,
    utcnow,
)
from server.runtime import Runtime
from tests.conftest import bearer
from tests.server.test_box_socket import recv, send
from tests.server.test_web_socket import token_of
from tests.support.world import World, make_user


@dataclass
class Timetable:
    """Clinic A's general practice: doctor A every day 09:00–10:00, 30-minute one-place slots."""

    client: TestClient
    world: World
    staff: User
    gp: int = 0
    eye: int = 0
    hours: list[int] = field(default_factory=list)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    def who(self, role: str) -> dict[str, str]:
        """The bearer header of a role of the world (or ``clinic_staff_a``), logged in once."""
        if role not in self.headers:
            user = self.staff if role == "clinic_staff_a" else self.world.user(role)
            self.headers[role] = bearer(self.client, user.email)
        return self.headers[role]


ROLES = [
    "family_a",
    "family_b",
    "doctor_a",
    "doctor_b",
    "operator_a",
    "operator_b",
    "admin",
    "clinic_staff_a",
]


@pytest.fixture
def table(client: TestClient, rt: Runtime, world: World) -> Timetable:
    with rt.db.session() as db:
        staff = make_user(db, Role.CLINIC_STAFF, clinic_id=world.clinic_a.id)
    table = Timetable(client, world, staff)
    clinic = world.clinic_a.id
    gp = client.post(
        f"/api/clinics/{clinic}/departments",
        json={"code": "gp", "name_zh": "全科", "name_en": "General practice"},
        headers=table.who("clinic_staff_a"),
    )
    assert gp.status_code == 201, gp.text
    eye = client.post(
        f"/api/clinics/{clinic}/departments",
        json={"code": "eye", "name_zh": "眼科", "name_en": "Eye clinic"},
        headers=table.who("doctor_a"),
    )
    assert eye.status_code == 201, eye.text
    hours = []
    for weekday in range(7):
        resp = client.post(
            f"/api/clinics/{clinic}/opening-hours",
            json={
                "doctor_id": world.doctor_a.id,
                "department_id": gp.json()["id"],
                "weekday": weekday,
                "start": "09:00",
                "end": "10:00",
                "slot_minutes": 30,
                "capacity": 1,
                "kinds": ["clinic", "video"],
            },
            headers=table.who("clinic_staff_a"),
        )
        assert resp.status_code == 201, resp.text
        hours.append(resp.json()["id"])
    table.gp, table.eye, table.hours = gp.json()["id"], eye.json()["id"], hours
    return table


def slots(client: TestClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    resp = client.get("/api/appointments/slots", params=params, headers=headers)
    assert resp.status_code == 200, resp.text
    return resp.json()  # type: ignore[no-any-return]


def book(
    client: TestClient, headers: dict[str, str], slot_id: int, elder_id: int, **more: Any
) -> Any:
    body = {"slot_id": slot_id, "elder_id": elder_id, "idempotency_key": uuid.uuid4().hex}
    return client.post("/api/appointments", json=body | more, headers=headers)


# -- searching, holding, booking, cancelling ------------------------------------------------


def test_search_finds_the_clinics_free_slots_in_its_own_zone(
    client: TestClient, world: World, table: Timetable
) -> None:
    found = slots(client, table.who("family_a"), department="gp", clinic=world.clinic_a.id)
    # Two a day for the 14 days searched by default (today's only if 09:00 is still to come).
    assert 26 <= len(found) <= 28
    first = found[0]
    assert first["doctor_id"] == world.doctor_a.id and first["department_code"] == "gp"
    assert first["department_name"] == "General practice"  # the family member reads English
    assert first["local_start"][11:] in ("09:00", "09:30")
    assert first["timezone"] == "Asia/Shanghai" and first["free"] == 1
    start = datetime.fromisoformat(first["starts_at"])
    assert start.astimezone(ZoneInfo("Asia/Shanghai")).hour == 9 and start > datetime.now(UTC)
    # Nothing for a department without opening hours, nor for home visits.
    assert slots(client, table.who("family_a"), department="eye") == []
    assert slots(client, table.who("family_a"), department="gp", kind="home") == []
    departments = client.get(
        f"/api/clinics/{world.clinic_a.id}/departments", headers=table.who("operator_b")
    ).json()
    assert [d["code"] for d in departments] == ["gp", "eye"]


def test_hold_keeps_the_slot_then_frees_it_by_itself(
    client: TestClient, rt: Runtime, world: World, table: Timetable
) -> None:
    slot = slots(client, table.who("family_a"), department="gp")[0]
    hold = client.post(
        "/api/appointments/holds",
        json={"slot_id": slot["id"], "elder_id": world.elder_a.id},
        headers=table.who("family_a"),
    )
    assert hold.status_code == 201, hold.text
    expires = datetime.fromisoformat(hold.json()["expires_at"])
    assert timedelta(minutes=2, seconds=50) < expires - datetime.now(UTC) <= timedelta(minutes=3)
    # Held: the slot is not offered, and nobody else can book or hold it.
    assert slot["id"] not in [s["id"] for s in slots(client, table.who("family_b"))]
    taken = book(client, table.who("family_b"), slot["id"], world.elder_b.id)
    assert taken.status_code == 409 and taken.json()["code"] == "slot_taken"
    assert taken.json()["detail"] == "That time has just been taken. Please choose another time."
    # The hold runs out (its clock moved back): the slot is free again, and the hold is gone.
    with rt.db.session() as db:
        row = db.get(SlotHold, hold.json()["id"])
        assert row is not None
        row.expires_at = utcnow() - timedelta(seconds=1)
    late = book(client, table.who("family_a"), slot["id"], world.elder_a.id, hold_id=row.id)
    assert late.status_code == 409 and late.json()["code"] == "hold_expired"
    assert slot["id"] in [s["id"] for s in slots(client, table.who("family_b"))]
    assert book(client, table.who("family_b"), slot["id"], world.elder_b.id).status_code == 201


def test_book_with_hold_list_and_cancel_push_to_pages(
    client: TestClient, world: World, table: Timetable
) -> None:
    slot = slots(client, table.who("family_a"), department="gp")[0]
    with client.websocket_connect("/ws/web") as page:
        send(page, Hello(client=ClientKind.WEB, token=token_of(client, world.family_a.email)))
        assert isinstance(recv(page), Welcome)
        hold = client.post(
            "/api/appointments/holds",
            json={"slot_id": slot["id"], "elder_id": world.elder_a.id},
            headers=table.who("family_a"),
        ).json()
        key = uuid.uuid4().hex
        body = {
            "slot_id": slot["id"],
            "elder_id": world.elder_a.id,
            "kind": "video",
            "idempotency_key": key,
            "hold_id": hold["id"],
        }
        resp = client.post("/api/appointments", json=body, headers=table.who("family_a"))
        assert resp.status_code == 201, resp.text
        visit = resp.json()
        assert visit["status"] == "booked" and visit["booked_by"] == "family"
        assert visit["kind"] == "video" and visit["starts_at"] == slot["starts_at"]
        change = recv(page)
        assert isinstance(change, Changed) and change.topic is Topic.APPOINTMENT
        assert change.elder_id == world.elder_a.id and change.data == {"action": "booked"}
        # A retry of the same request (the answer was lost) returns the same visit.
        again = client.post("/api/appointments", json=body, headers=table.who("family_a"))
        assert again.status_code == 200 and again.json()["id"] == visit["id"]
        # The slot is full now; the operator sees the visit in the elder's list, the clinic too.
        assert slot["id"] not in [s["id"] for s in slots(client, table.who("family_a"))]
        for role in ("operator_a", "clinic_staff_a", "doctor_a", "admin"):
            listed = client.get(
                "/api/appointments",
                params={"elder_id": world.elder_a.id},
                headers=table.who(role),
            )
            assert [v["id"] for v in listed.json()] == [visit["id"]], role
        day_list = client.get(
            "/api/appointments",
            params={"clinic_id": world.clinic_a.id},
            headers=table.who("clinic_staff_a"),
        )
        assert [v["id"] for v in day_list.json()] == [visit["id"]]
        cancel = client.post(
            f"/api/appointments/{visit['id']}/cancel",
            json={"reason": "feeling better"},
            headers=table.who("operator_a"),
        )
        assert cancel.status_code == 200 and cancel.json()["status"] == "cancelled"
        change = recv(page)
        assert isinstance(change, Changed) and change.data == {"action": "cancelled"}
    # Cancelling twice changes nothing; the place is free again.
    twice = client.post(f"/api/appointments/{visit['id']}/cancel", headers=table.who("family_a"))
    assert twice.status_code == 200 and twice.json()["cancel_reason"] == "feeling better"
    assert slot["id"] in [s["id"] for s in slots(client, table.who("family_a"))]


def test_an_elder_never_holds_two_overlapping_visits(
    client: TestClient, rt: Runtime, world: World, table: Timetable
) -> None:
    first = slots(client, table.who("family_a"), department="gp")[0]
    assert book(client, table.who("family_a"), first["id"], world.elder_a.id).status_code == 201
    # A second doctor of the eye department at the same hour: another slot, same time.
    with rt.db.session() as db:
        other = make_user(db, Role.DOCTOR, clinic_id=world.clinic_a.id)
        starts = datetime.fromisoformat(first["starts_at"])
        db.add(
            Slot(
                clinic_id=world.clinic_a.id,
                doctor_id=other.id,
                department_id=table.eye,
                starts_at=starts + timedelta(minutes=15),
                ends_at=starts + timedelta(minutes=45),
                capacity=3,
                booked=0,
                kinds="clinic,video",
                closed=False,
            )
        )
    eye = slots(client, table.who("operator_a"), department="eye")[0]
    clash = book(client, table.who("operator_a"), eye["id"], world.elder_a.id, kind="video")
    assert clash.status_code == 409 and clash.json()["code"] == "overlap"
    assert world.elder_a.name in clash.json()["detail"]
    hold = client.post(
        "/api/appointments/holds",
        json={"slot_id": eye["id"], "elder_id": world.elder_a.id},
        headers=table.who("family_a"),
    )
    assert hold.status_code == 409 and hold.json()["code"] == "overlap"
    # Another elder may take it.
    assert book(client, table.who("family_b"), eye["id"], world.elder_b.id).status_code == 201


def test_errors_speak_the_callers_language(
    client: TestClient, rt: Runtime, world: World, table: Timetable
) -> None:
    with rt.db.session() as db:
        user = db.get(User, world.family_b.id)
        assert user is not None
        user.lang = Lang.ZH
    slot = slots(client, table.who("family_a"), department="gp")[0]
    assert book(client, table.who("family_a"), slot["id"], world.elder_a.id).status_code == 201
    taken = book(client, table.who("family_b"), slot["id"], world.elder_b.id)
    assert taken.json() == {
        "detail": "这个时间刚刚被别人约走了，请换一个时间。",
        "code": "slot_taken",
    }


def test_slots_outside_the_window_cannot_be_booked(
    client: TestClient, rt: Runtime, world: World, table: Timetable
) -> None:
    with rt.db.session() as db:
        past = db.scalars(select(Slot).order_by(Slot.starts_at)).first()
        assert past is not None
        past.starts_at = utcnow() - timedelta(hours=1)
        past.ends_at = past.starts_at + timedelta(minutes=30)
        slot_id = past.id
    late = book(client, table.who("family_a"), slot_id, world.elder_a.id)
    assert late.status_code == 422 and late.json()["code"] == "outside_window"
    assert "28 days" in late.json()["detail"]
    far = (datetime.now(UTC) + timedelta(days=40)).isoformat()
    resp = client.get("/api/appointments/slots", params={"to": far}, headers=table.who("family_a"))
    assert resp.status_code == 422 and resp.json()["code"] == "outside_window"


# -- closures -------------------------------------------------------------------------------


def test_closure_cancels_booked_visits_and_tells_the_family(
    client: TestClient, rt: Runtime, world: World, table: Timetable
) -> None:
    found = slots(client, table.who("family_a"), department="gp")
    inside, outside = found[2], found[-1]
    booked = book(client, table.who("family_a"), inside["id"], world.elder_a.id).json()
    kept = book(client, table.who("family_b"), outside["id"], world.elder_b.id).json()
    start = datetime.fromisoformat(inside["starts_at"])
    with client.websocket_connect("/ws/web") as page:
        send(page, Hello(client=ClientKind.WEB, token=token_of(client, world.family_a.email)))
        assert isinstance(recv(page), Welcome)
        resp = client.post(
            f"/api/clinics/{world.clinic_a.id}/closures",
            json={
                "doctor_id": world.doctor_a.id,
                "starts_at": (start - timedelta(hours=1)).isoformat(),
                "ends_at": (start + timedelta(hours=3)).isoformat(),
                "reason": "Dr. Zhang is ill",
            },
            headers=table.who("doctor_a"),
        )
        assert resp.status_code == 201, resp.text
        assert resp.json()["cancelled"] == 1
        change = recv(page)
        assert isinstance(change, Changed) and change.topic is Topic.APPOINTMENT
        assert change.data == {"action": "cancelled"}
    visit = client.get(f"/api/appointments/{booked['id']}", headers=table.who("family_a")).json()
    assert visit["status"] == "cancelled" and visit["cancel_reason"] == "Dr. Zhang is ill"
    other = client.get(f"/api/appointments/{kept['id']}", headers=table.who("family_b")).json()
    assert other["status"] == "booked"
    # The family got an e-mail naming the time in the elder's zone; nobody else did.
    with rt.db.session() as db:
        mails = db.scalars(select(OutgoingMessage)).all()
    assert [m.recipient for m in mails] == [world.family_a.email]
    local = start.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    assert local in mails[0].subject and world.elder_a.name in mails[0].subject
    assert "Beijing time" in mails[0].body and "Dr. Zhang is ill" in mails[0].body
    # Closed: not offered, not bookable; removing the closure opens it again.
    assert inside["id"] not in [s["id"] for s in slots(client, table.who("family_a"))]
    closed = book(client, table.who("family_a"), inside["id"], world.elder_a.id)
    assert closed.status_code == 409 and closed.json()["code"] == "clinic_closed"
    listed = client.get(
        f"/api/clinics/{world.clinic_a.id}/closures", headers=table.who("clinic_staff_a")
    ).json()
    assert [c["id"] for c in listed] == [resp.json()["id"]]
    gone = client.delete(f"/api/closures/{resp.json()['id']}", headers=table.who("clinic_staff_a"))
    assert gone.status_code == 204
    assert inside["id"] in [s["id"] for s in slots(client, table.who("family_a"))]


def test_changing_opening_hours_keeps_booked_visits(
    client: TestClient, rt: Runtime, world: World, table: Timetable
) -> None:
    found = slots(client, table.who("family_a"), department="gp")
    visit = book(client, table.who("family_a"), found[0]["id"], world.elder_a.id).json()
    weekday = datetime.fromisoformat(found[0]["local_start"]).weekday()
    hours_id = table.hours[weekday]
    resp = client.patch(
        f"/api/opening-hours/{hours_id}",
        json={"start": "14:00", "end": "15:00"},
        headers=table.who("doctor_a"),
    )
    assert resp.status_code == 200 and resp.json()["start"] == "14:00"
    day = [
        s
        for s in slots(client, table.who("family_a"))
        if s["local_start"][:10] == found[0]["local_start"][:10]
    ]
    assert {s["local_start"][11:] for s in day} <= {"14:00", "14:30"}
    still = client.get(f"/api/appointments/{visit['id']}", headers=table.who("family_a")).json()
    assert still["status"] == "booked"
    assert (
        client.delete(f"/api/opening-hours/{hours_id}", headers=table.who("admin")).status_code
        == 204
    )
    with rt.db.session() as db:
        assert db.get(OpeningHours, hours_id) is None
        assert db.get(Slot, found[0]["id"]) is not None  # the booked slot stays


# -- daylight saving ------------------------------------------------------------------------


def _hours(
    db: Any, clinic: Clinic, doctor: User, weekday: int, start: int, end: int
) -> OpeningHours:
    dept = Department(clinic_id=clinic.id, code="gp", name_zh="全科", name_en="GP")
    db.add(dept)
    db.flush()
    hours = OpeningHours(
        clinic_id=clinic.id,
        doctor_id=doctor.id,
        department_id=dept.id,
        weekday=weekday,
        start_minute=start,
        end_minute=end,
        slot_minutes=30,
        capacity=1,
        kinds="clinic",
    )
    db.add(hours)
    db.flush()
    return hours


def _local_starts(db: Any, zone: str, day: date) -> list[str]:
    rows = db.scalars(select(Slot.starts_at).order_by(Slot.starts_at)).all()
    local = [r.astimezone(ZoneInfo(zone)) for r in rows]
    return [f"{t:%H:%M}{'+' if t.fold else ''}" for t in local if t.date() == day]


def test_slots_keep_their_local_time_across_daylight_saving(rt: Runtime) -> None:
    zone = "Europe/London"
    with rt.db.session() as db:
        clinic = Clinic(name="London clinic", timezone=zone)
        db.add(clinic)
        db.flush()
        doctor = make_user(db, Role.DOCTOR, clinic_id=clinic.id)
        # Sundays 00:00–03:00; on 2027-03-28 the clocks jump from 01:00 to 02:00.
        hours = _hours(db, clinic, doctor, 6, 0, 180)
        materialise(db, hours, clinic, datetime(2027, 3, 20, tzinfo=UTC))
        spring = _local_starts(db, zone, date(2027, 3, 28))
        assert spring == ["00:00", "00:30", "02:00", "02:30"]  # 01:00 and 01:30 never happen
        before = _local_starts(db, zone, date(2027, 3, 21))
        assert before == ["00:00", "00:30", "01:00", "01:30", "02:00", "02:30"]
        # The same wall clock either side: 02:00 is 02:00 UTC in winter, 01:00 UTC in summer.
        utc = {s.isoformat() for s in db.scalars(select(Slot.starts_at))}
        assert "2027-03-21T02:00:00+00:00" in utc and "2027-03-28T01:00:00+00:00" in utc


def test_a_repeated_hour_gets_one_slot_each(rt: Runtime) -> None:
    zone = "America/New_York"
    with rt.db.session() as db:
        clinic = Clinic(name="New York clinic", timezone=zone)
        db.add(clinic)
        db.flush()
        doctor = make_user(db, Role.DOCTOR, clinic_id=clinic.id)
        # Sunday 2027-11-07: 01:00–02:00 happens twice; slots are made at its first pass.
        hours = _hours(db, clinic, doctor, 6, 60, 150)
        materialise(db, hours, clinic, datetime(2027, 11, 1, tzinfo=UTC))
        assert _local_starts(db, zone, date(2027, 11, 7)) == ["01:00", "01:30", "02:00"]
        first = db.scalars(select(Slot.starts_at).order_by(Slot.starts_at)).all()
        mine = [s for s in first if s.astimezone(ZoneInfo(zone)).date() == date(2027, 11, 7)]
        assert [s.strftime("%H:%M") for s in mine] == ["05:00", "05:30", "07:00"]  # EDT, EDT, EST


# -- bad input ------------------------------------------------------------------------------


def test_bad_input_on_every_route_is_a_clear_4xx(
    client: TestClient, world: World, table: Timetable
) -> None:
    clinic = world.clinic_a.id
    staff = table.who("clinic_staff_a")
    family = table.who("family_a")
    slot = slots(client, family, department="gp")[0]["id"]
    good_hours = {
        "doctor_id": world.doctor_a.id,
        "department_id": table.gp,
        "weekday": 1,
        "start": "13:00",
        "end": "14:00",
    }
    soon = datetime.now(UTC) + timedelta(days=2)
    cases: list[tuple[str, str, Any, dict[str, str], int]] = [
        ("POST", f"/api/clinics/{clinic}/departments", {"code": "GP!"}, staff, 422),
        (
            "POST",
            f"/api/clinics/{clinic}/departments",
            {"code": "gp", "name_zh": "全科", "name_en": "GP"},
            staff,
            409,
        ),
        (
            "POST",
            f"/api/clinics/{clinic}/departments",
            {"code": "x", "name_zh": " ", "name_en": "X"},
            staff,
            422,
        ),
        (
            "POST",
            f"/api/clinics/{clinic}/opening-hours",
            good_hours | {"start": "25:00"},
            staff,
            422,
        ),
        ("POST", f"/api/clinics/{clinic}/opening-hours", good_hours | {"end": "12:00"}, staff, 422),
        ("POST", f"/api/clinics/{clinic}/opening-hours", good_hours | {"weekday": 7}, staff, 422),
        (
            "POST",
            f"/api/clinics/{clinic}/opening-hours",
            good_hours | {"slot_minutes": 0},
            staff,
            422,
        ),
        ("POST", f"/api/clinics/{clinic}/opening-hours", good_hours | {"capacity": 0}, staff, 422),
        ("POST", f"/api/clinics/{clinic}/opening-hours", good_hours | {"kinds": []}, staff, 422),
        (
            "POST",
            f"/api/clinics/{clinic}/opening-hours",
            good_hours | {"kinds": ["spa"]},
            staff,
            422,
        ),
        (
            "POST",
            f"/api/clinics/{clinic}/opening-hours",
            good_hours | {"doctor_id": world.doctor_b.id},
            staff,
            422,
        ),
        (
            "POST",
            f"/api/clinics/{clinic}/opening-hours",
            good_hours | {"department_id": 999999},
            staff,
            422,
        ),
        (
            "POST",
            f"/api/clinics/{clinic}/opening-hours",
            good_hours | {"start": "09:30", "end": "11:00", "weekday": 0},
            staff,
            409,
        ),
        (
            "POST",
            f"/api/clinics/{clinic}/opening-hours",
            good_hours | {"start": "13:00", "end": "13:10"},
            staff,
            422,
        ),
        ("POST", f"/api/clinics/{clinic}/opening-hours", "not json", staff, 422),
        ("PATCH", f"/api/opening-hours/{table.hours[0]}", {"end": "08:00"}, staff, 422),
        ("PATCH", f"/api/opening-hours/{table.hours[0]}", {"doctor_id": 1}, staff, 422),
        ("PATCH", "/api/opening-hours/999999", {"capacity": 2}, staff, 404),
        ("DELETE", "/api/opening-hours/999999", None, staff, 404),
        (
            "POST",
            f"/api/clinics/{clinic}/closures",
            {"starts_at": soon.isoformat(), "ends_at": (soon - timedelta(hours=1)).isoformat()},
            staff,
            422,
        ),
        (
            "POST",
            f"/api/clinics/{clinic}/closures",
            {"starts_at": "2027-01-01T09:00", "ends_at": "2027-01-02T09:00"},
            staff,
            422,
        ),
        (
            "POST",
            f"/api/clinics/{clinic}/closures",
            {"starts_at": "2020-01-01T09:00Z", "ends_at": "2020-01-02T09:00Z"},
            staff,
            422,
        ),
        (
            "POST",
            f"/api/clinics/{clinic}/closures",
            {"starts_at": soon.isoformat(), "ends_at": (soon + timedelta(days=400)).isoformat()},
            staff,
            422,
        ),
        (
            "POST",
            f"/api/clinics/{clinic}/closures",
            {
                "doctor_id": world.doctor_b.id,
                "starts_at": soon.isoformat(),
                "ends_at": (soon + timedelta(hours=1)).isoformat(),
            },
            staff,
            422,
        ),
        ("DELETE", "/api/closures/999999", None, staff, 404),
        ("GET", "/api/clinics/999999/departments", None, family, 404),
        ("GET", "/api/appointments/slots?department=Eye%20Clinic", None, family, 422),
        ("GET", "/api/appointments/slots?from=tomorrow", None, family, 422),
        ("GET", "/api/appointments/slots?from=2027-01-01T09:00", None, family, 422),
        (
            "GET",
            f"/api/appointments/slots?from={soon:%Y-%m-%dT%H:%MZ}&to={soon:%Y-%m-%dT00:00Z}",
            None,
            family,
            422,
        ),
        ("GET", "/api/appointments/slots?kind=spa", None, family, 422),
        ("GET", "/api/appointments/slots?limit=0", None, family, 422),
        ("GET", "/api/appointments/slots?clinic=0", None, family, 422),
        (
            "POST",
            "/api/appointments/holds",
            {"slot_id": 999999, "elder_id": world.elder_a.id},
            family,
            404,
        ),
        ("POST", "/api/appointments/holds", {"slot_id": slot}, family, 422),
        ("DELETE", "/api/appointments/holds/999999", None, family, 404),
        ("POST", "/api/appointments", {"slot_id": slot, "elder_id": world.elder_a.id}, family, 422),
        (
            "POST",
            "/api/appointments",
            {"slot_id": slot, "elder_id": world.elder_a.id, "idempotency_key": "a b"},
            family,
            422,
        ),
        (
            "POST",
            "/api/appointments",
            {"slot_id": slot, "elder_id": world.elder_a.id, "idempotency_key": "k" * 65},
            family,
            422,
        ),
        (
            "POST",
            "/api/appointments",
            {
                "slot_id": slot,
                "elder_id": world.elder_a.id,
                "idempotency_key": "k1",
                "kind": "home",
            },
            family,
            422,
        ),
        (
            "POST",
            "/api/appointments",
            {
                "slot_id": slot,
                "elder_id": world.elder_a.id,
                "idempotency_key": "k2",
                "hold_id": 999999,
            },
            family,
            409,
        ),
        (
            "POST",
            "/api/appointments",
            {"slot_id": 999999, "elder_id": world.elder_a.id, "idempotency_key": "k3"},
            family,
            404,
        ),
        ("GET", "/api/appointments", None, family, 422),
        (
            "GET",
            f"/api/appointments?elder_id={world.elder_a.id}&clinic_id={clinic}",
            None,
            family,
            422,
        ),
        ("GET", "/api/appointments/999999", None, family, 404),
        ("POST", "/api/appointments/999999/cancel", None, family, 404),
        ("POST", "/api/appointments/1/cancel", {"reason": "x" * 201}, family, 422),
    ]
    failures = []
    for method, path, body, headers, expected in cases:
        kwargs: dict[str, Any] = {"headers": headers}
        if isinstance(body, str):
            kwargs["content"] = body
            kwargs["headers"] = headers | {"content-type": "application/json"}
        elif body is not None:
            kwargs["json"] = body
        resp = client.request(method, path, **kwargs)
        ok = resp.status_code == expected and resp.json().get("code") and resp.json().get("detail")
        if not ok:
            failures.append(f"{method} {path} {body!r}: {resp.status_code} {resp.text[:120]}")
    assert failures == []
    # A reused key for another slot is refused, not a second booking.
    again = [s["id"] for s in slots(client, family, department="gp")][:2]
    first = book(client, family, again[0], world.elder_a.id, idempotency_key="same-key")
    assert first.status_code == 201
    other = book(client, family, again[1], world.elder_a.id, idempotency_key="same-key")
    assert other.status_code == 409 and "idempotency key" in other.json()["detail"]


# -- who may call what ----------------------------------------------------------------------

# Per route, the status each role gets (200/201/204 allowed, 403 refused, 404 hidden).
SCHEDULE = {
    "family_a": 403,
    "family_b": 403,
    "doctor_a": 200,
    "doctor_b": 403,
    "operator_a": 403,
    "operator_b": 403,
    "admin": 200,
    "clinic_staff_a": 200,
}
BOOK_A = {
    "family_a": 201,
    "family_b": 404,
    "doctor_a": 403,
    "doctor_b": 404,
    "operator_a": 201,
    "operator_b": 404,
    "admin": 403,
    "clinic_staff_a": 404,
}
SEE_VISIT_A = {
    "family_a": 200,
    "family_b": 404,
    "doctor_a": 200,
    "doctor_b": 404,
    "operator_a": 200,
    "operator_b": 404,
    "admin": 200,
    "clinic_staff_a": 200,
}


def _created(status: int, expected: int) -> bool:
    return status == expected or (expected == 200 and status in (201, 204))


@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(
    client: TestClient, rt: Runtime, world: World, table: Timetable, role: str
) -> None:
    me = table.who(role)
    clinic = world.clinic_a.id
    # Anyone logged in sees departments and free slots.
    assert client.get(f"/api/clinics/{clinic}/departments", headers=me).status_code == 200
    assert client.get("/api/appointments/slots", headers=me).status_code == 200
    schedule = [
        ("GET", f"/api/clinics/{clinic}/opening-hours", None),
        (
            "POST",
            f"/api/clinics/{clinic}/departments",
            {"code": f"d{role[:3]}", "name_zh": "科", "name_en": "D"},
        ),
        (
            "POST",
            f"/api/clinics/{clinic}/opening-hours",
            {
                "doctor_id": world.doctor_a.id,
                "department_id": table.eye,
                "weekday": 2,
                "start": "15:00",
                "end": "16:00",
            },
        ),
        ("PATCH", f"/api/opening-hours/{table.hours[3]}", {"capacity": 2}),
        ("GET", f"/api/clinics/{clinic}/closures", None),
        (
            "POST",
            f"/api/clinics/{clinic}/closures",
            {"starts_at": "2099-01-01T00:00:00Z", "ends_at": "2099-01-02T00:00:00Z"},
        ),
        ("DELETE", f"/api/opening-hours/{table.hours[4]}", None),
    ]
    for method, path, body in schedule:
        resp = client.request(method, path, json=body, headers=me)
        assert _created(resp.status_code, SCHEDULE[role]), (method, path, resp.text)
    closure = client.post(
        f"/api/clinics/{clinic}/closures",
        json={"starts_at": "2098-01-01T00:00:00Z", "ends_at": "2098-01-02T00:00:00Z"},
        headers=table.who("admin"),
    ).json()
    resp = client.delete(f"/api/closures/{closure['id']}", headers=me)
    assert _created(resp.status_code, SCHEDULE[role]), resp.text
    # Holding and booking for elder A: the family and the area's operators only.
    free = slots(client, table.who("family_a"), department="gp")
    hold = client.post(
        "/api/appointments/holds",
        json={"slot_id": free[0]["id"], "elder_id": world.elder_a.id},
        headers=me,
    )
    assert hold.status_code == BOOK_A[role], hold.text
    if hold.status_code == 201:
        assert (
            client.delete(
                f"/api/appointments/holds/{hold.json()['id']}", headers=table.who("admin")
            ).status_code
            == 404
        )
        assert (
            client.delete(f"/api/appointments/holds/{hold.json()['id']}", headers=me).status_code
            == 204
        )
    resp = book(client, me, free[1]["id"], world.elder_a.id)
    assert resp.status_code == BOOK_A[role], resp.text
    visit = book(client, table.who("family_a"), free[2]["id"], world.elder_a.id).json()
    # Seeing elder A's visits and one visit; the clinic's own list.
    listed = client.get("/api/appointments", params={"elder_id": world.elder_a.id}, headers=me)
    assert listed.status_code == SEE_VISIT_A[role], listed.text
    one = client.get(f"/api/appointments/{visit['id']}", headers=me)
    assert one.status_code == SEE_VISIT_A[role]
    day = client.get("/api/appointments", params={"clinic_id": clinic}, headers=me)
    assert day.status_code == (200 if SCHEDULE[role] == 200 else 403)
    cancel = client.post(f"/api/appointments/{visit['id']}/cancel", headers=me)
    assert cancel.status_code == SEE_VISIT_A[role], cancel.text
    # Clinic B's people see nothing of clinic A's elder once no visit is with them.
    if role in ("doctor_b",):
        assert listed.status_code == 404


def test_a_clinic_sees_an_elder_booked_with_it_only(
    client: TestClient, rt: Runtime, world: World, table: Timetable
) -> None:
    with rt.db.session() as db:
        staff_b = make_user(db, Role.CLINIC_STAFF, clinic_id=world.clinic_b.id)
    headers = bearer(client, staff_b.email)
    slot = slots(client, table.who("family_b"), department="gp")[0]
    visit = book(client, table.who("family_b"), slot["id"], world.elder_b.id).json()
    # Elder B belongs to clinic B, but their visit is at clinic A: clinic B does not see it,
    assert client.get(f"/api/appointments/{visit['id']}", headers=headers).status_code == 404
    mine = client.get("/api/appointments", params={"elder_id": world.elder_b.id}, headers=headers)
    assert mine.status_code == 404
    # clinic A's staff do, and only that visit.
    theirs = client.get(
        "/api/appointments",
        params={"elder_id": world.elder_b.id},
        headers=table.who("clinic_staff_a"),
    )
    assert [v["id"] for v in theirs.json()] == [visit["id"]]


def test_the_demo_has_a_clinic_timetable_and_visits_of_the_demo_elder(
    client: TestClient, rt: Runtime
) -> None:
    with rt.db.session() as db:
        assert seed_demo(db, demo_seeds(FEATURES))
        wang = db.scalar(select(Elder).where(Elder.name == "王秀英"))
        assert wang is not None
    family = next(d for d in DEMO_LOGINS if d.email == "family1@demo.anxin")
    headers = bearer(client, family.email, family.password)
    visits = client.get("/api/appointments", params={"elder_id": wang.id}, headers=headers).json()
    # Later today a video visit too, when the day allows (server/appointments/demo.py).
    kinds = [v["kind"] for v in visits]
    assert kinds[-2:] == ["clinic", "video"] and kinds[:-2] in ([], ["video"])
    assert all(v["status"] == "booked" and v["booked_by"] == "family" for v in visits)
    free = slots(client, headers, department="gp")
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    # Mornings, and today's demo session whatever the hour.
    assert free and all(
        s["local_start"][11:] < "11:30" or s["local_start"][:10] == today for s in free
    )
    assert {s["department_name"] for s in slots(client, headers, department="chronic")} == {
        "慢病门诊"
    }
