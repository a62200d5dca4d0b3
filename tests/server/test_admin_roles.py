"""Who may use the administration pages and API: administrators only."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import bearer
from tests.server.admin_support import HTML, page_login
from tests.support.world import World

NOT_ADMINS = ["operator_a", "doctor_a", "family_a"]
PAGES = [
    "/admin",
    "/admin/areas",
    "/admin/areas/new",
    "/admin/areas/{area}",
    "/admin/clinics",
    "/admin/clinics/new",
    "/admin/clinics/{clinic}",
    "/admin/service-points",
    "/admin/service-points/new",
    "/admin/service-points/{point}",
    "/admin/staff",
    "/admin/staff/new",
    "/admin/staff/{user}",
    "/admin/audit",
]
FORMS = [
    "/admin/areas/new",
    "/admin/areas/{area}",
    "/admin/areas/{area}/deactivate",
    "/admin/areas/{area}/reactivate",
    "/admin/clinics/new",
    "/admin/clinics/{clinic}",
    "/admin/clinics/{clinic}/deactivate",
    "/admin/clinics/{clinic}/reactivate",
    "/admin/service-points/new",
    "/admin/service-points/{point}",
    "/admin/service-points/{point}/deactivate",
    "/admin/service-points/{point}/reactivate",
    "/admin/staff/new",
    "/admin/staff/{user}",
    "/admin/staff/{user}/deactivate",
    "/admin/staff/{user}/reactivate",
]
API = [
    ("get", "/api/admin/areas", 200),
    ("post", "/api/admin/areas", 201),
    ("get", "/api/admin/areas/{area}", 200),
    ("patch", "/api/admin/areas/{area}", 200),
    ("get", "/api/admin/clinics", 200),
    ("post", "/api/admin/clinics", 201),
    ("get", "/api/admin/clinics/{clinic}", 200),
    ("patch", "/api/admin/clinics/{clinic}", 200),
    ("get", "/api/admin/service-points", 200),
    ("post", "/api/admin/service-points", 201),
    ("get", "/api/admin/service-points/{point}", 200),
    ("patch", "/api/admin/service-points/{point}", 200),
    ("get", "/api/admin/users", 200),
    ("post", "/api/admin/users", 201),
    ("get", "/api/admin/users/{user}", 200),
    ("patch", "/api/admin/users/{user}", 200),
    ("post", "/api/admin/users/{user}/deactivate", 200),
    ("post", "/api/admin/users/{user}/reactivate", 200),
    ("get", "/api/admin/audit", 200),
]
BODIES = {
    "/api/admin/areas": {"name": "新区", "centre_latitude": 39.9, "centre_longitude": 116.4},
    "/api/admin/clinics": {"name": "New clinic"},
    "/api/admin/service-points": {"kind": "meal_point", "name": "New meals"},
    "/api/admin/users": {"name": "New Nurse", "email": "nurse@test.anxin", "role": "admin"},
}


def fill(path: str, world: World) -> str:
    """The path with the world's ids (the user is operator B, whom no test needs active)."""
    return path.format(
        area=world.area_a.id,
        clinic=world.clinic_a.id,
        point=1,
        user=world.operator_b.id,
    )


@pytest.fixture
def point(client: TestClient, world: World) -> int:
    headers = bearer(client, world.admin.email)
    body = {"kind": "care_centre", "name": "Centre A", "service_area_id": world.area_a.id}
    resp = client.post("/api/admin/service-points", json=body, headers=headers)
    assert resp.status_code == 201, resp.text
    assert resp.json()["id"] == 1
    return 1


@pytest.mark.parametrize("page", PAGES)
def test_admin_sees_every_admin_page(
    client: TestClient, world: World, point: int, page: str
) -> None:
    page_login(client, world.admin.email)
    resp = client.get(fill(page, world), headers=HTML, follow_redirects=False)
    assert resp.status_code == 200, resp.text
    assert 'href="/admin/staff"' in resp.text


@pytest.mark.parametrize("role", NOT_ADMINS)
@pytest.mark.parametrize("page", PAGES)
def test_other_roles_are_refused_admin_pages(
    client: TestClient, world: World, point: int, role: str, page: str
) -> None:
    page_login(client, world.user(role).email)
    resp = client.get(fill(page, world), headers=HTML, follow_redirects=False)
    assert resp.status_code == 403


@pytest.mark.parametrize("role", NOT_ADMINS)
@pytest.mark.parametrize("form", FORMS)
def test_other_roles_cannot_post_admin_forms(
    client: TestClient, world: World, point: int, role: str, form: str
) -> None:
    page_login(client, world.user(role).email)
    resp = client.post(
        fill(form, world), data={"name": "x", "csrf": "x"}, headers=HTML, follow_redirects=False
    )
    assert resp.status_code == 403


@pytest.mark.parametrize("page", PAGES + FORMS)
def test_anonymous_is_sent_to_log_in(
    client: TestClient, world: World, point: int, page: str
) -> None:
    method = "POST" if page in FORMS and page not in PAGES else "GET"
    resp = client.request(method, fill(page, world), headers=HTML, follow_redirects=False)
    assert resp.status_code == 303
    assert resp.headers["location"].startswith("/login")


@pytest.mark.parametrize(("method", "path", "status"), API)
def test_admin_uses_the_api(
    client: TestClient, world: World, point: int, method: str, path: str, status: int
) -> None:
    headers = bearer(client, world.admin.email)
    resp = client.request(
        method.upper(), fill(path, world), json=BODIES.get(path, {}), headers=headers
    )
    assert resp.status_code == status, resp.text


@pytest.mark.parametrize("role", NOT_ADMINS)
@pytest.mark.parametrize(("method", "path", "status"), API)
def test_other_roles_are_refused_the_api(
    client: TestClient, world: World, point: int, role: str, method: str, path: str, status: int
) -> None:
    headers = bearer(client, world.user(role).email)
    resp = client.request(
        method.upper(), fill(path, world), json=BODIES.get(path, {}), headers=headers
    )
    assert resp.status_code == 403, resp.text


@pytest.mark.parametrize(("method", "path", "status"), API)
def test_anonymous_is_refused_the_api(
    client: TestClient, world: World, method: str, path: str, status: int
) -> None:
    resp = client.request(method.upper(), fill(path, world), json={})
    assert resp.status_code == 401


def test_an_administrator_lands_on_the_admin_home(client: TestClient, world: World) -> None:
    resp = client.post(
        "/login",
        data={"email": world.admin.email, "password": "correct horse battery"},
        follow_redirects=False,
    )
    assert resp.headers["location"] == "/admin"
