"""Clinics that run their own FHIR R4 server: search, book, cancel and the clinic's own changes
against a FHIR server on 127.0.0.1; a clinic that is down, slow or answers garbage; and our own
``/fhir`` operations, with our client tested against our own server."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.appointment import Appointment as FhirAppointment
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome
from sqlalchemy import func, select

from protocol import Lang, SosRaise, SosSource
from server.appointments import booking, fhir_client, fhir_sync
from server.appointments.booking import Booker
from server.appointments.fhir_sync import poll_clinics
from server.core.db import Database
from server.models import (
    Appointment,
    BookedBy,
    Clinic,
    Department,
    Elder,
    OutgoingMessage,
    Slot,
    User,
    VisitKind,
    utcnow,
)
from server.runtime import Runtime
from server.sos.intake import store_sos
from tests.conftest import bearer
from tests.server.test_box_socket import pair_box
from tests.support.databases import migrated_database
from tests.support.fhir_server import FHIR_JSON, FhirTestServer
from tests.support.live_server import LiveServer
from tests.support.waiting import wait_until
from tests.support.world import World, make_world

TOMORROW = (datetime.now(UTC) + timedelta(days=1)).replace(
    hour=1, minute=0, second=0, microsecond=0
)


@pytest.fixture
def clinic_fhir(rt: Runtime, world: World) -> Iterator[FhirTestServer]:
    """Clinic B runs its own FHIR server: doctor B is Practitioner/p1 there, three gp slots."""
    server = FhirTestServer().start()
    sid = server.add_schedule("Practitioner/p1")
    for n in range(3):
        server.add_slot(sid, TOMORROW + timedelta(minutes=20 * n))
    with rt.db.session() as db:
        clinic = db.get(Clinic, world.clinic_b.id)
        assert clinic is not None
        clinic.fhir_base_url = server.base_url
        clinic.fhir_auth_header = "Bearer clinic-secret"
        db.add(Department(clinic_id=clinic.id, code="gp", name_zh="全科", name_en="GP"))
        doctor = db.get(User, world.doctor_b.id)
        assert doctor is not None
        doctor.fhir_practitioner = "Practitioner/p1"
    yield server
    server.stop()


def make_rival_visit(
    rt: Runtime, world: World, slot_id: int, later: timedelta = timedelta(0)
) -> Callable[[], None]:
    """What books elder B, here, into a visit of clinic A at the time of ``slot_id`` (and
    ``later``)."""

    def rival() -> None:
        with rt.db.session() as db:
            mirrored = db.get_one(Slot, slot_id)
            dept = Department(
                clinic_id=world.clinic_a.id, code="eye", name_zh="眼科", name_en="Eye"
            )
            db.add(dept)
            db.flush()
            other = Slot(
                clinic_id=world.clinic_a.id,
                doctor_id=world.doctor_a.id,
                department_id=dept.id,
                starts_at=mirrored.starts_at + later,
                ends_at=mirrored.ends_at + later,
                capacity=1,
                booked=0,
                kinds="clinic",
                closed=False,
            )
            db.add(other)
            db.flush()
            elder = db.get_one(Elder, world.elder_b.id)
            who = Booker(BookedBy.FAMILY, "user:rival", Lang.EN, user_id=world.family_b.id)
            booking.book(db, who, elder, other.id, VisitKind.CLINIC, "rival", utcnow())

    return rival


def search(client: TestClient, headers: dict[str, str], clinic: int) -> httpx.Response:
    return client.get("/api/appointments/slots", params={"clinic": clinic}, headers=headers)


def book(client: TestClient, headers: dict[str, str], slot: int, elder: int, key: str) -> Any:
    body = {"slot_id": slot, "elder_id": elder, "idempotency_key": key}
    return client.post("/api/appointments", json=body, headers=headers)


def count(rt: Runtime, model: Any, *where: Any) -> int:
    with rt.db.session() as db:
        return db.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_search_book_retry_and_cancel_at_the_clinics_own_server(
    client: TestClient, rt: Runtime, world: World, clinic_fhir: FhirTestServer
) -> None:
    family = bearer(client, world.family_b.email)
    found = search(client, family, world.clinic_b.id)
    assert found.status_code == 200, found.text
    slots = found.json()
    assert [s["starts_at"][:16] for s in slots] == [
        (TOMORROW + timedelta(minutes=20 * n)).isoformat()[:16] for n in range(3)
    ]
    assert {s["doctor_id"] for s in slots} == {world.doctor_b.id}
    assert slots[0]["department_code"] == "gp"

    key = uuid.uuid4().hex
    made = book(client, family, slots[0]["id"], world.elder_b.id, key)
    assert made.status_code == 201, made.text
    # What the clinic received is a valid R4 Appointment naming the elder, doctor and slot.
    sent = FhirAppointment.model_validate(clinic_fhir.received[-1])
    assert sent.status == "booked" and sent.slot[0].reference.startswith("Slot/slot")
    actors = [p.actor for p in sent.participant]
    assert actors[0].identifier.value == str(world.elder_b.id)
    assert actors[1].reference == "Practitioner/p1"
    assert sent.identifier[0].value == f"user:{world.family_b.id}:{key}"
    (remote,) = clinic_fhir.appointments.values()
    with rt.db.session() as db:
        visit = db.get(Appointment, made.json()["id"])
        assert visit is not None and visit.remote_id == remote.id
    # The slot is gone from the search; a retried booking is the first one, booked once.
    assert slots[0]["id"] not in [s["id"] for s in search(client, family, world.clinic_b.id).json()]
    again = book(client, family, slots[0]["id"], world.elder_b.id, key)
    assert again.status_code == 200 and again.json()["id"] == made.json()["id"]
    assert len(clinic_fhir.appointments) == 1

    gone = client.post(f"/api/appointments/{made.json()['id']}/cancel", json={}, headers=family)
    assert gone.status_code == 200 and gone.json()["status"] == "cancelled"
    assert clinic_fhir.appointments[remote.id].status == "cancelled"
    FhirAppointment.model_validate(clinic_fhir.received[-1])
    assert count(rt, Slot, Slot.id == slots[0]["id"], Slot.booked == 0) == 1


@pytest.mark.parametrize("mode", ["down", "garbage", "invalid"])
def test_a_clinic_that_fails_books_nothing_anywhere(
    client: TestClient, rt: Runtime, world: World, clinic_fhir: FhirTestServer, mode: str
) -> None:
    family = bearer(client, world.family_b.email)
    slot = search(client, family, world.clinic_b.id).json()[0]
    clinic_fhir.mode = mode
    refused = search(client, family, world.clinic_b.id)
    assert refused.status_code == 503
    assert refused.json()["code"] == "clinic_unavailable"
    assert refused.json()["detail"].startswith("Clinic B is not answering just now")
    made = book(client, family, slot["id"], world.elder_b.id, uuid.uuid4().hex)
    assert made.status_code == 503 and made.json()["code"] == "clinic_unavailable"
    assert count(rt, Appointment) == 0
    assert count(rt, Slot, Slot.booked > 0) == 0
    assert not clinic_fhir.appointments
    # The family reads Chinese just as well.
    with rt.db.session() as db:
        user = db.get(User, world.family_b.id)
        assert user is not None
        user.lang = "zh"  # type: ignore[assignment]
    zh = book(client, family, slot["id"], world.elder_b.id, uuid.uuid4().hex)
    assert zh.json()["detail"].startswith("Clinic B暂时没有回应")


def test_a_booking_that_timed_out_is_retried_without_booking_twice(
    client: TestClient,
    rt: Runtime,
    world: World,
    clinic_fhir: FhirTestServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    family = bearer(client, world.family_b.email)
    slot = search(client, family, world.clinic_b.id).json()[0]
    monkeypatch.setattr(fhir_client, "TIMEOUT_SECONDS", 0.5)
    clinic_fhir.mode = "book_then_hang"  # the clinic books, then its answer never comes
    key = uuid.uuid4().hex
    late = book(client, family, slot["id"], world.elder_b.id, key)
    assert late.status_code == 503 and late.json()["code"] == "clinic_unavailable"
    assert count(rt, Appointment) == 0 and len(clinic_fhir.appointments) == 1
    clinic_fhir.release()
    clinic_fhir.mode = "ok"
    retried = book(client, family, slot["id"], world.elder_b.id, key)
    assert retried.status_code == 201, retried.text
    assert len(clinic_fhir.appointments) == 1  # the conditional create found the first
    (remote,) = clinic_fhir.appointments.values()
    with rt.db.session() as db:
        visit = db.get(Appointment, retried.json()["id"])
        assert visit is not None and visit.remote_id == remote.id


def test_an_sos_raised_while_a_slow_clinic_books_is_stored_at_once(
    client: TestClient,
    rt: Runtime,
    world: World,
    clinic_fhir: FhirTestServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The clinic is called with no lock of ours held: on SQLite (one writer) a clinic that
    takes its time must not hold up an SOS."""
    family = bearer(client, world.family_b.email)
    slot = search(client, family, world.clinic_b.id).json()[0]
    _, device_id = pair_box(client, world)  # elder A's box, in another home
    monkeypatch.setattr(fhir_client, "TIMEOUT_SECONDS", 5)
    clinic_fhir.mode = "book_then_hang"
    answers: list[httpx.Response] = []
    booking = threading.Thread(
        target=lambda: answers.append(
            book(client, family, slot["id"], world.elder_b.id, uuid.uuid4().hex)
        )
    )
    booking.start()
    try:
        wait_until(lambda: len(clinic_fhir.received) == 1, timeout=10, what="the clinic called")
        started = time.monotonic()
        raised = SosRaise(key=uuid.uuid4().hex, source=SosSource.RED_KEY)
        alert_id, created = store_sos(rt, device_id, raised)
        took = time.monotonic() - started
    finally:
        clinic_fhir.release()
        booking.join(15)
    assert created and alert_id and took < 2.0, took
    assert answers and answers[0].status_code == 201, answers
    (remote,) = clinic_fhir.appointments.values()
    with rt.db.session() as db:
        visit = db.get(Appointment, answers[0].json()["id"])
        assert visit is not None and visit.remote_id == remote.id


def test_a_booking_that_loses_here_after_the_clinic_said_yes_is_cancelled_there(
    client: TestClient, rt: Runtime, world: World, clinic_fhir: FhirTestServer
) -> None:
    family = bearer(client, world.family_b.email)
    slot = search(client, family, world.clinic_b.id).json()[0]
    # While the clinic books, the same elder is booked into an overlapping visit here.
    rival = make_rival_visit(rt, world, slot["id"])
    clinic_fhir.before_create = rival
    made = book(client, family, slot["id"], world.elder_b.id, uuid.uuid4().hex)
    assert made.status_code == 409 and made.json()["code"] == "overlap", made.text
    (remote,) = clinic_fhir.appointments.values()
    assert remote.status == "cancelled"  # the clinic's place is free again
    assert count(rt, Appointment, Appointment.slot_id == slot["id"]) == 0


def test_a_visit_moved_to_an_overlapping_time_at_the_clinics_own_server(
    client: TestClient, rt: Runtime, world: World, clinic_fhir: FhirTestServer
) -> None:
    # Ten minutes later, overlapping the first: the move must not clash with the visit it moves.
    clinic_fhir.add_slot(next(iter(clinic_fhir.schedules)), TOMORROW + timedelta(minutes=10))
    family = bearer(client, world.family_b.email)
    slots = search(client, family, world.clinic_b.id).json()
    first, later = slots[0], slots[1]
    assert later["starts_at"][:16] == (TOMORROW + timedelta(minutes=10)).isoformat()[:16]
    made = book(client, family, first["id"], world.elder_b.id, uuid.uuid4().hex)
    assert made.status_code == 201, made.text
    body = {"slot_id": later["id"], "idempotency_key": uuid.uuid4().hex}
    moved = client.post(f"/api/appointments/{made.json()['id']}/move", json=body, headers=family)
    assert moved.status_code == 201, moved.text
    assert moved.json()["starts_at"][:16] == later["starts_at"][:16]
    by_status = sorted((a.status, a.slot[0].reference) for a in clinic_fhir.appointments.values())
    assert [status for status, _ in by_status] == ["booked", "cancelled"]
    with rt.db.session() as db:
        old = db.get_one(Appointment, made.json()["id"])
        new = db.get_one(Appointment, moved.json()["id"])
        assert old.status == "cancelled" and new.status == "booked"
        assert new.remote_id == next(
            a.id for a in clinic_fhir.appointments.values() if a.status == "booked"
        )


def test_a_booking_stored_at_the_clinic_but_never_completed_here_is_cancelled_there(
    client: TestClient,
    rt: Runtime,
    world: World,
    clinic_fhir: FhirTestServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    family = bearer(client, world.family_b.email)
    slot = search(client, family, world.clinic_b.id).json()[0]
    monkeypatch.setattr(fhir_client, "TIMEOUT_SECONDS", 0.5)
    clinic_fhir.mode = "book_then_hang"
    late = book(client, family, slot["id"], world.elder_b.id, uuid.uuid4().hex)
    assert late.status_code == 503 and count(rt, Appointment) == 0
    clinic_fhir.release()
    clinic_fhir.mode = "ok"
    (remote,) = clinic_fhir.appointments.values()
    poll_clinics(rt)  # too fresh: a booking of ours may still be on its way
    assert clinic_fhir.appointments[remote.id].status == "booked"
    monkeypatch.setattr(fhir_sync, "ORPHAN_GRACE", timedelta(0))
    poll_clinics(rt)
    assert clinic_fhir.appointments[remote.id].status == "cancelled"  # the place is free again
    assert count(rt, Appointment) == 0


@pytest.mark.parametrize("onto_another", [False, True], ids=["free", "onto_another_visit"])
def test_the_clinics_own_changes_reach_our_visit_and_the_family(
    client: TestClient,
    rt: Runtime,
    world: World,
    clinic_fhir: FhirTestServer,
    onto_another: bool,
) -> None:
    family = bearer(client, world.family_b.email)
    slot = search(client, family, world.clinic_b.id).json()[0]
    made = book(client, family, slot["id"], world.elder_b.id, uuid.uuid4().hex).json()
    (remote,) = clinic_fhir.appointments.values()
    if onto_another:  # the elder's eye visit at clinic A, where the clinic's move lands
        make_rival_visit(rt, world, slot["id"], timedelta(hours=3))()
    later = TOMORROW + timedelta(hours=3, minutes=10)
    clinic_fhir.clinic_change(remote.id, start=later, end=later + timedelta(minutes=20))
    assert poll_clinics(rt) == "1 visits changed by their clinics"
    moved = client.get(f"/api/appointments/{made['id']}", headers=family).json()
    assert datetime.fromisoformat(moved["starts_at"]) == later  # the clinic's change stands
    assert poll_clinics(rt) is None  # applied once
    clinic_fhir.clinic_change(remote.id, status="cancelled")
    poll_clinics(rt)
    gone = client.get(f"/api/appointments/{made['id']}", headers=family).json()
    assert gone["status"] == "cancelled"
    with rt.db.session() as db:
        mails = db.execute(
            select(OutgoingMessage.subject, OutgoingMessage.body)
            .where(OutgoingMessage.recipient == world.family_b.email)
            .order_by(OutgoingMessage.id)
        ).all()
    subjects = [subject for subject, _ in mails]
    assert any("visit has changed" in m for m in subjects), subjects
    assert any("cancelled" in m for m in subjects), subjects
    clash = [body for subject, body in mails if "at the same time as another visit" in subject]
    assert len(clash) == onto_another
    if onto_another:  # the family is asked to choose between the two
        assert "Clinic A" in clash[0] and "move or cancel one of the two" in clash[0]


# -- our own /fhir ---------------------------------------------------------------------------


@pytest.fixture
def our_slots(client: TestClient, world: World) -> list[dict[str, Any]]:
    """Clinic A's gp: doctor A every day 09:00–10:00, 30-minute one-place slots."""
    staff = bearer(client, world.doctor_a.email)
    gp = client.post(
        f"/api/clinics/{world.clinic_a.id}/departments",
        json={"code": "gp", "name_zh": "全科", "name_en": "General practice"},
        headers=staff,
    ).json()
    for weekday in range(7):
        client.post(
            f"/api/clinics/{world.clinic_a.id}/opening-hours",
            json={
                "doctor_id": world.doctor_a.id,
                "department_id": gp["id"],
                "weekday": weekday,
                "start": "09:00",
                "end": "10:00",
                "slot_minutes": 30,
                "capacity": 1,
                "kinds": ["clinic", "video"],
            },
            headers=staff,
        )
    found = client.get("/api/appointments/slots", params={"department": "gp"}, headers=staff)
    return found.json()  # type: ignore[no-any-return]


def fhir_post(client: TestClient, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    resp = client.post(path, json=body, headers={**headers, "content-type": FHIR_JSON})
    assert resp.headers["content-type"] == FHIR_JSON
    return resp


def params(*items: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Parameters", "parameter": list(items)}


def test_ihe_find_hold_book_cancel_and_search_on_our_clinics(
    client: TestClient, world: World, our_slots: list[dict[str, Any]]
) -> None:
    operator = bearer(client, world.operator_a.email)
    start = datetime.now(UTC).isoformat()
    end = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    found = fhir_post(
        client,
        "/fhir/Slot/$find",
        params(
            {"name": "start", "valueDateTime": start},
            {"name": "end", "valueDateTime": end},
            {"name": "specialty", "valueCoding": {"code": "gp"}},
            {
                "name": "practitioner",
                "valueReference": {"reference": f"Practitioner/{world.doctor_a.id}"},
            },
        ),
        operator,
    )
    assert found.status_code == 200, found.text
    slots = Bundle.model_validate(found.json())
    assert 4 <= slots.total <= 6 and slots.entry[0].resource.status == "free"
    proposed = fhir_post(
        client,
        "/fhir/Appointment/$find",
        params(
            {"name": "start", "valueDateTime": start},
            {"name": "end", "valueDateTime": end},
            {"name": "patient", "valueReference": {"reference": f"Patient/{world.elder_a.id}"}},
        ),
        operator,
    )
    first = Bundle.model_validate(proposed.json()).entry[0].resource
    assert first.status == "proposed" and first.id == f"proposed-{our_slots[0]['id']}"

    ref = {
        "name": "appointment-reference",
        "valueReference": {"reference": f"Appointment/{first.id}"},
    }
    patient = {"name": "patient", "valueReference": {"reference": f"Patient/{world.elder_a.id}"}}
    held = fhir_post(client, "/fhir/Appointment/$hold", params(ref, patient), operator)
    assert held.status_code == 200, held.text
    pending = Bundle.model_validate(held.json()).entry[0].resource
    assert pending.status == "pending" and pending.id.startswith("hold-")
    hold_ref = {
        "name": "appointment-reference",
        "valueReference": {"reference": f"Appointment/{pending.id}"},
    }
    booked = fhir_post(client, "/fhir/Appointment/$book", params(hold_ref, patient), operator)
    assert booked.status_code == 200, booked.text
    visit = Bundle.model_validate(booked.json()).entry[0].resource
    assert visit.status == "booked" and visit.slot[0].reference == f"Slot/{our_slots[0]['id']}"

    family = bearer(client, world.family_a.email)
    listed = client.get(
        "/fhir/Appointment", params={"patient": f"Patient/{world.elder_a.id}"}, headers=family
    )
    assert [e.resource.id for e in Bundle.model_validate(listed.json()).entry] == [visit.id]
    cancel_ref = {
        "name": "appointment-reference",
        "valueReference": {"reference": f"Appointment/{visit.id}"},
    }
    gone = fhir_post(client, "/fhir/Appointment/$cancel", params(cancel_ref), family)
    assert Bundle.model_validate(gone.json()).entry[0].resource.status == "cancelled"


@pytest.mark.parametrize(
    ("who", "status"),
    [(None, 401), ("family_b", 404), ("doctor_a", 403), ("operator_b", 404), ("admin", 403)],
)
def test_who_may_book_through_fhir(
    client: TestClient, world: World, our_slots: list[dict[str, Any]], who: str | None, status: int
) -> None:
    headers = bearer(client, world.user(who).email) if who else {}
    body = params(
        {
            "name": "appointment-reference",
            "valueReference": {"reference": f"Appointment/proposed-{our_slots[0]['id']}"},
        },
        {"name": "patient", "valueReference": {"reference": f"Patient/{world.elder_a.id}"}},
    )
    resp = fhir_post(client, "/fhir/Appointment/$book", body, headers)
    assert resp.status_code == status, resp.text
    OperationOutcome.model_validate(resp.json())
    if who:
        listed = client.get(
            "/fhir/Appointment", params={"patient": f"Patient/{world.elder_a.id}"}, headers=headers
        )
        assert listed.status_code in (403, 404) or listed.json().get("total") == 0


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/fhir/Slot/$find", "not json"),
        ("/fhir/Slot/$find", {"resourceType": "Parameters", "parameter": [{"valueString": 1}]}),
        ("/fhir/Appointment/$find", {"resourceType": "Patient"}),
        ("/fhir/Appointment/$hold", {"resourceType": "Parameters"}),
        ("/fhir/Appointment/$book", [1, 2]),
        (
            "/fhir/Appointment/$cancel",
            {
                "resourceType": "Parameters",
                "parameter": [
                    {
                        "name": "appointment-reference",
                        "valueReference": {"reference": "Appointment/x²"},
                    }
                ],
            },
        ),
        ("/fhir/Appointment", {"resourceType": "Appointment", "status": "booked"}),
        (
            "/fhir/Appointment",
            {
                "resourceType": "Appointment",
                "status": "nonsense",
                "participant": [{"status": "accepted"}],
            },
        ),
        (
            "/fhir/Slot/$find",
            {
                "resourceType": "Parameters",
                "parameter": [{"name": "start", "valueDateTime": "2020-01-01"}],
            },
        ),
    ],
)
def test_bad_fhir_input_is_a_4xx_operation_outcome(
    client: TestClient, world: World, path: str, body: Any
) -> None:
    headers = bearer(client, world.operator_a.email)
    content = body if isinstance(body, str) else __import__("json").dumps(body)
    resp = client.post(path, content=content, headers={**headers, "content-type": FHIR_JSON})
    assert 400 <= resp.status_code < 500, resp.text
    OperationOutcome.model_validate(resp.json())
    for bad in ("/fhir/Appointment/abc", "/fhir/Appointment/99999999999999999999"):
        got = client.get(bad, headers=headers)
        assert got.status_code == 404
        OperationOutcome.model_validate(got.json())
    slots = client.get("/fhir/Slot", params={"start": "xx2020"}, headers=headers)
    assert slots.status_code == 400


@pytest.fixture
def remote_server(tmp_path: Path) -> Iterator[tuple[LiveServer, World]]:
    """Another Anxin server (its own database) whose clinic A we book through FHIR."""
    with migrated_database(tmp_path) as url:
        database = Database(url)
        with database.session() as db:
            world = make_world(db)
        database.dispose()
        server = LiveServer(db_url=url, data_dir=tmp_path / "remote-server")
        server.start()
        try:
            yield server, world
        finally:
            server.stop()


def point_clinic_b_at(
    rt: Runtime, world: World, remote_server: tuple[LiveServer, World]
) -> tuple[str, LiveServer, World]:
    """Clinic B's schedule is the remote server's clinic A (open daily 09:00-10:00); the
    operator's token that our client books with there."""
    server, remote = remote_server
    admin = server.login(remote.admin.email, "correct horse battery")
    gp = admin.post(
        f"/api/clinics/{remote.clinic_a.id}/departments",
        json={"code": "gp", "name_zh": "全科", "name_en": "GP"},
    ).json()
    for weekday in range(7):
        made = admin.post(
            f"/api/clinics/{remote.clinic_a.id}/opening-hours",
            json={
                "doctor_id": remote.doctor_a.id,
                "department_id": gp["id"],
                "weekday": weekday,
                "start": "09:00",
                "end": "10:00",
                "slot_minutes": 30,
                "capacity": 1,
                "kinds": ["clinic"],
            },
        )
        assert made.status_code == 201, made.text
    login = httpx.post(
        f"{server.url}/api/auth/login",
        json={"email": remote.operator_b.email, "password": "correct horse battery"},
    )
    token = login.json()["access_token"]
    with rt.db.session() as db:
        clinic = db.get(Clinic, world.clinic_b.id)
        assert clinic is not None
        clinic.fhir_base_url = f"{server.url}/fhir"
        clinic.fhir_auth_header = f"Bearer {token}"
        db.add(Department(clinic_id=clinic.id, code="gp", name_zh="全科", name_en="GP"))
        doctor = db.get(User, world.doctor_b.id)
        assert doctor is not None
        doctor.fhir_practitioner = f"Practitioner/{remote.doctor_a.id}"
    return token, server, remote


@pytest.mark.e2e
def test_our_client_books_at_our_own_fhir_server(
    client: TestClient, rt: Runtime, world: World, remote_server: tuple[LiveServer, World]
) -> None:
    token, server, remote = point_clinic_b_at(rt, world, remote_server)
    family = bearer(client, world.family_b.email)
    slots = search(client, family, world.clinic_b.id)
    assert slots.status_code == 200, slots.text
    assert len(slots.json()) >= 20
    made = book(client, family, slots.json()[0]["id"], world.elder_b.id, uuid.uuid4().hex)
    assert made.status_code == 201, made.text
    there = httpx.get(
        f"{server.url}/fhir/Appointment",
        params={"patient": f"Patient/{remote.elder_b.id}"},
        headers={"authorization": f"Bearer {token}"},
    )
    (entry,) = Bundle.model_validate(there.json()).entry
    assert entry.resource.status == "booked"
    gone = client.post(f"/api/appointments/{made.json()['id']}/cancel", json={}, headers=family)
    assert gone.status_code == 200, gone.text
    there = httpx.get(
        f"{server.url}/fhir/Appointment/{entry.resource.id}",
        headers={"authorization": f"Bearer {token}"},
    )
    assert FhirAppointment.model_validate(there.json()).status == "cancelled"


@pytest.mark.e2e
def test_a_clinic_mark_shows_in_a_last_updated_search_and_reaches_us_by_the_poll(
    client: TestClient, rt: Runtime, world: World, remote_server: tuple[LiveServer, World]
) -> None:
    token, server, remote = point_clinic_b_at(rt, world, remote_server)
    family = bearer(client, world.family_b.email)
    slots = search(client, family, world.clinic_b.id).json()
    made = book(client, family, slots[0]["id"], world.elder_b.id, uuid.uuid4().hex)
    assert made.status_code == 201, made.text
    before_mark = datetime.now(UTC)
    with rt.db.session() as db:
        clinic = db.get(Clinic, world.clinic_b.id)
        assert clinic is not None
        clinic.fhir_polled_at = before_mark  # the booking itself is old news to the poll
    doctor = server.login(remote.doctor_a.email, "correct horse battery")
    (theirs,) = doctor.get("/api/appointments", params={"clinic_id": remote.clinic_a.id}).json()
    marked = doctor.post(f"/api/appointments/{theirs['id']}/status", json={"status": "done"})
    assert marked.status_code == 200, marked.text
    after_mark = datetime.now(UTC) + timedelta(seconds=1)
    auth = {"authorization": f"Bearer {token}"}

    def changed(since: datetime) -> list[Any]:
        found = httpx.get(
            f"{server.url}/fhir/Appointment",
            params={"_lastUpdated": f"gt{since.isoformat()}"},
            headers=auth,
        )
        assert found.status_code == 200, found.text
        return [e.resource for e in Bundle.model_validate(found.json()).entry or ()]

    (entry,) = changed(before_mark)
    assert entry.status == "fulfilled" and entry.meta.lastUpdated >= before_mark
    assert changed(after_mark) == []
    # Our own client's poll reads the mark and our visit is done too.
    poll_clinics(rt)
    with rt.db.session() as db:
        visit = db.get(Appointment, made.json()["id"])
        assert visit is not None and visit.status.value == "done"
        assert visit.updated_at > before_mark


@pytest.mark.parametrize(
    ("who", "status"), [("admin", 200), ("doctor_b", 403), ("operator_b", 403), ("family_b", 403)]
)
def test_admin_points_a_clinic_at_its_fhir_server(
    client: TestClient, rt: Runtime, world: World, who: str, status: int
) -> None:
    headers = bearer(client, world.user(who).email)
    path = f"/api/admin/clinics/{world.clinic_b.id}"
    body = {"fhir_base_url": "https://fhir.clinic-b.example/r4/", "fhir_auth_header": "Bearer x"}
    resp = client.patch(path, json=body, headers=headers)
    assert resp.status_code == status, resp.text
    if status != 200:
        return
    assert resp.json()["fhir_base_url"] == "https://fhir.clinic-b.example/r4"
    assert resp.json()["fhir_auth_set"] is True and "Bearer x" not in resp.text
    for bad in ("ftp://x", "https://", "javascript:alert(1)", "https://a b", "http://u:p@h/"):
        refused = client.patch(path, json={"fhir_base_url": bad}, headers=headers)
        assert refused.status_code == 422, bad
        assert refused.json()["errors"][0]["loc"][-1] == "fhir_base_url"
    refused = client.patch(path, json={"fhir_auth_header": "Bearer \n x"}, headers=headers)
    assert refused.status_code == 422
    cleared = client.patch(path, json={"fhir_base_url": ""}, headers=headers)
    assert cleared.json()["fhir_base_url"] is None
