"""The appointments pages as people use them, without a browser: the family books, moves and
cancels on pages; a time lost on the way says so; the hotline books for a caller; the clinic's
day list marks arrived and no-show; opening hours and closures with inline errors; e-mails to
the family on every change (never to the one who made it); and who may see what."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from protocol import Role
from server.appointments import visits as visits_module
from server.appointments.schedule import materialise
from server.models import (
    Appointment,
    AppointmentStatus,
    Clinic,
    Department,
    OpeningHours,
    OutgoingMessage,
    Slot,
    SlotHold,
    User,
    utcnow,
)
from server.runtime import Runtime
from tests.conftest import bearer
from tests.support.world import PASSWORD, World, link, make_user

HTML = {"accept": "text/html"}
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def gp(rt: Runtime, world: World) -> int:
    """Clinic A's general practice: doctor A every day 09:00–12:00 and 14:00–16:00, 30-minute
    one-place slots, at the clinic or by video; the department's id."""
    with rt.db.session() as db:
        clinic = db.get(Clinic, world.clinic_a.id)
        assert clinic is not None
        dept = Department(
            clinic_id=clinic.id, code="gp", name_zh="全科", name_en="General practice"
        )
        db.add(dept)
        db.flush()
        for weekday in range(7):
            for start, end in ((9 * 60, 12 * 60), (14 * 60, 16 * 60)):
                hours = OpeningHours(
                    clinic_id=clinic.id,
                    doctor_id=world.doctor_a.id,
                    department_id=dept.id,
                    weekday=weekday,
                    start_minute=start,
                    end_minute=end,
                    slot_minutes=30,
                    capacity=1,
                    kinds="clinic,video",
                )
                db.add(hours)
                db.flush()
                materialise(db, hours, clinic, utcnow())
        db.commit()
        return dept.id


def login(client: TestClient, user: User) -> TestClient:
    client.cookies.clear()
    resp = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert resp.status_code in (200, 303), resp.text
    return client


def page(client: TestClient, path: str, status: int = 200) -> str:
    path = path.split("#", 1)[0]
    resp = client.get(path + ("&" if "?" in path else "?") + "lang=en", headers=HTML)
    assert resp.status_code == status, resp.text[:2000]
    return resp.text


def csrf(html: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert found, "not logged in"
    return found[1]


def free_slot(rt: Runtime, days: int = 2, index: int = 0) -> Slot:
    """A free slot at least ``days`` ahead."""
    with rt.db.session() as db:
        rows = db.scalars(
            select(Slot)
            .where(Slot.booked == 0, Slot.starts_at > utcnow() + timedelta(days=days))
            .order_by(Slot.starts_at)
        ).all()
        return rows[index]


def walk_and_hold(client: TestClient, elder_id: int, slot: Slot, move: int | None = None) -> str:
    """Through the booking pages to the chosen time; the confirm page's address."""
    base = f"/appointments/book?elder={elder_id}" + (f"&move={move}" if move else "")
    assert 'id="department-gp"' in page(client, base)
    assert f'id="clinic-{slot.clinic_id}"' in page(client, base + "&department=gp")
    days = page(client, base + f"&department=gp&clinic={slot.clinic_id}")
    day = slot.starts_at.astimezone(SHANGHAI).date()
    assert f'id="day-{day.isoformat()}"' in days
    times = page(client, base + f"&department=gp&clinic={slot.clinic_id}&day={day.isoformat()}")
    assert f'id="slot-{slot.id}"' in times
    form = {
        "csrf": csrf(times),
        "elder": str(elder_id),
        "department": "gp",
        "clinic": str(slot.clinic_id),
        "day": day.isoformat(),
        "slot": str(slot.id),
        "kind": "clinic",
    }
    if move:
        form["move"] = str(move)
    resp = client.post("/appointments/book/hold", data=form, follow_redirects=False)
    assert resp.status_code == 303, resp.text[:2000]
    return resp.headers["location"]


def mails(rt: Runtime) -> list[OutgoingMessage]:
    with rt.db.session() as db:
        return list(db.scalars(select(OutgoingMessage).order_by(OutgoingMessage.id)))


@pytest.fixture
def son(rt: Runtime, world: World) -> User:
    """Elder A's second family member: the one told when the daughter changes a visit."""
    with rt.db.session() as db:
        user = make_user(db, Role.FAMILY, email=f"son-{uuid.uuid4().hex[:6]}@example.org")
        elder = db.merge(world.elder_a)
        link(db, user, elder, "son")
        db.commit()
        db.refresh(user)
        db.expunge(user)
        return user


def test_family_books_on_pages_and_the_other_family_member_is_emailed(
    client: TestClient, rt: Runtime, world: World, gp: int, son: User
) -> None:
    login(client, world.family_a)
    home = page(client, "/family")
    assert f'id="appointments-{world.elder_a.id}"' in home and "No visits booked." in home
    slot = free_slot(rt)
    confirm_at = walk_and_hold(client, world.elder_a.id, slot)
    confirm = page(client, confirm_at)
    assert "kept for you until" in confirm and "Book this visit" in confirm
    hold = re.search(r'name="hold" value="(\d+)"', confirm)
    assert hold
    # "Choose another time" lets the time go; choosing it again holds it again.
    back = client.post(
        "/appointments/book/release",
        data={"csrf": csrf(confirm), "hold": hold[1]},
        follow_redirects=False,
    )
    assert (
        back.status_code == 303
        and f"day={slot.starts_at.astimezone(SHANGHAI).date()}" in (back.headers["location"])
    )
    with rt.db.session() as db:
        assert db.get(SlotHold, int(hold[1])) is None
    confirm = page(client, walk_and_hold(client, world.elder_a.id, slot))
    hold = re.search(r'name="hold" value="(\d+)"', confirm)
    assert hold
    resp = client.post(
        "/appointments/book/confirm",
        data={"csrf": csrf(confirm), "hold": hold[1], "kind": "clinic"},
        follow_redirects=False,
    )
    assert resp.status_code == 303 and "/appointments/booked/" in resp.headers["location"]
    booked = page(client, resp.headers["location"])
    assert "The visit is booked" in booked
    with rt.db.session() as db:
        visit = db.scalar(select(Appointment).where(Appointment.elder_id == world.elder_a.id))
        assert visit is not None and visit.slot_id == slot.id
        assert visit.status is AppointmentStatus.BOOKED
    home = page(client, "/family")
    assert f'id="visit-{visit.id}"' in home and "General practice" in home
    assert f'id="next-visit-{world.elder_a.id}"' in home
    sent = mails(rt)
    assert [m.recipient for m in sent] == [son.email]  # not the daughter who booked
    assert "clinic visit" in sent[0].subject or "诊所预约" in sent[0].subject
    assert "/family#appointments-" in sent[0].body


def test_a_time_taken_before_it_is_held_says_just_taken(
    client: TestClient, rt: Runtime, world: World, gp: int
) -> None:
    slot = free_slot(rt)
    op = bearer(client, world.operator_a.email)
    taken = client.post(
        "/api/appointments",
        json={"slot_id": slot.id, "elder_id": world.elder_a.id, "idempotency_key": "op-1"},
        headers=op,
    )
    assert taken.status_code == 201
    # Family B chooses the same time for their own elder (Clinic A is open to anyone).
    login(client, world.family_b)
    day = slot.starts_at.astimezone(SHANGHAI).date()
    path = f"/appointments/book?elder={world.elder_b.id}&department=gp&clinic={slot.clinic_id}"
    html = page(client, path)
    resp = client.post(
        "/appointments/book/hold",
        data={
            "csrf": csrf(html),
            "elder": str(world.elder_b.id),
            "department": "gp",
            "clinic": str(slot.clinic_id),
            "day": day.isoformat(),
            "slot": str(slot.id),
            "kind": "clinic",
        },
        headers=HTML,
    )
    assert resp.status_code == 409
    assert "That time has just been taken" in resp.text and 'id="booking-error"' in resp.text
    assert 'data-step="time"' in resp.text  # the day's other times, to choose again


def test_move_books_the_new_time_then_cancels_the_old_one_and_tells_the_family(
    client: TestClient, rt: Runtime, world: World, gp: int, son: User
) -> None:
    first, second, third = free_slot(rt, 2, 0), free_slot(rt, 2, 1), free_slot(rt, 2, 2)
    fam = bearer(client, world.family_a.email)
    old = client.post(
        "/api/appointments",
        json={"slot_id": first.id, "elder_id": world.elder_a.id, "idempotency_key": "f-1"},
        headers=fam,
    ).json()
    # A move into a taken time changes nothing.
    client.post(
        "/api/appointments",
        json={"slot_id": third.id, "elder_id": world.elder_b.id, "idempotency_key": "b-1"},
        headers=bearer(client, world.family_b.email),
    )
    refused = client.post(
        f"/api/appointments/{old['id']}/move",
        json={"slot_id": third.id, "idempotency_key": "m-0"},
        headers=fam,
    )
    assert refused.status_code == 409 and refused.json()["code"] == "slot_taken"
    with rt.db.session() as db:
        still = db.get(Appointment, old["id"])
        assert still is not None and still.status is AppointmentStatus.BOOKED
    # On the pages: Move, a new time, confirm.
    login(client, world.family_a)
    confirm_at = walk_and_hold(client, world.elder_a.id, second, move=old["id"])
    confirm = page(client, confirm_at)
    assert "Move the visit here" in confirm
    hold = re.search(r'name="hold" value="(\d+)"', confirm)
    assert hold
    resp = client.post(
        "/appointments/book/confirm",
        data={"csrf": csrf(confirm), "hold": hold[1], "kind": "clinic", "move": str(old["id"])},
        follow_redirects=False,
    )
    assert resp.status_code == 303 and "moved=1" in resp.headers["location"]
    with rt.db.session() as db:
        was = db.get(Appointment, old["id"])
        assert was is not None and was.status is AppointmentStatus.CANCELLED
        new = db.scalar(
            select(Appointment).where(
                Appointment.elder_id == world.elder_a.id,
                Appointment.status == AppointmentStatus.BOOKED,
            )
        )
        assert new is not None and new.slot_id == second.id
        freed = db.get(Slot, first.id)
        assert freed is not None and freed.booked == 0
    subjects = [m.subject for m in mails(rt) if m.recipient == son.email]
    assert any("moved" in s or "改到" in s for s in subjects), subjects


def test_family_cancels_on_the_page(
    client: TestClient, rt: Runtime, world: World, gp: int, son: User
) -> None:
    slot = free_slot(rt)
    visit = client.post(
        "/api/appointments",
        json={"slot_id": slot.id, "elder_id": world.elder_a.id, "idempotency_key": "c-1"},
        headers=bearer(client, world.family_a.email),
    ).json()
    login(client, world.family_a)
    home = page(client, "/family")
    resp = client.post(
        f"/appointments/{visit['id']}/cancel-visit",
        data={"csrf": csrf(home)},
        follow_redirects=False,
    )
    assert resp.status_code == 303
    assert f'id="visit-{visit["id"]}"' not in page(client, "/family")
    cancelled = [m for m in mails(rt) if "cancel" in m.subject or "取消" in m.subject]
    assert [m.recipient for m in cancelled] == [son.email]


def test_operator_finds_the_caller_and_books(
    client: TestClient, rt: Runtime, world: World, gp: int
) -> None:
    login(client, world.operator_a)
    assert 'id="hotline-book"' in page(client, "/operator")
    found = page(client, "/appointments/book?q=王")
    assert f'id="elder-{world.elder_a.id}"' in found
    assert f'id="elder-{world.elder_b.id}"' not in page(client, "/appointments/book?q=Marg")
    page(client, f"/appointments/book?elder={world.elder_b.id}", status=404)  # another area
    slot = free_slot(rt)
    confirm = page(client, walk_and_hold(client, world.elder_a.id, slot))
    hold = re.search(r'name="hold" value="(\d+)"', confirm)
    assert hold
    resp = client.post(
        "/appointments/book/confirm",
        data={"csrf": csrf(confirm), "hold": hold[1], "kind": "clinic"},
        follow_redirects=False,
    )
    assert resp.status_code == 303
    with rt.db.session() as db:
        visit = db.scalar(select(Appointment).where(Appointment.slot_id == slot.id))
        assert visit is not None and visit.booked_by.value == "operator"
    emailed = [m.recipient for m in mails(rt)]
    assert world.family_a.email in emailed  # the operator is not family: the daughter is told


def _book_soonest(client: TestClient, rt: Runtime, world: World, kind: str) -> tuple[dict, Slot]:
    """A visit within the next 12 hours if there is a slot then, else the first one."""
    with rt.db.session() as db:
        slot = db.scalars(
            select(Slot).where(Slot.booked == 0, Slot.starts_at > utcnow()).order_by(Slot.starts_at)
        ).first()
        assert slot is not None
    visit = client.post(
        "/api/appointments",
        json={
            "slot_id": slot.id,
            "elder_id": world.elder_a.id,
            "idempotency_key": uuid.uuid4().hex,
            "kind": kind,
        },
        headers=bearer(client, world.family_a.email),
    ).json()
    return visit, slot


def test_doctor_day_list_marks_arrived_and_no_show(
    client: TestClient,
    rt: Runtime,
    world: World,
    gp: int,
    son: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:

    visit, slot = _book_soonest(client, rt, world, "video")
    # The clinic marks on the visit's day: let the check see the visit as today's.
    monkeypatch.setattr(visits_module, "MARK_AHEAD", timedelta(days=3))
    day = slot.starts_at.astimezone(SHANGHAI).date()
    login(client, world.doctor_a)
    day_list = page(client, f"/clinic?day={day.isoformat()}")
    assert f'id="visit-{visit["id"]}"' in day_list and "王秀英" in day_list
    assert f'id="video-{visit["id"]}"' in day_list  # Start video visit
    assert 'id="clinic-day-link"' in page(client, "/doctor")
    resp = client.post(
        f"/clinic/appointments/{visit['id']}/mark",
        data={"csrf": csrf(day_list), "status": "arrived"},
        follow_redirects=False,
    )
    assert resp.status_code == 303
    assert "arrived" in page(client, f"/clinic?day={day.isoformat()}")
    with rt.db.session() as db:
        row = db.get(Appointment, visit["id"])
        assert row is not None and row.status is AppointmentStatus.ARRIVED
    # An arrived visit cannot be a no-show; a booked one can, and the family hears of it.
    headers = bearer(client, world.doctor_a.email)
    wrong = client.post(
        f"/api/appointments/{visit['id']}/status", json={"status": "no_show"}, headers=headers
    )
    assert wrong.status_code == 409
    other, _ = _book_soonest(client, rt, world, "clinic")
    done = client.post(
        f"/api/appointments/{other['id']}/status", json={"status": "no_show"}, headers=headers
    )
    assert done.status_code == 200 and done.json()["status"] == "no_show"
    told = [m for m in mails(rt) if "did not come" in m.subject or "没有去" in m.subject]
    assert {m.recipient for m in told} == {world.family_a.email, son.email}
    login(client, world.doctor_a)
    counts = page(client, f"/clinic?day={day.isoformat()}")
    assert 'class="no-show"' in counts


def test_marks_and_the_day_list_are_the_clinics_own(
    client: TestClient, rt: Runtime, world: World, gp: int
) -> None:
    visit, slot = _book_soonest(client, rt, world, "clinic")
    day = slot.starts_at.astimezone(SHANGHAI).date()
    login(client, world.doctor_b)
    assert f'id="visit-{visit["id"]}"' not in page(client, f"/clinic?day={day.isoformat()}")
    for role, code in (("doctor_b", 404), ("family_a", 403), ("operator_a", 403)):
        resp = client.post(
            f"/api/appointments/{visit['id']}/status",
            json={"status": "arrived"},
            headers=bearer(client, world.user(role).email),
        )
        assert resp.status_code == code, (role, resp.text)
    for role in ("family_a", "operator_a", "admin"):
        login(client, world.user(role))
        assert client.get("/clinic", headers=HTML).status_code == 403
    login(client, world.family_b)
    page(client, f"/appointments/book?elder={world.elder_a.id}", status=404)
    page(client, f"/appointments/booked/{visit['id']}", status=404)


def test_clinic_staff_edit_hours_with_inline_errors_and_close_telling_families(
    client: TestClient, rt: Runtime, world: World, gp: int, son: User
) -> None:
    with rt.db.session() as db:
        staff = make_user(db, Role.CLINIC_STAFF, clinic_id=world.clinic_a.id)
        db.commit()
        db.refresh(staff)
        db.expunge(staff)
    slot = free_slot(rt, 3)
    client.post(
        "/api/appointments",
        json={"slot_id": slot.id, "elder_id": world.elder_a.id, "idempotency_key": "z-1"},
        headers=bearer(client, world.family_a.email),
    )
    login(client, staff)
    assert client.get("/", follow_redirects=False).headers["location"] == "/clinic"
    hours = page(client, "/clinic/hours")
    bad = client.post(
        "/clinic/hours",
        data={
            "csrf": csrf(hours),
            "doctor_id": str(world.doctor_a.id),
            "department_id": str(gp),
            "weekday": "5",
            "start": "18:00",
            "end": "17:00",
            "slot_minutes": "15",
            "capacity": "1",
            "kinds": "clinic",
        },
        headers=HTML,
    )
    assert bad.status_code == 422
    assert 'id="hours-err-new"' in bad.text and 'aria-invalid="true"' in bad.text
    assert 'value="18:00"' in bad.text  # what was typed stays
    good = client.post(
        "/clinic/hours",
        data={
            "csrf": csrf(hours),
            "doctor_id": str(world.doctor_a.id),
            "department_id": str(gp),
            "weekday": "5",
            "start": "18:00",
            "end": "19:00",
            "slot_minutes": "20",
            "capacity": "2",
            "kinds": "video",
        },
        follow_redirects=False,
    )
    assert good.status_code == 303
    with rt.db.session() as db:
        added = db.scalar(select(OpeningHours).where(OpeningHours.start_minute == 18 * 60))
        assert added is not None and added.capacity == 2 and added.kinds == "video"
    local = slot.starts_at.astimezone(SHANGHAI)
    closed = client.post(
        "/clinic/closures",
        data={
            "csrf": csrf(hours),
            "doctor_id": "",
            "starts_at": local.replace(hour=0, minute=0).strftime("%Y-%m-%dT%H:%M"),
            "ends_at": local.replace(hour=23, minute=59).strftime("%Y-%m-%dT%H:%M"),
            "reason": "Staff training",
        },
        follow_redirects=False,
    )
    assert closed.status_code == 303 and "told=1" in closed.headers["location"]
    assert 'id="told"' in page(client, closed.headers["location"])
    told = [m for m in mails(rt) if "Staff training" in m.body]
    assert {m.recipient for m in told} == {world.family_a.email, son.email}
    wrong = client.post(
        "/clinic/closures",
        data={"csrf": csrf(hours), "starts_at": "tomorrow", "ends_at": "", "reason": ""},
        headers=HTML,
    )
    assert wrong.status_code == 422 and 'id="closure-err"' in wrong.text


def test_the_video_visit_page_is_the_visits_doctors_alone(
    client: TestClient, rt: Runtime, world: World, gp: int
) -> None:
    visit, slot = _book_soonest(client, rt, world, "video")
    day = slot.starts_at.astimezone(SHANGHAI).date().isoformat()
    login(client, world.doctor_a)
    # The day list's button takes the doctor to the visit's call page, which rings the TV.
    assert f'href="/clinic/video/{visit["id"]}"' in page(client, f"/clinic?day={day}")
    html = page(client, f"/clinic/video/{visit['id']}")
    assert 'data-ring-now="1"' in html and f"Video visit with {world.elder_a.name}" in html
    assert f"Ringing {world.elder_a.name}" in html and "did not answer. You can ring again" in html
    # After its ring (a reload) the page does not ring by itself: "Ring again" does.
    again = page(client, f"/clinic/video/{visit['id']}?rung=1")
    assert "data-ring-now" not in again and 'id="start-call"' in again
    zh = client.get(f"/clinic/video/{visit['id']}?lang=zh", headers=HTML).text
    assert f"与{world.elder_a.name}的视频问诊" in zh and "再呼叫一次" in zh
    with rt.db.session() as db:
        staff = make_user(db, Role.CLINIC_STAFF, clinic_id=world.clinic_a.id)
        db.commit()
        db.expunge(staff)
    login(client, staff)
    assert f'id="video-{visit["id"]}"' not in page(client, f"/clinic?day={day}")
    assert client.get(f"/clinic/video/{visit['id']}", headers=HTML).status_code == 403
    for role, code in (
        ("doctor_b", 404),
        ("family_a", 403),
        ("operator_a", 403),
        ("admin", 403),
    ):
        login(client, world.user(role))
        resp = client.get(f"/clinic/video/{visit['id']}", headers=HTML)
        assert resp.status_code == code, role
    client.cookies.clear()
    anonymous = client.get(f"/clinic/video/{visit['id']}", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    login(client, world.doctor_a)
    for bad, code in (("0", 422), ("999999", 404), ("x", 422), ("99999999999999999999", 422)):
        assert client.get(f"/clinic/video/{bad}", headers=HTML).status_code == code, bad
    at_clinic, _slot = _book_soonest(client, rt, world, "clinic")
    assert client.get(f"/clinic/video/{at_clinic['id']}", headers=HTML).status_code == 409
