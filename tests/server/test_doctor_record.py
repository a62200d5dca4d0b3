"""The doctor's elder list (search, 25 a page, by name) and an elder's record: its sections
with data and empty, the audit row of every read, and who may not read it."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from protocol import CallKind, DoseOutcome, PlanStatus, Schedule, SosSource, SosStatus
from server.elders.doctor_pages import PAGE_SIZE
from server.models import (
    AuditEntry,
    Call,
    CallStatus,
    DoseRecord,
    MedicationPlan,
    SosAlert,
    SosOutcome,
)
from server.runtime import Runtime
from tests.support.world import PASSWORD, World, make_device, make_elder

HTML = {"accept": "text/html"}


def log_in(client: TestClient, email: str) -> None:
    client.cookies.clear()
    form = {"email": email, "password": PASSWORD}
    assert client.post("/login", data=form, follow_redirects=False).status_code == 303


def names_on(page: str) -> list[str]:
    return re.findall(r'class="elder-name">([^<]+)</a>', page)


def test_the_list_is_by_name_25_a_page_and_searchable(
    client: TestClient, rt: Runtime, world: World
) -> None:
    with rt.db.session() as db:
        for i in reversed(range(30)):
            make_elder(db, name=f"Chen {i:02d}", clinic_id=world.clinic_a.id)
        make_elder(db, name="Chen 99 (ended)", clinic_id=world.clinic_a.id, is_active=False)
        db.commit()
    log_in(client, world.doctor_a.email)
    first = client.get("/doctor?lang=en", headers=HTML)
    assert first.status_code == 200
    shown = names_on(first.text)
    assert len(shown) == PAGE_SIZE
    chens = [n for n in shown if n.startswith("Chen")]
    assert chens == sorted(chens) and chens[0] == "Chen 00"
    assert "Elders: 31" in first.text  # 30 + 王秀英; an elder whose service ended is not listed
    assert world.elder_b.name not in first.text, "another clinic's elder is never listed"
    assert 'id="next-page"' in first.text and 'id="prev-page"' not in first.text

    second = client.get("/doctor?lang=en&page=2", headers=HTML).text
    rest = names_on(second)
    assert len(rest) == 31 - PAGE_SIZE and not set(rest) & set(shown)
    assert 'id="prev-page"' in second and 'id="next-page"' not in second

    found = names_on(client.get("/doctor?lang=en&q=chen+1", headers=HTML).text)
    assert found == [f"Chen {i}" for i in range(10, 20)]
    none = client.get("/doctor?lang=en&q=Nobody", headers=HTML)
    assert none.status_code == 200
    assert "No elder of your clinic is called “Nobody”." in none.text
    for odd in ("page=0", "page=-3", "page=abc", "page=99999999999999", "q=" + "x" * 500):
        assert client.get(f"/doctor?{odd}", headers=HTML).status_code == 200, odd


def test_each_row_says_box_sos_and_last_consult_in_the_clinics_time(
    client: TestClient, rt: Runtime, world: World
) -> None:
    with rt.db.session() as db:
        _, device_id = make_device(db, world.elder_a)
        at = datetime(2026, 3, 1, 1, 30, tzinfo=UTC)  # 09:30 in Beijing
        db.add(consult(world, device_id, at, notes="", outcome=""))
        db.add(sos(world, at, SosStatus.OPEN))
        db.commit()
    log_in(client, world.doctor_a.email)
    page = client.get("/doctor?lang=en", headers=HTML).text
    row = re.search(rf'<tr id="elder-{world.elder_a.id}".*?</tr>', page, re.S)
    assert row is not None
    assert "Open SOS" in row[0] and "2026-03-01 09:30" in row[0] and "Offline" in row[0]
    assert "UTC" not in page


def consult(world: World, device_id: int, at: datetime, *, notes: str, outcome: str) -> Call:
    return Call(
        kind=CallKind.CONSULT,
        status=CallStatus.ENDED,
        elder_id=world.elder_a.id,
        device_id=device_id,
        clinic_id=world.clinic_a.id,
        user_id=world.doctor_a.id,
        requested_at=at,
        answered_at=at + timedelta(minutes=1),
        ended_at=at + timedelta(minutes=13),
        notes=notes,
        outcome=outcome,
    )


def sos(
    world: World, at: datetime, status: SosStatus, outcome: SosOutcome | None = None
) -> SosAlert:
    return SosAlert(
        key=f"k-{at.timestamp()}-{status.value}",
        elder_id=world.elder_a.id,
        source=SosSource.RED_KEY,
        status=status,
        raised_at=at,
        stored_at=at,
        resolved_at=at + timedelta(minutes=20) if outcome else None,
        resolved_by_id=world.operator_a.id if outcome else None,
        outcome=outcome,
        note="Neighbour helped her up" if outcome else "",
    )


def test_an_empty_record_says_so_in_each_section(
    client: TestClient, rt: Runtime, world: World
) -> None:
    log_in(client, world.doctor_a.email)
    page = client.get(f"/doctor/elders/{world.elder_a.id}?lang=en", headers=HTML)
    assert page.status_code == 200
    for words in ("No medicines yet.", "No SOS yet.", "No consults yet.", "No care notes yet."):
        assert words in page.text, words
    zh = client.get(f"/doctor/elders/{world.elder_a.id}?lang=zh", headers=HTML).text
    for words in ("尚无用药计划。", "尚无紧急求助。", "尚无问诊。"):
        assert words in zh, words


def test_a_record_shows_medicines_adherence_sos_and_consults(
    client: TestClient, rt: Runtime, world: World
) -> None:
    now = datetime.now(UTC)
    with rt.db.session() as db:
        _, device_id = make_device(db, world.elder_a)
        start = (now - timedelta(days=10)).date()
        plan = MedicationPlan(
            elder_id=world.elder_a.id,
            medicine="Amlodipine",
            strength="5 mg",
            dose="1 tablet",
            schedule=Schedule(times=(time(8, 0),), start_date=start).model_dump_json(),
            status=PlanStatus.ACTIVE,
            active_since=now - timedelta(days=10),
            created_at=now - timedelta(days=10),
        )
        db.add(plan)
        db.flush()
        for back in (3, 4, 5):
            day: date = start + timedelta(days=back)
            db.add(
                DoseRecord(
                    plan_id=plan.id,
                    elder_id=world.elder_a.id,
                    scheduled_local=f"{day.isoformat()}T08:00:00",
                    scheduled_at=datetime.combine(day, time(0, 0), UTC),
                    outcome=DoseOutcome.TAKEN,
                )
            )
        db.add(sos(world, now - timedelta(days=40), SosStatus.RESOLVED, SosOutcome.HELP_GIVEN))
        db.add(
            consult(
                world,
                device_id,
                datetime(2026, 2, 1, 2, 0, tzinfo=UTC),
                notes="BP 150/90; keep amlodipine",
                outcome="Review in 2 weeks",
            )
        )
        db.commit()
    log_in(client, world.doctor_a.email)
    page = client.get(f"/doctor/elders/{world.elder_a.id}?lang=en", headers=HTML).text
    assert "Amlodipine" in page and "5 mg" in page
    taken = re.search(r"(\d+) of (\d+) doses taken", page)
    assert taken is not None and taken[1] == "3" and int(taken[2]) >= 9
    assert "Help given" in page and "Neighbour helped her up" in page
    assert "BP 150/90; keep amlodipine" in page and "Review in 2 weeks" in page
    assert "2026-02-01 10:00" in page, "the consult at the clinic's time (Beijing)"
    assert world.doctor_a.name in page and "(12 min)" in page
    for words in ("No medicines yet.", "No SOS yet.", "No consults yet."):
        assert words not in page
    assert "UTC" not in page


def test_every_record_read_is_audited(client: TestClient, rt: Runtime, world: World) -> None:
    log_in(client, world.doctor_a.email)
    for _ in range(2):
        assert client.get(f"/doctor/elders/{world.elder_a.id}", headers=HTML).status_code == 200
    with rt.db.session() as db:
        rows = db.scalars(
            select(AuditEntry).where(AuditEntry.action == "elder.record_viewed")
        ).all()
    assert [(r.elder_id, r.actor_user_id) for r in rows] == [
        (world.elder_a.id, world.doctor_a.id)
    ] * 2


def test_another_clinics_doctor_finds_no_such_record(
    client: TestClient, rt: Runtime, world: World
) -> None:
    log_in(client, world.doctor_b.email)
    resp = client.get(f"/doctor/elders/{world.elder_a.id}?lang=en", headers=HTML)
    assert resp.status_code == 404
    assert world.elder_a.name not in resp.text
    assert client.get("/doctor/elders/999999", headers=HTML).status_code == 404
    with rt.db.session() as db:
        read = db.scalars(select(AuditEntry).where(AuditEntry.action == "elder.record_viewed"))
        assert read.all() == [], "nothing was shown, so nothing is recorded as read"


@pytest.mark.parametrize(
    ("role", "home"),
    [("family_a", "/family"), ("operator_a", "/operator"), ("admin", "/admin")],
)
def test_other_roles_are_refused_with_a_way_home(
    client: TestClient, world: World, role: str, home: str
) -> None:
    log_in(client, world.user(role).email)
    for path in ("/doctor", f"/doctor/elders/{world.elder_a.id}"):
        resp = client.get(f"{path}?lang=en", headers=HTML)
        assert resp.status_code == 403, path
        assert "This page is not for your role" in resp.text
        assert f'href="{home}"' in resp.text, "the page leads to the user's own home"
        assert world.elder_a.care_notes not in resp.text or not world.elder_a.care_notes
    zh = client.get("/doctor?lang=zh", headers=HTML)
    assert zh.status_code == 403 and "此页面不适用于您的角色" in zh.text
    api = client.get("/doctor", headers={"accept": "application/json"})
    assert api.status_code == 403 and api.json()["code"] == "forbidden"
