"""Service areas, clinics and service points: saved, listed, refused with a clear message."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tests.conftest import bearer
from tests.server.admin_support import HTML, page_login, post_form
from tests.support.world import World

SQUARE = [[116.3, 39.8], [116.5, 39.8], [116.5, 40.0], [116.3, 40.0], [116.3, 39.8]]


def test_an_area_is_created_with_centre_and_boundary_and_listed(
    client: TestClient, world: World
) -> None:
    page_login(client, world.admin.email)
    boundary = json.dumps({"type": "Polygon", "coordinates": [SQUARE]})
    resp = post_form(
        client,
        "/admin/areas/new",
        {
            "name": "朝阳片区",
            "centre_latitude": "39.92",
            "centre_longitude": "116.44",
            "boundary": boundary,
        },
    )
    assert resp.status_code == 303
    listing = client.get(resp.headers["location"], headers=HTML).text
    assert "朝阳片区" in listing and "39.92000, 116.44000" in listing and 'id="saved"' in listing
    api = client.get("/api/admin/areas", headers=bearer(client, world.admin.email)).json()
    saved = next(a for a in api if a["name"] == "朝阳片区")
    assert json.loads(saved["boundary_geojson"])["coordinates"] == [SQUARE]
    edit = client.get(f"/admin/areas/{saved['id']}", headers=HTML).text
    assert 'data-boundary-input="boundary"' in edit and "/static/map.js" in edit


BAD_AREAS = [
    ({"name": ""}, "name", "Please fill this in."),
    ({"name": "   "}, "name", "Please fill this in."),
    ({"name": "area a"}, "name", "already called"),  # the world's "Area A", any case
    ({"centre_latitude": "91", "centre_longitude": "116"}, "centre_latitude", "between -90"),
    ({"centre_latitude": "39", "centre_longitude": "181"}, "centre_longitude", "between -180"),
    ({"centre_latitude": "north", "centre_longitude": "1"}, "centre_latitude", "Type a number"),
    ({"centre_latitude": "39.9"}, "centre_longitude", "both latitude and longitude"),
    ({"boundary": "{not json"}, "boundary", "not valid GeoJSON"),
    ({"boundary": '{"type": "Point", "coordinates": [1, 2]}'}, "boundary", "Polygon"),
    (
        {"boundary": json.dumps({"type": "Polygon", "coordinates": [SQUARE[:-1]]})},
        "boundary",
        "must be closed",
    ),
    (
        {"boundary": json.dumps({"type": "Polygon", "coordinates": [[[200, 1]] * 4]})},
        "boundary",
        "out of range",
    ),
    (
        {"boundary": json.dumps({"type": "MultiPolygon", "coordinates": [[SQUARE[:2]]]})},
        "boundary",
        "at least 4",
    ),
]


@pytest.mark.parametrize(("fields", "field", "message"), BAD_AREAS)
def test_a_bad_area_form_is_shown_again_with_the_message_and_the_input(
    client: TestClient, world: World, fields: dict[str, str], field: str, message: str
) -> None:
    page_login(client, world.admin.email)
    data = {"name": "New area", **fields}
    resp = post_form(client, "/admin/areas/new", data)
    assert resp.status_code in (409, 422)
    assert f'id="{field}-error"' in resp.text and message in resp.text
    if data["name"].strip():
        assert f'value="{data["name"]}"' in resp.text, "what was typed is kept"


@pytest.mark.parametrize(("fields", "field", "message"), BAD_AREAS)
def test_a_bad_area_is_refused_by_the_api(
    client: TestClient, world: World, fields: dict[str, str], field: str, message: str
) -> None:
    body: dict[str, object] = {"name": "New area"}
    for key, value in fields.items():
        name = "boundary_geojson" if key == "boundary" else key
        body[name] = value
    resp = client.post("/api/admin/areas", json=body, headers=bearer(client, world.admin.email))
    if resp.status_code == 422 and "code" in resp.json() and "errors" in resp.json():
        return  # pydantic refused the type (e.g. "north" as a float): also a clear 422
    assert resp.status_code in (409, 422), resp.text
    assert field in resp.json()["detail"] and message in resp.json()["detail"]


def test_area_names_are_unique_among_active_areas_only(client: TestClient, world: World) -> None:
    headers = bearer(client, world.admin.email)
    area = world.area_b.id
    assert client.patch(f"/api/admin/areas/{area}", json={"is_active": False}, headers=headers)
    again = client.post("/api/admin/areas", json={"name": world.area_b.name}, headers=headers)
    assert again.status_code == 201, "a deactivated area's name may be used again"
    back = client.patch(f"/api/admin/areas/{area}", json={"is_active": True}, headers=headers)
    assert back.status_code == 409 and "already called" in back.json()["detail"]


def test_unknown_records_are_404(client: TestClient, world: World) -> None:
    headers = bearer(client, world.admin.email)
    for path in ("areas", "clinics", "service-points", "users"):
        assert client.get(f"/api/admin/{path}/9999", headers=headers).status_code == 404
        assert client.get(f"/api/admin/{path}/99999999999999", headers=headers).status_code in (
            404,
            422,
        )
    page_login(client, world.admin.email)
    assert client.get("/admin/areas/9999", headers=HTML).status_code == 404


def test_a_clinic_shows_its_doctors_and_can_be_deactivated(
    client: TestClient, world: World
) -> None:
    page_login(client, world.admin.email)
    page = client.get(f"/admin/clinics/{world.clinic_a.id}", headers=HTML).text
    assert world.doctor_a.name in page and f'href="/admin/staff/{world.doctor_a.id}"' in page
    assert world.doctor_b.name not in page
    resp = post_form(client, f"/admin/clinics/{world.clinic_a.id}/deactivate", {})
    assert resp.status_code == 303
    listing = client.get("/admin/clinics", headers=HTML).text
    assert "Inactive" in listing
    new_staff = client.get("/admin/staff/new", headers=HTML).text
    assert world.clinic_b.name in new_staff
    assert f'value="{world.clinic_a.id}">{world.clinic_a.name}' not in new_staff


def test_bad_clinic_and_service_point_forms(client: TestClient, world: World) -> None:
    page_login(client, world.admin.email)
    resp = post_form(
        client, "/admin/clinics/new", {"name": "", "address": "1 Road", "phone": "010-1"}
    )
    assert resp.status_code == 422 and 'id="name-error"' in resp.text
    assert 'value="1 Road"' in resp.text and 'value="010-1"' in resp.text
    resp = post_form(
        client,
        "/admin/service-points/new",
        {"kind": "spa", "name": "Meals", "service_area_id": str(world.area_a.id)},
    )
    assert resp.status_code == 422 and 'id="kind-error"' in resp.text
    resp = post_form(
        client,
        "/admin/service-points/new",
        {"kind": "meal_point", "name": "Meals", "service_area_id": "777"},
    )
    assert resp.status_code == 422 and 'id="service_area_id-error"' in resp.text
    assert 'value="Meals"' in resp.text
    resp = post_form(
        client,
        "/admin/service-points/new",
        {"kind": "meal_point", "name": "Meals", "latitude": "-91", "longitude": "1"},
    )
    assert resp.status_code == 422 and 'id="latitude-error"' in resp.text
    headers = bearer(client, world.admin.email)
    api = client.post(
        "/api/admin/service-points",
        json={"kind": "meal_point", "name": "Meals", "service_area_id": 777},
        headers=headers,
    )
    assert api.status_code == 422 and "does not exist" in api.json()["detail"]
    ok = client.post(
        "/api/admin/service-points",
        json={
            "kind": "service_provider",
            "name": "Home help",
            "latitude": 39.9,
            "longitude": 116.4,
        },
        headers=headers,
    )
    assert ok.status_code == 201 and ok.json()["kind"] == "service_provider"
    changed = client.patch(
        f"/api/admin/service-points/{ok.json()['id']}", json={"address": "2 Lane"}, headers=headers
    )
    assert changed.json()["address"] == "2 Lane" and changed.json()["name"] == "Home help"


def test_admin_home_counts(client: TestClient, world: World) -> None:
    page_login(client, world.admin.email)
    home = client.get("/admin", headers=HTML).text
    assert 'id="count-areas"><strong>2</strong>' in home
    assert 'id="count-operator">' in home and 'href="/elders"' in home
    assert 'href="/operator"' in home


def test_the_admin_pages_speak_chinese(client: TestClient, world: World) -> None:
    page_login(client, world.admin.email)
    home = client.get("/admin?lang=zh", headers=HTML).text
    assert "系统管理" in home and "服务片区" in home
    refused = post_form(client, "/admin/areas/new", {"name": "", "centre_latitude": "100"})
    assert "请填写此项。" in refused.text
