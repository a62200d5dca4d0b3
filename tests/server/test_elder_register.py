"""The care centre registers elders and finds them again: the list, the form, the JSON API."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from server.models import AuditEntry, Elder
from server.runtime import Runtime
from tests.conftest import bearer
from tests.support.world import PASSWORD, World

ROLES = ["family_a", "doctor_a", "operator_a", "operator_b", "admin"]
HTML = {"accept": "text/html"}


def log_in(client: TestClient, email: str) -> str:
    """Log in as a browser; the CSRF token of the session's forms."""
    resp = client.post("/login", data={"email": email, "password": PASSWORD})
    assert resp.status_code in (200, 303), resp.text
    page = client.get("/elders/new", headers=HTML)
    marker = 'name="csrf" value="'
    start = page.text.find(marker)
    return page.text[start + len(marker) : page.text.find('"', start + len(marker))]


def good_form(csrf: str, **changes: str) -> dict[str, str]:
    form = {
        "csrf": csrf,
        "name": "陈桂兰",
        "register_ref": "310101-0001",
        "phone": "138-0013-8000",
        "birth_year": "1938",
        "lang": "zh",
        "timezone": "Asia/Shanghai",
        "address": "黄浦区南京东路100号",
        "latitude": "31.235",
        "longitude": "121.485",
        "lives_alone": "yes",
        "clinic": "",
        "care_notes": "耳背，说话慢一点",
    }
    form.update(changes)
    return form


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", ["/elders", "/elders/new", "/elders/import"])
def test_pages_by_role(client: TestClient, world: World, role: str, page: str) -> None:
    client.post("/login", data={"email": world.user(role).email, "password": PASSWORD})
    resp = client.get(page, headers=HTML, follow_redirects=False)
    assert resp.status_code == (200 if role.startswith(("operator", "admin")) else 403)


def test_anonymous_pages_go_to_log_in(client: TestClient, world: World) -> None:
    for page in ["/elders", "/elders/new", f"/elders/{world.elder_a.id}/edit", "/elders/import"]:
        resp = client.get(page, headers=HTML, follow_redirects=False)
        assert resp.status_code == 303
        assert resp.headers["location"].startswith("/login")


EDIT_PAGE = {"operator_a": 200, "admin": 200, "operator_b": 404, "doctor_a": 403, "family_a": 403}


@pytest.mark.parametrize("role", ROLES)
def test_edit_page_by_role(client: TestClient, world: World, role: str) -> None:
    client.post("/login", data={"email": world.user(role).email, "password": PASSWORD})
    resp = client.get(f"/elders/{world.elder_a.id}/edit", headers=HTML)
    assert resp.status_code == EDIT_PAGE[role]
    if resp.status_code == 200:
        assert world.elder_a.name in resp.text
    else:
        assert world.elder_a.name not in resp.text


def test_operator_registers_an_elder_and_finds_it(
    client: TestClient, world: World, rt: Runtime
) -> None:
    csrf = log_in(client, world.operator_a.email)
    resp = client.post("/elders/new", data=good_form(csrf), headers=HTML, follow_redirects=False)
    assert resp.status_code == 303, resp.text
    listed = client.get("/elders", headers=HTML)
    assert "陈桂兰" in listed.text and "13800138000" in listed.text
    assert world.elder_b.name not in listed.text, "another area's elders are not listed"
    for q in ["桂兰", "0013800", "138-0013"]:
        found = client.get("/elders", params={"q": q}, headers=HTML)
        assert "陈桂兰" in found.text, q
        assert world.elder_a.name not in found.text
    with rt.db.session() as db:
        elder = db.query(Elder).filter_by(register_ref="310101-0001").one()
        assert elder.service_area_id == world.area_a.id
        assert (elder.latitude, elder.longitude, elder.lives_alone) == (31.235, 121.485, True)
        actions = [a.action for a in db.query(AuditEntry).filter_by(elder_id=elder.id)]
        assert actions == ["elder.create"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "  ", "Enter the elder"),
        ("phone", "call me", "Enter a phone number of digits"),
        ("latitude", "91", "Latitude is a number between -90 and 90."),
        ("birth_year", "1700", "Enter a year between 1880 and"),
        ("clinic", "999999", "No clinic called"),
        ("timezone", "Mars/Base", "Unknown time zone"),
    ],
)
def test_bad_input_is_shown_next_to_the_field_and_kept(
    client: TestClient, world: World, field: str, value: str, message: str
) -> None:
    csrf = log_in(client, world.operator_a.email)
    form = good_form(csrf, **{field: value})
    resp = client.post("/elders/new", data=form, headers={**HTML, "accept-language": "en"})
    assert resp.status_code == 422
    assert f'id="error-{field}"' in resp.text
    assert message in resp.text
    assert "耳背，说话慢一点" in resp.text and "黄浦区南京东路100号" in resp.text, "input kept"
    assert client.get("/elders", params={"q": "陈桂兰"}, headers=HTML).text.count("陈桂兰") == 1


def test_register_number_is_unique_in_the_area(client: TestClient, world: World) -> None:
    csrf = log_in(client, world.operator_a.email)
    assert (
        client.post("/elders/new", data=good_form(csrf), follow_redirects=False).status_code == 303
    )
    again = client.post("/elders/new", data=good_form(csrf, name="Other"), headers=HTML)
    assert again.status_code == 422 and 'id="error-register_ref"' in again.text


def test_edit_changes_the_record_and_audits(client: TestClient, world: World, rt: Runtime) -> None:
    csrf = log_in(client, world.operator_a.email)
    form = good_form(csrf, name=world.elder_a.name, register_ref="A-1", address="2 New Road")
    resp = client.post(f"/elders/{world.elder_a.id}/edit", data=form, follow_redirects=False)
    assert resp.status_code == 303
    page = client.get(f"/elders/{world.elder_a.id}/edit", headers=HTML)
    assert "2 New Road" in page.text
    with rt.db.session() as db:
        entry = db.query(AuditEntry).filter_by(action="elder.update").one()
        assert entry.target == f"elder:{world.elder_a.id}" and "address" in entry.detail


def test_admin_chooses_the_area(client: TestClient, world: World, rt: Runtime) -> None:
    csrf = log_in(client, world.admin.email)
    missing = client.post("/elders/new", data=good_form(csrf), headers=HTML)
    assert missing.status_code == 422 and 'id="error-area"' in missing.text
    form = good_form(csrf, area=str(world.area_b.id))
    assert client.post("/elders/new", data=form, follow_redirects=False).status_code == 303
    with rt.db.session() as db:
        assert db.query(Elder).filter_by(name="陈桂兰").one().service_area_id == world.area_b.id
    by_area = client.get("/elders", params={"area": world.area_a.id}, headers=HTML)
    assert "陈桂兰" not in by_area.text and world.elder_a.name in by_area.text


def test_form_without_csrf_is_refused(client: TestClient, world: World) -> None:
    log_in(client, world.operator_a.email)
    resp = client.post("/elders/new", data=good_form(""), headers=HTML)
    assert resp.status_code == 403


CREATE_EXPECT = {"operator_a": 201, "admin": 201, "family_a": 403, "doctor_a": 403}


@pytest.mark.parametrize("role", ROLES)
def test_api_create_by_role(client: TestClient, world: World, role: str) -> None:
    body = {"name": "Liu Fang", "register_ref": "R-9", "phone": "+86 139 0000 1111"}
    if role == "admin":
        body["area_id"] = world.area_a.id  # type: ignore[assignment]
    resp = client.post("/api/elders", json=body, headers=bearer(client, world.user(role).email))
    assert resp.status_code == CREATE_EXPECT.get(role, 201), resp.text
    if resp.status_code == 201:
        assert resp.json()["phone"] == "+8613900001111"


def test_api_create_refuses_bad_fields(client: TestClient, world: World) -> None:
    headers = bearer(client, world.operator_a.email)
    resp = client.post("/api/elders", json={"name": "X", "latitude": 91}, headers=headers)
    assert resp.status_code == 422
    assert "latitude: Latitude is a number between -90 and 90." in resp.json()["detail"]
    assert resp.json()["errors"][0]["loc"] == ["body", "latitude"]


def test_api_list_pages_and_searches(client: TestClient, world: World) -> None:
    headers = bearer(client, world.operator_a.email)
    for i in range(7):
        body = {"name": f"Page Elder {i}", "phone": f"1390000{i:04d}"}
        assert client.post("/api/elders", json=body, headers=headers).status_code == 201
    first = client.get("/api/elders", params={"limit": 5}, headers=headers)
    assert [e["name"] for e in first.json()][:2] == ["Page Elder 6", "Page Elder 5"]
    assert first.headers["x-next-offset"] == "5"
    rest = client.get("/api/elders", params={"limit": 5, "offset": 5}, headers=headers)
    assert len(rest.json()) == 3 and "x-next-offset" not in rest.headers
    found = client.get("/api/elders", params={"q": "00003"}, headers=headers).json()
    assert [e["name"] for e in found] == ["Page Elder 3"]
    everyone = client.get("/api/elders", headers=headers).json()
    assert len(everyone) == 8, "without paging parameters: every visible elder, as before"
    other = client.get(
        "/api/elders", params={"q": "Page"}, headers=bearer(client, world.operator_b.email)
    )
    assert other.json() == []
