"""The permission matrix: every role against every endpoint, including cross-family access."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from protocol import Role
from server.models import ServicePoint, ServicePointKind
from server.runtime import Runtime
from tests.conftest import bearer
from tests.server.routes import api_operations
from tests.support.world import World, make_user

ROLES = ["family_a", "family_b", "doctor_a", "doctor_b", "operator_a", "operator_b", "admin"]
SEES_A = {"family_a", "doctor_a", "operator_a", "admin"}


def new_code(client: TestClient) -> str:
    return client.post("/api/pairing/requests", json={}).json()["code"]


def paired_device(client: TestClient, world: World) -> int:
    headers = bearer(client, world.family_a.email)
    body = {"code": new_code(client), "elder_id": world.elder_a.id}
    resp = client.post("/api/pairing/claim", json=body, headers=headers)
    assert resp.status_code == 201, resp.text
    return int(resp.json()["device_id"])


@pytest.mark.parametrize("role", ROLES)
def test_list_shows_only_visible_elders(client: TestClient, world: World, role: str) -> None:
    resp = client.get("/api/elders", headers=bearer(client, world.user(role).email))
    assert resp.status_code == 200
    names = {e["name"] for e in resp.json()}
    expected = set()
    if role in SEES_A:
        expected.add(world.elder_a.name)
    if role.endswith("_b") or role == "admin":
        expected.add(world.elder_b.name)
    assert names == expected


@pytest.mark.parametrize("role", ROLES)
def test_read_elder(client: TestClient, world: World, role: str) -> None:
    headers = bearer(client, world.user(role).email)
    resp = client.get(f"/api/elders/{world.elder_a.id}", headers=headers)
    if role in SEES_A:
        assert resp.status_code == 200
        assert resp.json()["contacts"][0]["name"] == "李娜"
    else:
        assert resp.status_code == 404, "another family's elder must look like it does not exist"
        assert "李娜" not in resp.text


EDIT_EXPECT = {"family_a": 200, "admin": 200, "doctor_a": 403, "operator_a": 403}


@pytest.mark.parametrize("role", ROLES)
def test_update_elder(client: TestClient, world: World, role: str) -> None:
    headers = bearer(client, world.user(role).email)
    resp = client.patch(
        f"/api/elders/{world.elder_a.id}", json={"address": "1 New Road"}, headers=headers
    )
    assert resp.status_code == EDIT_EXPECT.get(role, 404)
    after = client.get(f"/api/elders/{world.elder_a.id}", headers=bearer(client, world.admin.email))
    changed = after.json()["address"] == "1 New Road"
    assert changed == (resp.status_code == 200)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"speech_rate_wpm": 20}, "greater than or equal to 80"),
        ({"speech_rate_wpm": 500}, "less than or equal to 220"),
        ({"speech_volume_pct": 0}, "greater than or equal to 20"),
        ({"speech_volume_pct": "loud"}, "valid integer"),
    ],
)
def test_speech_settings_out_of_range_are_refused(
    client: TestClient, world: World, change: dict[str, object], why: str
) -> None:
    headers = bearer(client, world.family_a.email)
    resp = client.patch(f"/api/elders/{world.elder_a.id}", json=change, headers=headers)
    assert resp.status_code == 422 and why in resp.text
    after = client.get(f"/api/elders/{world.elder_a.id}", headers=headers).json()
    assert (after["speech_rate_wpm"], after["speech_volume_pct"]) == (140, 100)


def test_doctor_may_edit_care_notes_only(client: TestClient, world: World) -> None:
    headers = bearer(client, world.doctor_a.email)
    ok = client.patch(
        f"/api/elders/{world.elder_a.id}", json={"care_notes": "BP 150/90"}, headers=headers
    )
    assert ok.status_code == 200
    assert ok.json()["care_notes"] == "BP 150/90"
    speech = client.patch(
        f"/api/elders/{world.elder_a.id}", json={"speech_rate_wpm": 110}, headers=headers
    )
    assert speech.status_code == 403  # how the TV speaks is the family's call
    other = client.patch(
        f"/api/elders/{world.elder_b.id}", json={"care_notes": "x"}, headers=headers
    )
    assert other.status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_list_devices(client: TestClient, world: World, role: str) -> None:
    device_id = paired_device(client, world)
    resp = client.get(
        f"/api/elders/{world.elder_a.id}/devices", headers=bearer(client, world.user(role).email)
    )
    if role in SEES_A:
        assert resp.status_code == 200
        assert [d["id"] for d in resp.json()] == [device_id]
    else:
        assert resp.status_code == 404


AUDIT_EXPECT = {"family_a": 200, "admin": 200, "doctor_a": 403, "operator_a": 403}


@pytest.mark.parametrize("role", ROLES)
def test_read_audit_log(client: TestClient, world: World, role: str) -> None:
    client.get(f"/api/elders/{world.elder_a.id}", headers=bearer(client, world.doctor_a.email))
    resp = client.get(
        f"/api/elders/{world.elder_a.id}/audit", headers=bearer(client, world.user(role).email)
    )
    assert resp.status_code == AUDIT_EXPECT.get(role, 404)
    if resp.status_code == 200:
        reads = [e for e in resp.json() if e["action"] == "elder.read"]
        assert reads[0]["actor_user_id"] == world.doctor_a.id, "the doctor's read is on record"


CLAIM_EXPECT = {"family_a": 201, "admin": 201, "doctor_a": 403, "operator_a": 403}


@pytest.mark.parametrize("role", ROLES)
def test_claim_pairing_code(client: TestClient, world: World, role: str) -> None:
    body = {"code": new_code(client), "elder_id": world.elder_a.id}
    resp = client.post(
        "/api/pairing/claim", json=body, headers=bearer(client, world.user(role).email)
    )
    assert resp.status_code == CLAIM_EXPECT.get(role, 404)


REVOKE_EXPECT = {"family_a": 204, "admin": 204, "doctor_a": 403, "operator_a": 403}


@pytest.mark.parametrize("role", ROLES)
def test_revoke_device(client: TestClient, world: World, role: str) -> None:
    device_id = paired_device(client, world)
    resp = client.delete(
        f"/api/devices/{device_id}", headers=bearer(client, world.user(role).email)
    )
    assert resp.status_code == REVOKE_EXPECT.get(role, 404)
    devices = client.get(
        f"/api/elders/{world.elder_a.id}/devices", headers=bearer(client, world.admin.email)
    ).json()
    assert (devices[0]["revoked_at"] is not None) == (resp.status_code == 204)


@pytest.mark.parametrize("role", ROLES)
def test_people_are_not_boxes(client: TestClient, world: World, role: str) -> None:
    resp = client.get("/api/box/me", headers=bearer(client, world.user(role).email))
    assert resp.status_code == 401


PAGES = {
    "/family": {"family_a", "family_b"},
    "/doctor": {"doctor_a", "doctor_b"},
    "/operator": {"operator_a", "operator_b", "admin"},
    # booking a clinic visit: the family for their elders, operators for the area's (hotline)
    "/appointments/book": {"family_a", "family_b", "operator_a", "operator_b"},
    # community meals: the care centre's page (the area's operators); the meal point's page
    # is its meal staff's (tests/server/test_meals_pages.py)
    "/meals/area": {"operator_a", "operator_b"},
    "/meals/kitchen": set(),
    # administration (role tests of every admin page and route: tests/server/test_admin_roles.py)
    "/admin": {"admin"},
    "/admin/areas": {"admin"},
    "/admin/staff": {"admin"},
    "/admin/audit": {"admin"},
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", sorted(PAGES))
def test_pages_by_role(client: TestClient, world: World, role: str, page: str) -> None:
    form = {"email": world.user(role).email, "password": "correct horse battery"}
    assert client.post("/login", data=form, follow_redirects=False).status_code == 303
    resp = client.get(page, headers={"accept": "text/html"}, follow_redirects=False)
    assert resp.status_code == (200 if role in PAGES[page] else 403)
    if resp.status_code == 200 and role != "admin":
        other = world.elder_b.name if role.endswith("_a") else world.elder_a.name
        own = world.elder_a.name if role.endswith("_a") else world.elder_b.name
        assert own in resp.text
        assert other not in resp.text, "a page never shows another family's elder"


# An elder's record (tests/server/test_doctor_record.py has the rest): their clinic's doctor
# reads it; another clinic's doctor finds no such elder; every other role is refused.
RECORD_EXPECT = {"doctor_a": 200, "doctor_b": 404}


@pytest.mark.parametrize("role", ROLES)
def test_elder_record_by_role(client: TestClient, world: World, role: str) -> None:
    form = {"email": world.user(role).email, "password": "correct horse battery"}
    assert client.post("/login", data=form, follow_redirects=False).status_code == 303
    resp = client.get(f"/doctor/elders/{world.elder_a.id}", headers={"accept": "text/html"})
    assert resp.status_code == RECORD_EXPECT.get(role, 403)
    assert (world.elder_a.name in resp.text) == (resp.status_code == 200)


ANONYMOUS = [
    ("get", "/api/elders"),
    ("get", "/api/elders/1"),
    ("patch", "/api/elders/1"),
    ("get", "/api/elders/1/devices"),
    ("get", "/api/elders/1/audit"),
    # the care centre's register (role tests: tests/server/test_elder_*.py)
    ("post", "/api/elders"),
    ("post", "/api/elders/import"),
    ("get", "/api/elders/export"),
    ("post", "/api/elders/1/deactivate"),
    ("post", "/api/elders/1/reactivate"),
    ("post", "/api/pairing/claim"),
    ("delete", "/api/devices/1"),
    ("get", "/api/box/me"),
    ("get", "/api/auth/me"),
    ("post", "/api/auth/logout"),
    ("get", "/api/calls/1"),
    ("get", "/api/calls/1/fhir"),
    ("get", "/api/elders/1/calls"),
    ("get", "/api/elders/1/call-preference"),
    ("put", "/api/elders/1/call-preference"),
    ("get", "/api/sos/alerts"),
    ("get", "/api/sos/alerts/1"),
    ("post", "/api/sos/alerts/1/acknowledge"),
    ("post", "/api/sos/alerts/1/resolve"),
    ("post", "/api/sos/alerts/1/call"),
    ("get", "/api/sos/stats"),
    ("post", "/api/box/sensor-events"),
    ("get", "/api/sos/check-in/1"),
    ("put", "/api/sos/check-in/1"),
    # medication reminders (full role matrix: tests/server/test_reminders_api.py)
    ("get", "/api/elders/1/medication-plans"),
    ("post", "/api/elders/1/medication-plans"),
    ("get", "/api/medication-plans/1"),
    ("patch", "/api/medication-plans/1"),
    ("get", "/api/elders/1/doses"),
    ("get", "/api/elders/1/adherence"),
    ("get", "/api/elders/1/fhir/medication"),
    ("get", "/api/elders/1/reminder-alerts"),
    ("put", "/api/elders/1/reminder-alerts"),
    # accounts and family invitations (role matrices: tests/server/test_accounts.py and
    # tests/server/test_invitations.py)
    ("get", "/api/auth/sessions"),
    ("delete", "/api/auth/sessions/1"),
    ("post", "/api/auth/password"),
    ("get", "/api/elders/1/family"),
    ("post", "/api/elders/1/invitations"),
    ("delete", "/api/elders/1/family/me"),
    ("delete", "/api/elders/1/family/1"),
    ("delete", "/api/invitations/1"),
    # administration (full role matrix: tests/server/test_admin_roles.py)
    ("get", "/api/admin/areas"),
    ("post", "/api/admin/areas"),
    ("get", "/api/admin/areas/1"),
    ("patch", "/api/admin/areas/1"),
    ("get", "/api/admin/clinics"),
    ("post", "/api/admin/clinics"),
    ("get", "/api/admin/clinics/1"),
    ("patch", "/api/admin/clinics/1"),
    ("get", "/api/admin/service-points"),
    ("post", "/api/admin/service-points"),
    ("get", "/api/admin/service-points/1"),
    ("patch", "/api/admin/service-points/1"),
    ("get", "/api/admin/users"),
    ("post", "/api/admin/users"),
    ("get", "/api/admin/users/1"),
    ("patch", "/api/admin/users/1"),
    ("post", "/api/admin/users/1/deactivate"),
    ("post", "/api/admin/users/1/reactivate"),
    ("get", "/api/admin/audit"),
    # appointments (role matrix: tests/server/test_appointments_api.py)
    ("get", "/api/clinics/1/departments"),
    ("post", "/api/clinics/1/departments"),
    ("get", "/api/clinics/1/opening-hours"),
    ("post", "/api/clinics/1/opening-hours"),
    ("patch", "/api/opening-hours/1"),
    ("delete", "/api/opening-hours/1"),
    ("get", "/api/clinics/1/closures"),
    ("post", "/api/clinics/1/closures"),
    ("delete", "/api/closures/1"),
    ("get", "/api/appointments/slots"),
    ("post", "/api/appointments/holds"),
    ("delete", "/api/appointments/holds/1"),
    ("post", "/api/appointments"),
    ("get", "/api/appointments"),
    ("get", "/api/appointments/1"),
    ("post", "/api/appointments/1/cancel"),
    # FHIR (role matrix and OperationOutcome bodies: tests/server/test_appointments_fhir.py)
    ("post", "/fhir/Slot/$find"),
    ("get", "/fhir/Slot"),
    ("post", "/fhir/Appointment/$find"),
    ("post", "/fhir/Appointment/$hold"),
    ("post", "/fhir/Appointment/$book"),
    ("post", "/fhir/Appointment/$cancel"),
    ("post", "/fhir/Appointment"),
    ("get", "/fhir/Appointment"),
    ("get", "/fhir/Appointment/1"),
    ("put", "/fhir/Appointment/1"),
    ("post", "/api/appointments/1/move"),
    ("post", "/api/appointments/1/status"),
    ("patch", "/api/elders/1/visit-travel"),  # matrix: tests/server/test_appointments_box.py
    ("post", "/api/appointments/1/video-call"),  # matrix: tests/server/test_appointments_box.py
    # meals (role matrices: tests/server/test_meals_api.py and test_meals_money.py)
    ("get", "/api/meals/points/1"),
    ("put", "/api/meals/points/1/settings"),
    ("get", "/api/meals/points/1/menus"),
    ("post", "/api/meals/points/1/menus"),
    ("post", "/api/meals/points/1/menus/copy-week"),
    ("get", "/api/meals/points/1/production"),
    ("get", "/api/meals/points/1/production.csv"),
    ("get", "/api/meals/points/1/deliveries"),
    ("get", "/api/meals/points/1/deliveries.csv"),
    ("post", "/api/meals/orders/1/handover"),
    ("get", "/api/meals/elders/1/diet"),
    ("put", "/api/meals/elders/1/diet"),
    ("put", "/api/meals/elders/1/preferred-point"),
    ("get", "/api/meals/elders/1/points"),
    ("get", "/api/meals/elders/1/offer"),
    ("get", "/api/meals/elders/1/orders"),
    ("get", "/api/meals/elders/1/statement"),
    ("post", "/api/meals/orders"),
    ("get", "/api/meals/orders/1"),
    ("patch", "/api/meals/orders/1"),
    ("post", "/api/meals/orders/1/cancel"),
    ("get", "/api/meals/elders/1/standing-orders"),
    ("post", "/api/meals/elders/1/standing-orders"),
    ("delete", "/api/meals/standing-orders/1"),
    ("post", "/api/meals/elders/1/skips"),
    ("get", "/api/meals/elders/1/subsidies"),
    ("put", "/api/meals/elders/1/subsidies"),
    ("get", "/api/meals/areas/1/subsidy-categories"),
    ("post", "/api/meals/areas/1/subsidy-categories"),
    ("patch", "/api/meals/subsidy-categories/1"),
    ("get", "/api/meals/areas/1/orders-per-point"),
    ("get", "/api/meals/areas/1/subsidy-claim.csv"),
    ("get", "/api/box/meals"),
    ("post", "/api/box/meals/orders"),
    ("post", "/api/box/meals/orders/1/cancel"),
    ("post", "/api/box/meals/skips"),
]
OPEN = {
    "/healthz",
    "/api/auth/login",
    "/api/auth/password-reset",
    "/api/pairing/requests",
    "/api/pairing/status",
}


@pytest.mark.parametrize(("method", "path"), ANONYMOUS)
def test_anonymous_callers_are_refused(
    client: TestClient, world: World, method: str, path: str
) -> None:
    resp = client.request(method.upper(), path, json={})
    assert resp.status_code == 401


@pytest.mark.parametrize("page", [*sorted(PAGES), "/doctor/elders/1"])
def test_anonymous_pages_redirect_to_login(client: TestClient, page: str) -> None:
    resp = client.get(page, follow_redirects=False)
    assert resp.status_code == 303
    assert resp.headers["location"].startswith("/login")


def test_every_api_route_is_in_the_matrix(client: TestClient) -> None:
    covered = {p for _, p in ANONYMOUS} | OPEN
    covered_templates = (
        {p.replace("/1", "/{elder_id}") for p in covered}
        | {p.replace("/1", "/{device_id}") for p in covered}
        | {p.replace("/1", "/{call_id}") for p in covered}
        | {p.replace("/1", "/{plan_id}") for p in covered}
        | {p.replace("/1", "/{alert_id}") for p in covered}
        | {p.replace("/1", "/{session_id}") for p in covered}
        | {p.replace("/1", "/{invitation_id}") for p in covered}
        | {p.replace("/1/family/1", "/{elder_id}/family/{user_id}") for p in covered}
        | {p.replace("/1", "/{area_id}") for p in covered}
        | {p.replace("/1", "/{clinic_id}") for p in covered}
        | {p.replace("/1", "/{point_id}") for p in covered}
        | {p.replace("/1", "/{user_id}") for p in covered}
        | {p.replace("/1", "/{hours_id}") for p in covered}
        | {p.replace("/1", "/{closure_id}") for p in covered}
        | {p.replace("/1", "/{hold_id}") for p in covered}
        | {p.replace("/1", "/{appointment_id}") for p in covered}
        | {p.replace("/1", "/{id}") for p in covered}
        | {p.replace("/1", "/{order_id}") for p in covered}
        | {p.replace("/1", "/{standing_id}") for p in covered}
        | {p.replace("/1", "/{category_id}") for p in covered}
    )
    operations = api_operations(client.app)
    assert len(operations) >= 13
    missing = sorted({path for _, path in operations if path not in covered_templates})
    assert missing == [], f"add these routes to the permission matrix: {missing}"


# Staff of the features still to come (clinic staff, meal point staff, service workers): a
# role scoped to one organisation, which today grants nothing beyond their own account.
NEW_STAFF = {
    Role.CLINIC_STAFF: "clinic_id",
    Role.MEAL_STAFF: "service_point_id",
    Role.SERVICE_WORKER: "service_point_id",
}


@pytest.mark.parametrize("role", sorted(NEW_STAFF, key=str))
def test_staff_of_coming_features_see_no_elder_and_no_administration(
    client: TestClient, rt: Runtime, world: World, role: Role
) -> None:
    with rt.db.session() as db:
        point = ServicePoint(kind=ServicePointKind.MEAL_POINT, name="Meal point A")
        db.add(point)
        db.flush()
        scope = {"clinic_id": world.clinic_a.id, "service_point_id": point.id}
        user = make_user(db, role, **{NEW_STAFF[role]: scope[NEW_STAFF[role]]})
        db.commit()
        email = user.email
    headers = bearer(client, email)
    assert client.get("/api/elders", headers=headers).json() == []
    assert client.get(f"/api/elders/{world.elder_a.id}", headers=headers).status_code == 404
    for path in ("/api/admin/users", "/api/admin/areas", "/api/admin/audit"):
        assert client.get(path, headers=headers).status_code == 403, path
    alerts = client.get("/api/sos/alerts", headers=headers).json()
    assert not (alerts.get("alerts") if isinstance(alerts, dict) else alerts), alerts
    form = {"email": email, "password": "correct horse battery"}
    landed = client.post("/login", data=form, follow_redirects=False)
    # Clinic staff have their clinic's day list (appointments), meal staff their meal point's
    # page (meals); service workers their account.
    homes = {Role.CLINIC_STAFF: "/clinic", Role.MEAL_STAFF: "/meals/kitchen"}
    assert landed.headers["location"] == homes.get(role, "/account")
    assert client.get("/account", headers={"accept": "text/html"}).status_code == 200
    for page in ("/family", "/doctor", "/operator", "/admin", "/elders", "/elders/import"):
        resp = client.get(page, headers={"accept": "text/html"}, follow_redirects=False)
        assert resp.status_code == 403, page
