"""Service areas and clinics have a time zone the administrator chooses (a list of common
zones by name, or any IANA zone typed); an unknown zone is refused (422) with a clear message,
and staff pages then show times in it."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from protocol import SosSource
from server.models import AuditEntry, Clinic, ServiceArea, SosAlert
from server.runtime import Runtime
from tests.conftest import bearer
from tests.server.admin_support import HTML, page_login, post_form
from tests.support.world import World

BAD_ZONES = ["Mars/Olympus_Mons", "Asia/Shanghai ; drop", "../../etc/passwd", "x" * 65, "UTC+8"]


def test_the_api_keeps_a_valid_zone_and_defaults_to_beijing(
    client: TestClient, world: World
) -> None:
    admin = bearer(client, world.admin.email)
    made = client.post(
        "/api/admin/clinics", json={"name": "West", "timezone": "Asia/Urumqi"}, headers=admin
    )
    assert made.status_code == 201, made.text
    assert made.json()["timezone"] == "Asia/Urumqi"
    plain = client.post("/api/admin/areas", json={"name": "North"}, headers=admin)
    assert plain.status_code == 201 and plain.json()["timezone"] == "Asia/Shanghai"
    moved = client.patch(
        f"/api/admin/areas/{plain.json()['id']}", json={"timezone": "Europe/London"}, headers=admin
    )
    assert moved.status_code == 200 and moved.json()["timezone"] == "Europe/London"
    renamed = client.patch(
        f"/api/admin/areas/{plain.json()['id']}", json={"name": "North 2"}, headers=admin
    )
    assert renamed.json()["timezone"] == "Europe/London", "a change of name keeps the zone"
    clinic = client.patch(
        f"/api/admin/clinics/{world.clinic_a.id}", json={"timezone": None}, headers=admin
    )
    assert clinic.status_code == 200 and clinic.json()["timezone"] == "Asia/Shanghai"


@pytest.mark.parametrize("zone", BAD_ZONES)
def test_the_api_refuses_an_unknown_zone(
    client: TestClient, rt: Runtime, world: World, zone: str
) -> None:
    admin = bearer(client, world.admin.email)
    for method, path in (
        ("post", "/api/admin/areas"),
        ("post", "/api/admin/clinics"),
        ("patch", f"/api/admin/areas/{world.area_a.id}"),
        ("patch", f"/api/admin/clinics/{world.clinic_a.id}"),
    ):
        body = {"name": f"Zone test {method}", "timezone": zone}
        resp = getattr(client, method)(path, json=body, headers=admin)
        assert resp.status_code == 422, (path, resp.text)
        assert "timezone" in resp.text, "the answer names the field"
    with rt.db.session() as db:
        assert db.get(ServiceArea, world.area_a.id).timezone == "Asia/Shanghai"  # type: ignore[union-attr]
        assert db.scalar(select(Clinic).where(Clinic.name.like("Zone test%"))) is None


def test_the_clinic_form_offers_common_zones_and_takes_a_typed_one(
    client: TestClient, rt: Runtime, world: World
) -> None:
    page_login(client, world.admin.email)
    form = client.get(f"/admin/clinics/{world.clinic_a.id}?lang=en", headers=HTML).text
    assert 'name="timezone"' in form and 'name="timezone_other"' in form
    assert ">Beijing time · Asia/Shanghai</option>" in form
    assert "Hong Kong time · Asia/Hong_Kong" in form

    picked = post_form(
        client,
        f"/admin/clinics/{world.clinic_a.id}",
        {"name": "Clinic A", "timezone": "Asia/Hong_Kong", "timezone_other": ""},
    )
    assert picked.status_code == 303
    typed = post_form(
        client,
        f"/admin/clinics/{world.clinic_a.id}",
        {"name": "Clinic A", "timezone": "", "timezone_other": "America/Chicago"},
    )
    assert typed.status_code == 303
    with rt.db.session() as db:
        assert db.get(Clinic, world.clinic_a.id).timezone == "America/Chicago"  # type: ignore[union-attr]
        changes = db.scalars(
            select(AuditEntry.detail).where(AuditEntry.target == f"clinic:{world.clinic_a.id}")
        ).all()
        assert any("timezone" in c for c in changes), "the change is on the audit log"
    again = client.get(f"/admin/clinics/{world.clinic_a.id}?lang=en", headers=HTML).text
    assert 'value="America/Chicago"' in again, "a typed zone shows in the field it was typed in"


def test_a_bad_zone_in_the_area_form_is_shown_again_with_the_message(
    client: TestClient, rt: Runtime, world: World
) -> None:
    page_login(client, world.admin.email)
    resp = post_form(
        client,
        f"/admin/areas/{world.area_a.id}?lang=en",
        {"name": "Area A", "timezone": "", "timezone_other": "Mars/Olympus_Mons"},
    )
    assert resp.status_code == 422
    assert "Not a time zone this server knows: Mars/Olympus_Mons" in resp.text
    assert 'value="Mars/Olympus_Mons"' in resp.text, "what was typed is kept"
    zh = post_form(
        client,
        f"/admin/areas/{world.area_a.id}?lang=zh",
        {"name": "Area A", "timezone": "", "timezone_other": "Mars/Olympus_Mons"},
    )
    assert zh.status_code == 422 and "服务器不认识这个时区" in zh.text
    with rt.db.session() as db:
        assert db.get(ServiceArea, world.area_a.id).timezone == "Asia/Shanghai"  # type: ignore[union-attr]


def test_a_doctors_times_follow_the_clinics_zone(
    client: TestClient, rt: Runtime, world: World
) -> None:
    """The session list of the account page, in the clinic's zone, never "UTC"."""
    with rt.db.session() as db:
        clinic = db.get(Clinic, world.clinic_a.id)
        assert clinic is not None
        clinic.timezone = "Europe/London"
        db.commit()
    page_login(client, world.doctor_a.email)
    page = client.get("/account?lang=en", headers=HTML).text
    shown = re.search(r"started (\d{4}-\d\d-\d\d \d\d:\d\d)", page)
    assert shown is not None, page
    at = datetime.strptime(shown[1], "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo("Europe/London"))
    assert abs((datetime.now(UTC) - at).total_seconds()) < 120, "the log-in just now, London time"
    assert "UTC" not in page
    assert "London time" in page, "the zone is named when the viewer's own is not known"


def test_the_operators_sos_board_reads_in_the_areas_zone(
    client: TestClient, rt: Runtime, world: World
) -> None:
    raised = datetime(2026, 7, 1, 12, 0, 5, tzinfo=UTC)  # 13:00:05 in London (summer time)
    with rt.db.session() as db:
        area = db.get(ServiceArea, world.area_a.id)
        assert area is not None
        area.timezone = "Europe/London"
        db.add(
            SosAlert(
                key="tz-1",
                elder_id=world.elder_a.id,
                source=SosSource.RED_KEY,
                raised_at=raised,
                stored_at=raised,
            )
        )
        db.commit()
    page_login(client, world.operator_a.email)
    board = client.get("/operator?lang=en", headers=HTML).text
    assert re.search(r"2026-07-01 13:00(</time>)? \(London time\)", board), board
    assert "UTC" not in board
    client.cookies.clear()
    page_login(client, world.family_a.email)
    family = client.get("/family?lang=en", headers=HTML).text
    assert "2026-07-01 20:00" in family, "the family reads it in the elder's own zone"
