"""The audit log page and API: newest first, filtered by actor, action, elder and dates."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from server.audit import record
from server.models import AuditEntry
from server.runtime import Runtime
from tests.conftest import bearer
from tests.server.admin_support import HTML, page_login, post_form
from tests.support.world import World


def add_entries(rt: Runtime, world: World) -> None:
    """Three entries on three days (Beijing time), by two people."""
    with rt.db.session() as db:
        for action, user, elder, at in (
            (
                "elder.read",
                world.doctor_a,
                world.elder_a.id,
                datetime(2026, 3, 1, 2, 0, tzinfo=UTC),
            ),
            (
                "sos.acknowledged",
                world.operator_a,
                world.elder_a.id,
                datetime(2026, 3, 2, 20, 0, tzinfo=UTC),
            ),
            (
                "elder.read",
                world.operator_b,
                world.elder_b.id,
                datetime(2026, 3, 4, 1, 0, tzinfo=UTC),
            ),
        ):
            record(db, action, elder, user=user, detail=f"{action} by {user.name}")
            db.flush()
            entry = db.query(AuditEntry).order_by(AuditEntry.id.desc()).first()
            assert entry is not None
            entry.at = at


def shown(html: str) -> list[str]:
    return [line for line in html.splitlines() if 'class="audit-entry"' in line]


def test_the_audit_page_filters_by_actor_action_and_dates(
    client: TestClient, world: World, rt: Runtime
) -> None:
    add_entries(rt, world)
    page_login(client, world.admin.email)
    everything = client.get("/admin/audit", headers=HTML).text
    assert len(shown(everything)) == 3
    # newest first, with the human label and the raw code
    assert everything.index(world.operator_b.email) < everything.index(world.doctor_a.email)
    assert "Elder record read" in everything and "elder.read" in everything
    assert "Times in Beijing time" in everything
    by_actor = client.get(f"/admin/audit?actor={world.doctor_a.email[:8]}", headers=HTML).text
    assert len(shown(by_actor)) == 1 and world.doctor_a.email in by_actor
    by_action = client.get("/admin/audit?action=sos.acknowledged", headers=HTML).text
    assert len(shown(by_action)) == 1 and world.operator_a.email in by_action
    by_prefix = client.get("/admin/audit?action=elder.", headers=HTML).text
    assert len(shown(by_prefix)) == 2
    # 2026-03-02 20:00 UTC is 2026-03-03 04:00 in Beijing
    by_day = client.get("/admin/audit?from=2026-03-03&to=2026-03-03", headers=HTML).text
    assert len(shown(by_day)) == 1 and "2026-03-03 04:00:00" in by_day
    by_elder = client.get(f"/admin/audit?elder={world.elder_b.id}", headers=HTML).text
    assert len(shown(by_elder)) == 1
    bad = client.get("/admin/audit?from=March&elder=abc", headers=HTML)
    assert bad.status_code == 422 and 'id="from-error"' in bad.text
    assert 'id="elder-error"' in bad.text and 'value="March"' in bad.text


def test_the_audit_api_filters_the_same_way(client: TestClient, world: World, rt: Runtime) -> None:
    add_entries(rt, world)
    headers = bearer(client, world.admin.email)
    entries = client.get("/api/admin/audit", headers=headers).json()
    assert [e["action"] for e in entries][:3] == ["elder.read", "sos.acknowledged", "elder.read"]
    some = client.get("/api/admin/audit?from=2026-03-01&to=2026-03-02", headers=headers).json()
    assert [e["actor"] for e in some] == [world.doctor_a.email]
    assert client.get("/api/admin/audit?from=yesterday", headers=headers).status_code == 422


def test_admin_actions_are_audited_with_their_target(
    client: TestClient, world: World, rt: Runtime
) -> None:
    page_login(client, world.admin.email)
    post_form(client, f"/admin/areas/{world.area_a.id}/deactivate", {})
    page = client.get("/admin/audit?action=admin.", headers=HTML).text
    assert "Service area deactivated" in page and f"area:{world.area_a.id}" in page
    target = client.get(f"/admin/audit?target=area:{world.area_a.id}", headers=HTML).text
    assert len(shown(target)) == 1


def test_without_a_mail_server_the_admin_sees_the_set_password_link(
    client: TestClient, world: World
) -> None:
    page_login(client, world.admin.email)
    form = {
        "name": "Kim",
        "email": "kim@test.anxin",
        "lang": "en",
        "role": "admin",
    }
    resp = post_form(client, "/admin/staff/new", form)
    assert resp.status_code == 200 and 'id="no-mail"' in resp.text
    assert "/reset-password/" in resp.text
    api = client.post(
        "/api/admin/users",
        json={"name": "Lee", "email": "lee@test.anxin", "role": "admin"},
        headers=bearer(client, world.admin.email),
    )
    assert "/reset-password/" in api.json()["set_password_url"]


def test_the_audit_page_reads_in_the_administrators_own_zone(
    client: TestClient, rt: Runtime, world: World
) -> None:
    """The browser said London (zone.js's cookie): times and date filters are London's."""
    with rt.db.session() as db:
        db.add(
            AuditEntry(
                # 23:30 on 1 July in London, already 2 July (06:30) in Beijing
                at=datetime(2026, 7, 1, 22, 30, tzinfo=UTC),
                action="admin.area.create",
                elder_id=None,
                target="area:99",
                detail="name=Zone test",
            )
        )
        db.commit()
    page_login(client, world.admin.email)
    client.cookies.set("anxin_tz", "Europe/London")
    page = client.get("/admin/audit?lang=en&target=area:99", headers=HTML).text
    assert "2026-07-01 23:30:00" in page and "Times in London time (Europe/London)" in page
    assert "UTC" not in page
    on_the_1st = client.get("/admin/audit?lang=en&target=area:99&to=2026-07-01", headers=HTML)
    assert "2026-07-01 23:30:00" in on_the_1st.text, "the date filter reads London days"
    on_the_2nd = client.get("/admin/audit?lang=en&target=area:99&from=2026-07-02", headers=HTML)
    assert "2026-07-01 23:30:00" not in on_the_2nd.text
