"""Ending an elder's service: the box goes back to its unpaired screen, no reminder alerts,
invitations stop working, and the record stays readable."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from server.links import LinkRefusal, LinkRefused, issue_link, peek_link
from server.models import AuditEntry, Device, Elder, LinkPurpose
from server.reminders.sweep import run_sweep
from server.runtime import Runtime
from tests.conftest import ARTIFACTS, bearer
from tests.server.test_permissions import paired_device
from tests.server.test_reminders_sweep import add_plan
from tests.support.box import BoxProcess, paired_box
from tests.support.live_server import DemoServer
from tests.support.world import PASSWORD, World

ROLES = ["family_a", "doctor_a", "operator_a", "operator_b", "admin"]
EXPECT = {"operator_a": 200, "admin": 200, "operator_b": 404, "doctor_a": 403, "family_a": 403}
SHOTS = ARTIFACTS / "screenshots"


@pytest.mark.parametrize("role", ROLES)
def test_deactivate_and_reactivate_by_role(
    client: TestClient, world: World, role: str, rt: Runtime
) -> None:
    headers = bearer(client, world.user(role).email)
    resp = client.post(f"/api/elders/{world.elder_a.id}/deactivate", headers=headers)
    assert resp.status_code == EXPECT[role], resp.text
    with rt.db.session() as db:
        elder = db.get(Elder, world.elder_a.id)
        assert elder is not None and elder.is_active is (resp.status_code != 200)
    back = client.post(f"/api/elders/{world.elder_a.id}/reactivate", headers=headers)
    assert back.status_code == EXPECT[role]
    if back.status_code == 200:
        assert back.json()["is_active"] is True and back.json()["deactivated_at"] is None


def test_deactivation_revokes_boxes_keeps_the_record_and_stops_invitations(
    client: TestClient, world: World, rt: Runtime
) -> None:
    device_id = paired_device(client, world)
    with rt.db.session() as db:
        token, _ = issue_link(
            db,
            rt.settings.secret_key,
            LinkPurpose.INVITE,
            "son@example.com",
            elder_id=world.elder_a.id,
        )
        db.commit()
    headers = bearer(client, world.operator_a.email)
    resp = client.post(f"/api/elders/{world.elder_a.id}/deactivate", headers=headers)
    assert resp.status_code == 200
    assert resp.json()["is_active"] is False and resp.json()["deactivated_at"]
    with rt.db.session() as db:
        device = db.get(Device, device_id)
        assert device is not None and device.revoked_at is not None
        with pytest.raises(LinkRefused) as refused:
            peek_link(db, rt.settings.secret_key, LinkPurpose.INVITE, token)
        assert refused.value.reason is LinkRefusal.INACTIVE
        actions = {a.action for a in db.query(AuditEntry).filter_by(elder_id=world.elder_a.id)}
        assert {"elder.deactivate", "device.revoked"} <= actions
    # The record stays: readable, in the list under "service ended", not under "active".
    assert client.get(f"/api/elders/{world.elder_a.id}", headers=headers).status_code == 200
    client.post("/login", data={"email": world.operator_a.email, "password": PASSWORD})
    html = {"accept": "text/html", "accept-language": "en"}
    active = client.get("/elders", headers=html)
    assert world.elder_a.name not in active.text
    ended = client.get("/elders", params={"status": "deactivated"}, headers=html)
    assert world.elder_a.name in ended.text and "Service ended" in ended.text
    page = client.get(f"/elders/{world.elder_a.id}/edit", headers=html)
    assert page.status_code == 200 and 'id="reactivate"' in page.text
    # No new box for an ended service.
    code = client.post("/api/pairing/requests", json={}).json()["code"]
    claim = client.post(
        "/api/pairing/claim",
        json={"code": code, "elder_id": world.elder_a.id},
        headers=bearer(client, world.family_a.email),
    )
    assert claim.status_code == 409 and "service has ended" in claim.json()["detail"]
    # The family still sees their elder, marked as such.
    client.post("/login", data={"email": world.family_a.email, "password": PASSWORD})
    family = client.get("/family", headers=html)
    assert world.elder_a.name in family.text and "Service ended" in family.text


def test_page_deactivation_needs_the_form_token(client: TestClient, world: World) -> None:
    client.post("/login", data={"email": world.operator_a.email, "password": PASSWORD})
    url = f"/elders/{world.elder_a.id}/deactivate"
    assert client.post(url, data={"csrf": "x"}, headers={"accept": "text/html"}).status_code == 403


def test_no_missed_dose_alert_for_a_deactivated_elder(
    client: TestClient, world: World, rt: Runtime
) -> None:
    since = datetime.now(UTC) - timedelta(hours=2)
    local_now = datetime.now(UTC) + timedelta(hours=8) - timedelta(minutes=40)
    add_plan(
        rt,
        world.elder_a.id,
        (local_now.time().replace(microsecond=0),),
        since,
        start=local_now.date(),
    )
    headers = bearer(client, world.operator_a.email)
    assert client.post(f"/api/elders/{world.elder_a.id}/deactivate", headers=headers).is_success
    assert run_sweep(rt, datetime.now(UTC)) == [], "no one is alerted for an ended service"


@pytest.fixture
def server(tmp_path: Path, db_url: str) -> Iterator[DemoServer]:
    live = DemoServer(db_url, tmp_path / "server")
    live.start()
    yield live
    live.stop()


@pytest.fixture
def box(tmp_path: Path, server: DemoServer) -> Iterator[BoxProcess]:
    process = BoxProcess(tmp_path / "box", server.url, lang="en")
    yield process
    process.stop()


@pytest.mark.e2e
def test_a_paired_box_shows_its_unpaired_screen_after_deactivation(
    box: BoxProcess, server: DemoServer
) -> None:
    _, elder = paired_box(box, server)
    operator = server.login(("operator@demo.anxin", "demo-operator"))
    server._call("POST", f"/api/elders/{elder['id']}/deactivate", operator)
    unpaired = box.wait_state("pairing after deactivation", screen="pairing", paired=False)
    assert unpaired["link_state"] in ("pairing", "connecting", "online", "offline")
    # It says who ended it and why, not "your family disconnected this TV".
    assert unpaired["pairing_title"] == "这台电视的照护服务已结束"  # the elder speaks Chinese
    SHOTS.mkdir(parents=True, exist_ok=True)
    box.screenshot(SHOTS / "tvbox-pairing-after-deactivation.png")
    assert server.elder(operator, elder["id"])["is_active"] is False
