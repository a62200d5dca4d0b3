"""Medication plans over the API and the family page: rights, validation, live box pushes, FHIR."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from protocol import ClientKind, Hello, MedPlans, MedPlansRequest, Welcome
from tests.conftest import bearer
from tests.server.test_box_socket import pair_box, recv, send
from tests.support.world import World

TODAY = datetime.now(UTC).date().isoformat()


def plan_body(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "medicine": "Amlodipine",
        "strength": "5 mg",
        "dose": "1 tablet",
        "instructions": "after breakfast",
        "appearance": "small white round",
        "colour": "#f0f0f0",
        "schedule": {"times": ["08:00", "20:00"], "start_date": TODAY},
    }
    body.update(over)
    return body


def make_plan(client: TestClient, world: World, who: str = "family_a", **over: Any) -> dict:
    resp = client.post(
        f"/api/elders/{world.elder_a.id}/medication-plans",
        json=plan_body(**over),
        headers=bearer(client, world.user(who).email),
    )
    assert resp.status_code == 201, resp.text
    return resp.json()


ROLES = ["family_a", "family_b", "doctor_a", "doctor_b", "operator_a", "operator_b", "admin"]
CREATE_EXPECT = {"family_a": 201, "doctor_a": 201, "admin": 201, "operator_a": 403}
SEES_A = {"family_a", "doctor_a", "operator_a", "admin"}


@pytest.mark.parametrize("role", ROLES)
def test_who_may_create_plans(client: TestClient, world: World, role: str) -> None:
    resp = client.post(
        f"/api/elders/{world.elder_a.id}/medication-plans",
        json=plan_body(),
        headers=bearer(client, world.user(role).email),
    )
    assert resp.status_code == CREATE_EXPECT.get(role, 404), resp.text
    if resp.status_code == 201:
        assert resp.json()["created_by_id"] == world.user(role).id


@pytest.mark.parametrize("role", ROLES)
def test_who_may_read_and_change_a_plan(client: TestClient, world: World, role: str) -> None:
    plan = make_plan(client, world)
    headers = bearer(client, world.user(role).email)
    read = client.get(f"/api/medication-plans/{plan['id']}", headers=headers)
    listed = client.get(f"/api/elders/{world.elder_a.id}/medication-plans", headers=headers)
    doses = client.get(f"/api/elders/{world.elder_a.id}/doses", headers=headers)
    fhir = client.get(f"/api/elders/{world.elder_a.id}/fhir/medication", headers=headers)
    change = client.patch(
        f"/api/medication-plans/{plan['id']}", json={"dose": "2 tablets"}, headers=headers
    )
    if role in SEES_A:
        assert [read.status_code, listed.status_code, doses.status_code, fhir.status_code] == [
            200,
            200,
            200,
            200,
        ]
        assert change.status_code == (403 if role == "operator_a" else 200)
    else:
        for resp in (read, listed, doses, fhir, change):
            assert resp.status_code == 404
            assert "Amlodipine" not in resp.text
    after = client.get(
        f"/api/medication-plans/{plan['id']}", headers=bearer(client, world.admin.email)
    )
    assert (after.json()["dose"] == "2 tablets") == (change.status_code == 200)


ANON = [
    ("get", "/api/elders/1/medication-plans"),
    ("post", "/api/elders/1/medication-plans"),
    ("get", "/api/medication-plans/1"),
    ("patch", "/api/medication-plans/1"),
    ("get", "/api/elders/1/doses"),
    ("get", "/api/elders/1/adherence"),
    ("get", "/api/elders/1/fhir/medication"),
    ("get", "/api/elders/1/reminder-alerts"),
    ("put", "/api/elders/1/reminder-alerts"),
]


@pytest.mark.parametrize(("method", "path"), ANON)
def test_anonymous_callers_are_refused(client: TestClient, method: str, path: str) -> None:
    assert client.request(method.upper(), path, json={}).status_code == 401


def test_every_reminder_route_is_in_this_matrix(client: TestClient) -> None:
    from server.reminders.routes import router

    templates = {re.sub(r"\{\w+\}", "1", r.path) for r in router.routes}  # type: ignore[attr-defined]
    assert templates == {p for _, p in ANON}


@pytest.mark.parametrize(
    ("over", "needle"),
    [
        ({"medicine": "   "}, "medicine"),
        ({"schedule": {"times": ["25:00"], "start_date": TODAY}}, "times"),
        ({"schedule": {"times": [], "start_date": TODAY}}, "at least one time"),
        (
            {"schedule": {"times": ["08:00"], "start_date": TODAY, "end_date": "2000-01-01"}},
            "end date is before",
        ),
        ({"colour": "red"}, "colour"),
        ({"window_minutes": 0}, "window_minutes"),
        ({"schedule": {"times": ["08:00"], "start_date": TODAY, "extra": 1}}, "extra"),
        ({"schedule": "daily"}, "schedule"),
    ],
)
def test_bad_plans_get_a_clear_422(
    client: TestClient, world: World, over: dict, needle: str
) -> None:
    resp = client.post(
        f"/api/elders/{world.elder_a.id}/medication-plans",
        json=plan_body(**over),
        headers=bearer(client, world.family_a.email),
    )
    assert resp.status_code == 422
    assert needle in resp.text


def test_other_bad_input_is_4xx_never_500(client: TestClient, world: World) -> None:
    headers = bearer(client, world.family_a.email)
    plan = make_plan(client, world)
    assert client.get("/api/medication-plans/999999", headers=headers).status_code == 404
    assert client.get("/api/medication-plans/abc", headers=headers).status_code == 422
    bad_day = client.get(f"/api/elders/{world.elder_a.id}/doses?day=2026-13-01", headers=headers)
    assert bad_day.status_code == 422
    assert (
        client.get(f"/api/elders/{world.elder_a.id}/adherence?days=0", headers=headers).status_code
        == 422
    )
    assert (
        client.patch(
            f"/api/medication-plans/{plan['id']}", json={"status": "gone"}, headers=headers
        ).status_code
        == 422
    )
    ended = client.patch(
        f"/api/medication-plans/{plan['id']}", json={"status": "ended"}, headers=headers
    )
    assert ended.status_code == 200
    again = client.patch(
        f"/api/medication-plans/{plan['id']}", json={"status": "active"}, headers=headers
    )
    assert again.status_code == 409
    assert (
        client.put(
            f"/api/elders/{world.elder_a.id}/reminder-alerts",
            json={"email_missed": "x"},
            headers=headers,
        ).status_code
        == 422
    )
    doctor = bearer(client, world.doctor_a.email)
    assert (
        client.put(
            f"/api/elders/{world.elder_a.id}/reminder-alerts",
            json={"email_missed": False, "live_missed": True},
            headers=doctor,
        ).status_code
        == 403
    )


def test_box_gets_plans_at_once_and_on_request(client: TestClient, world: World) -> None:
    token, _ = pair_box(client, world)
    with client.websocket_connect("/ws/box") as ws:
        send(ws, Hello(client=ClientKind.BOX, device_token=token))
        assert isinstance(recv(ws), Welcome)
        first = recv(ws)  # sent on connect, unasked
        assert isinstance(first, MedPlans)
        assert first.plans == []
        send(ws, MedPlansRequest(id="r0"))  # what boxes of before 0.2 do: still answered
        asked = recv(ws)
        assert isinstance(asked, MedPlans)
        assert asked.plans == []
        plan = make_plan(client, world)
        pushed = recv(ws)
        assert isinstance(pushed, MedPlans)
        assert [p.medicine for p in pushed.plans] == ["Amlodipine"]
        assert pushed.plans[0].schedule.times[0].hour == 8
        client.patch(
            f"/api/medication-plans/{plan['id']}",
            json={"status": "ended"},
            headers=bearer(client, world.family_a.email),
        )
        assert recv(ws).plans == []  # ended plans leave the box


def test_fhir_export_is_r4_shaped(client: TestClient, world: World) -> None:
    make_plan(
        client,
        world,
        schedule={
            "times": ["08:00"],
            "days_of_week": [1, 3],
            "start_date": "2026-01-01",
            "end_date": "2026-12-31",
        },
    )
    resp = client.get(
        f"/api/elders/{world.elder_a.id}/fhir/medication",
        headers=bearer(client, world.doctor_a.email),
    )
    bundle = resp.json()
    assert bundle["resourceType"] == "Bundle"
    request = bundle["entry"][0]["resource"]
    assert request["resourceType"] == "MedicationRequest"
    assert request["status"] == "active" and request["intent"] == "plan"
    repeat = request["dosageInstruction"][0]["timing"]["repeat"]
    assert repeat["timeOfDay"] == ["08:00:00"]
    assert repeat["dayOfWeek"] == ["mon", "wed"]
    assert repeat["boundsPeriod"] == {"start": "2026-01-01", "end": "2026-12-31"}
    assert request["medicationCodeableConcept"]["text"] == "Amlodipine 5 mg"


def _page_form(client: TestClient) -> str:
    page = client.get("/family", headers={"Accept": "text/html"})
    return re.search(r'name="csrf" value="([^"]+)"', page.text)[1]  # type: ignore[index]


def login_page(client: TestClient, email: str) -> None:
    from tests.support.world import PASSWORD

    resp = client.post(
        "/login", data={"email": email, "password": PASSWORD}, follow_redirects=False
    )
    assert resp.status_code == 303


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"medicine": ""}, "Please enter the medicine's name."),
        ({"times": "8h00, 20:00"}, "Not a time of day: 8h00."),
        ({"times": ""}, "Give at least one time of day"),
        ({"end_date": "2000-01-01"}, "The end date is before the start date."),
        ({"every_n_days": "0"}, "Every N days"),
    ],
)
def test_family_form_explains_mistakes(
    client: TestClient, world: World, fields: dict, message: str
) -> None:
    login_page(client, world.family_a.email)
    form = {
        "csrf": _page_form(client),
        "elder_id": str(world.elder_a.id),
        "medicine": "Metformin",
        "times": "08:00",
        "start_date": TODAY,
        "window_minutes": "30",
        "every_n_days": "1",
    } | fields
    resp = client.post("/family/medicines?lang=en", data=form, headers={"Accept": "text/html"})
    assert resp.status_code == 422
    assert message in resp.text.replace("&#39;", "'").replace("&#34;", '"')


def test_family_form_adds_pauses_and_guards_other_families(
    client: TestClient, world: World
) -> None:
    login_page(client, world.family_a.email)
    csrf = _page_form(client)
    form = {
        "csrf": csrf,
        "elder_id": str(world.elder_a.id),
        "medicine": "Metformin",
        "times": "07:30 19:30",
        "days": ["1", "2"],
        "start_date": TODAY,
        "window_minutes": "45",
    }
    resp = client.post("/family/medicines", data=form, follow_redirects=False)
    assert resp.status_code == 303, resp.text
    page = client.get("/family", headers={"Accept": "text/html"}).text
    plan_id = int(re.search(r'id="plan-(\d+)"', page)[1])  # type: ignore[index]
    assert "Metformin" in page
    pause = client.post(
        f"/family/medicines/{plan_id}/status",
        data={"csrf": csrf, "status": "paused"},
        follow_redirects=False,
    )
    assert pause.status_code == 303
    admin = bearer(client, world.admin.email)
    assert client.get(f"/api/medication-plans/{plan_id}", headers=admin).json()["status"] == (
        "paused"
    )
    # Another family cannot touch it, and cannot add plans to elder A.
    client.cookies.clear()
    login_page(client, world.family_b.email)
    csrf_b = _page_form(client)
    other = client.post(
        f"/family/medicines/{plan_id}/status",
        data={"csrf": csrf_b, "status": "ended"},
        headers={"Accept": "application/json"},
    )
    assert other.status_code == 404
    sneaky = client.post(
        "/family/medicines", data=form | {"csrf": csrf_b}, headers={"Accept": "text/html"}
    )
    assert sneaky.status_code == 404
    assert "Metformin" not in client.get("/family", headers={"Accept": "text/html"}).text
    no_csrf = client.post("/family/medicines", data=form | {"csrf": "x"})
    assert no_csrf.status_code == 403


def test_adherence_counts_only_days_with_doses(client: TestClient, world: World) -> None:
    make_plan(client, world)
    rows = client.get(
        f"/api/elders/{world.elder_a.id}/adherence",
        headers=bearer(client, world.family_a.email),
    ).json()
    assert len(rows) == 28
    assert date.fromisoformat(rows[-1]["day"]) >= date.today() - timedelta(days=1)
    assert all(r["taken"] == 0 for r in rows)


def test_family_form_edits_a_plan_in_place(client: TestClient, world: World) -> None:
    plan = make_plan(client, world)
    login_page(client, world.family_a.email)
    form = {
        "csrf": _page_form(client),
        "elder_id": str(world.elder_a.id),
        "plan_id": str(plan["id"]),
        "medicine": "Amlodipine",
        "dose": "half a tablet",
        "times": "09:15",
        "start_date": TODAY,
        "window_minutes": "20",
    }
    resp = client.post("/family/medicines", data=form, follow_redirects=False)
    assert resp.status_code == 303, resp.text
    after = client.get(
        f"/api/medication-plans/{plan['id']}", headers=bearer(client, world.admin.email)
    ).json()
    assert (after["dose"], after["schedule"]["times"], after["window_minutes"]) == (
        "half a tablet",
        ["09:15:00"],
        20,
    )
    admin = bearer(client, world.admin.email)
    listed = client.get(f"/api/elders/{world.elder_a.id}/medication-plans", headers=admin).json()
    assert len(listed) == 1, "an edit never adds a second plan"
