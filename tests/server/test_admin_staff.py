"""Staff accounts: created with a set-your-password e-mail, scoped, refused, deactivated."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.websockets import WebSocketDisconnect

from protocol import ClientKind, Hello, Role, Welcome
from server.core.config import Settings
from server.links import peek_link
from server.models import AreaSupervisor, AuditEntry, LinkPurpose, User
from server.runtime import Runtime
from tests.conftest import bearer
from tests.server.admin_support import HTML, page_login, post_form
from tests.support.smtp import Mailbox, smtp_server
from tests.support.sockets import recv, send
from tests.support.world import World


@pytest.fixture
def mail() -> Iterator[tuple[Mailbox, int]]:
    with smtp_server() as found:
        yield found


@pytest.fixture
def settings(db_url: str, tmp_path: Path, mail: tuple[Mailbox, int]) -> Settings:
    """This module's server sends its e-mail to a real local SMTP server."""
    return Settings(
        database_url=db_url,
        data_dir=tmp_path / "data",
        smtp_host="127.0.0.1",
        smtp_port=mail[1],
        scheduler_enabled=False,
    )


def new_doctor_form(world: World, **changes: str) -> dict[str, str]:
    form = {
        "name": "张医生",
        "email": "Zhang.Doctor@Example.com",
        "phone": "138-0000",
        "lang": "zh",
        "role": "doctor",
        "organisation_clinic": str(world.clinic_a.id),
    }
    form.update(changes)
    return form


def test_a_new_doctor_gets_an_email_whose_link_sets_the_password(
    client: TestClient, world: World, rt: Runtime, mail: tuple[Mailbox, int]
) -> None:
    page_login(client, world.admin.email)
    resp = post_form(client, "/admin/staff/new", new_doctor_form(world))
    assert resp.status_code == 200, resp.text
    assert 'id="created"' in resp.text and "zhang.doctor@example.com" in resp.text
    assert 'id="set-password-url"' not in resp.text, "mail works: the link is not shown"
    [message] = mail[0].wait(1)
    assert message["To"] == "zhang.doctor@example.com"
    assert message["Subject"] == "您的安心账号：请设置密码"
    body = message.get_content()
    token = re.search(r"/reset-password/([^\s?]+)", body)
    assert token, body
    with rt.db.session() as db:
        link = peek_link(db, rt.settings.secret_key, LinkPurpose.RESET, token.group(1))
        user = db.scalar(select(User).where(User.email == "zhang.doctor@example.com"))
        assert user is not None and link.user_id == user.id
        assert user.role is Role.DOCTOR and user.clinic_id == world.clinic_a.id
        assert not user.password_hash.startswith("$argon2"), "no usable password yet"
        audit = db.scalar(select(AuditEntry).where(AuditEntry.action == "admin.user.create"))
        assert audit is not None and audit.target == f"user:{user.id}"
    # the staff list finds the new doctor by part of the e-mail
    listing = client.get("/admin/staff?q=zhang&active=all", headers=HTML).text
    assert "张医生" in listing and world.clinic_a.name in listing


BAD_STAFF = [
    ({"name": ""}, "name", "Please fill this in."),
    ({"email": "not-an-email"}, "email", "not an e-mail address"),
    ({"email": ""}, "email", "Please fill this in."),
    ({"email": "DOCTOR-DUPLICATE"}, "email", "already exists"),
    ({"role": "family"}, "role", "Choose one of the options."),
    ({"role": "wizard"}, "role", "Choose one of the options."),
    ({"organisation_clinic": ""}, "organisation_id", "Choose the clinic"),
    ({"organisation_clinic": "4242"}, "organisation_id", "does not exist"),
    ({"organisation_clinic": "1e3"}, "organisation_id", "does not exist"),
    # an operator needs an area: the clinic select does not count for that role
    ({"role": "operator"}, "organisation_id", "Choose the service area"),
    ({"lang": "fr"}, "lang", "Choose one of the options."),
]


@pytest.mark.parametrize(("changes", "field", "message"), BAD_STAFF)
def test_a_bad_staff_form_is_shown_again_with_message_and_input(
    client: TestClient, world: World, changes: dict[str, str], field: str, message: str
) -> None:
    page_login(client, world.admin.email)
    if changes.get("email") == "DOCTOR-DUPLICATE":
        changes = {"email": world.doctor_b.email.upper()}
    form = new_doctor_form(world, **changes)
    resp = post_form(client, "/admin/staff/new", form)
    assert resp.status_code in (409, 422), resp.text
    assert f'id="{field}-error"' in resp.text and message in resp.text
    if form["name"]:
        assert f'value="{form["name"]}"' in resp.text
    assert 'value="138-0000"' in resp.text


def test_the_api_refuses_a_role_and_organisation_that_do_not_fit(
    client: TestClient, world: World, rt: Runtime
) -> None:
    headers = bearer(client, world.admin.email)
    meals = client.post(
        "/api/admin/service-points",
        json={"kind": "meal_point", "name": "Canteen", "service_area_id": world.area_a.id},
        headers=headers,
    ).json()["id"]
    body = {
        "name": "Wu",
        "email": "wu@test.anxin",
        "role": "service_worker",
        "organisation_id": meals,
    }
    resp = client.post("/api/admin/users", json=body, headers=headers)
    assert resp.status_code == 422 and "not of the kind" in resp.json()["detail"]
    body["role"] = "meal_staff"
    resp = client.post("/api/admin/users", json=body, headers=headers)
    assert resp.status_code == 201, resp.text
    assert resp.json()["organisation_id"] == meals and resp.json()["set_password_url"] is None
    again = client.post("/api/admin/users", json=body, headers=headers)
    assert again.status_code == 409 and "already exists" in again.json()["detail"]
    bad = client.post(
        "/api/admin/users", json={**body, "email": "x@@y", "role": "admin"}, headers=headers
    )
    assert bad.status_code == 422 and "email" in bad.json()["detail"]


def test_an_operator_becomes_area_supervisor_and_moves_area(
    client: TestClient, world: World, rt: Runtime
) -> None:
    page_login(client, world.admin.email)
    form = {
        "name": world.operator_a.name,
        "phone": "",
        "lang": "en",
        "role": "operator",
        "organisation_area": str(world.area_a.id),
        "supervisor": "on",
    }
    resp = post_form(client, f"/admin/staff/{world.operator_a.id}", form)
    assert resp.status_code == 303, resp.text

    def supervised() -> list[int]:
        with rt.db.session() as db:
            return list(
                db.scalars(
                    select(AreaSupervisor.service_area_id).where(
                        AreaSupervisor.user_id == world.operator_a.id
                    )
                )
            )

    assert supervised() == [world.area_a.id]
    page = client.get(f"/admin/staff/{world.operator_a.id}", headers=HTML).text
    assert 'id="supervisor" checked' in page
    headers = bearer(client, world.admin.email)
    moved = client.patch(
        f"/api/admin/users/{world.operator_a.id}",
        json={"organisation_id": world.area_b.id},
        headers=headers,
    )
    assert moved.status_code == 200 and moved.json()["organisation_id"] == world.area_b.id
    assert moved.json()["supervisor"] is True and supervised() == [world.area_b.id]
    doctor = client.patch(
        f"/api/admin/users/{world.operator_a.id}",
        json={"role": "doctor", "organisation_id": world.clinic_b.id},
        headers=headers,
    )
    assert doctor.json()["role"] == "doctor" and supervised() == []


def test_deactivation_ends_sessions_and_live_pages_at_once(
    client: TestClient, world: World, rt: Runtime
) -> None:
    token = bearer(client, world.operator_a.email)["Authorization"].removeprefix("Bearer ")
    other = TestClient(client.app)
    page_login(other, world.operator_a.email)
    assert other.get("/operator", headers=HTML, follow_redirects=False).status_code == 200
    page_login(client, world.admin.email)
    with client.websocket_connect("/ws/web") as ws:
        send(ws, Hello(client=ClientKind.WEB, token=token))
        assert isinstance(recv(ws), Welcome)
        resp = post_form(client, f"/admin/staff/{world.operator_a.id}/deactivate", {})
        assert resp.status_code == 303
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()  # the server closes the live page: nothing else arrives
        assert closed.value.code == 4401
    after = other.get("/operator", headers=HTML, follow_redirects=False)
    assert after.status_code == 303 and after.headers["location"].startswith("/login")
    refused = other.post(
        "/login",
        data={"email": world.operator_a.email, "password": "correct horse battery"},
        follow_redirects=False,
    )
    assert refused.status_code != 303 or refused.headers["location"].startswith("/login")
    page = client.get(f"/admin/staff/{world.operator_a.id}", headers=HTML).text
    assert 'id="inactive-note"' in page and 'id="reactivate"' in page
    back = post_form(client, f"/admin/staff/{world.operator_a.id}/reactivate", {})
    assert back.status_code == 303
    page_login(other, world.operator_a.email)
    assert other.get("/operator", headers=HTML, follow_redirects=False).status_code == 200


def test_an_admin_cannot_deactivate_themselves_or_the_last_admin(
    client: TestClient, world: World
) -> None:
    page_login(client, world.admin.email)
    resp = post_form(client, f"/admin/staff/{world.admin.id}/deactivate", {})
    assert resp.status_code == 409 and "your own account" in resp.text
    headers = bearer(client, world.admin.email)
    second = client.post(
        "/api/admin/users",
        json={"name": "Second", "email": "second@test.anxin", "role": "admin"},
        headers=headers,
    ).json()["id"]
    demote = client.patch(
        f"/api/admin/users/{world.admin.id}",
        json={"role": "operator", "organisation_id": world.area_a.id},
        headers=headers,
    )
    assert demote.status_code == 409 and "your own" in demote.json()["detail"]
    off = client.post(f"/api/admin/users/{second}/deactivate", headers=headers)
    assert off.status_code == 200 and off.json()["is_active"] is False
    assert client.get(f"/api/admin/users/{world.family_a.id}", headers=headers).status_code == 404
