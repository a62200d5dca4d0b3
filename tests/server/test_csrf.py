"""API writes with the page's session cookie must come from our pages (token or Origin)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from server.core.security import csrf_token
from server.runtime import Runtime
from tests.conftest import bearer
from tests.support.world import PASSWORD, World, make_device


@pytest.fixture
def alert_id(client: TestClient, rt: Runtime, world: World) -> int:
    """An open SOS of elder A, raised by a fall sensor through the box's token."""
    with rt.db.session() as db:
        box_token = make_device(db, world.elder_a)[0]
    resp = client.post(
        "/api/box/sensor-events",
        json={"key": "fall-000001", "kind": "fall"},
        headers={"Authorization": f"Bearer {box_token}"},
    )
    assert resp.status_code == 201, resp.text
    return int(resp.json()["alert_id"])


@pytest.fixture
def operator_cookie(client: TestClient, world: World) -> str:
    """Log the operator of area A in through the log-in page; the session cookie."""
    form = {"email": world.operator_a.email, "password": PASSWORD}
    assert client.post("/login", data=form, follow_redirects=False).status_code == 303
    return str(client.cookies["anxin_session"])


def status_of(client: TestClient, world: World, alert_id: int) -> str:
    """The alert's status as the operator reads it through the API (bearer)."""
    headers = bearer(client, world.operator_a.email)
    return str(client.get(f"/api/sos/alerts/{alert_id}", headers=headers).json()["status"])


def test_cookie_without_token_or_origin_is_refused_and_changes_nothing(
    client: TestClient, world: World, alert_id: int, operator_cookie: str
) -> None:
    resp = client.post(f"/api/sos/alerts/{alert_id}/acknowledge")
    assert resp.status_code == 403
    assert resp.json()["code"] == "csrf_failed" and "X-CSRF-Token" in resp.json()["detail"]
    assert status_of(client, world, alert_id) == "open", "the SOS is still unacknowledged"
    resolve = client.post(f"/api/sos/alerts/{alert_id}/resolve", json={"outcome": "false_alarm"})
    assert resolve.status_code == 403 and resolve.json()["code"] == "csrf_failed"
    assert status_of(client, world, alert_id) == "open"
    # Reading with the cookie needs nothing more: only changes are guarded.
    assert client.get(f"/api/sos/alerts/{alert_id}").status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "http://127.0.0.1:8001"},  # same site, another port: SameSite lets it in
        {"Origin": "null"},  # a sandboxed frame
        {"Referer": "http://evil.example/page"},
        {"X-CSRF-Token": "0" * 64},
        {"X-CSRF-Token": "", "Origin": "https://testserver.evil.example"},
    ],
    ids=["other-site", "other-port", "null", "referer", "wrong-token", "lookalike-host"],
)
def test_cookie_with_a_foreign_origin_or_wrong_token_is_refused(
    client: TestClient, world: World, alert_id: int, operator_cookie: str, headers: dict[str, str]
) -> None:
    resp = client.post(f"/api/sos/alerts/{alert_id}/acknowledge", headers=headers)
    assert resp.status_code == 403 and resp.json()["code"] == "csrf_failed"
    assert status_of(client, world, alert_id) == "open"


def test_cookie_with_the_sessions_token_is_accepted(
    client: TestClient, rt: Runtime, world: World, alert_id: int, operator_cookie: str
) -> None:
    token = csrf_token(rt.settings.secret_key, operator_cookie)
    resp = client.post(f"/api/sos/alerts/{alert_id}/acknowledge", headers={"X-CSRF-Token": token})
    assert resp.status_code == 200, resp.text
    assert status_of(client, world, alert_id) == "acknowledged"
    # The page shows the same token to its scripts.
    page = client.get("/operator", headers={"accept": "text/html"})
    assert f'<meta name="csrf-token" content="{token}">' in page.text


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://testserver"},  # the request's own Host
        {"Origin": "http://127.0.0.1:8000"},  # ANXIN_PUBLIC_BASE_URL
        {"Referer": "http://testserver/operator"},  # a browser that sent no Origin
    ],
    ids=["host", "public-base-url", "referer"],
)
def test_cookie_from_our_own_origin_is_accepted(
    client: TestClient, world: World, alert_id: int, operator_cookie: str, headers: dict[str, str]
) -> None:
    resp = client.post(f"/api/sos/alerts/{alert_id}/acknowledge", headers=headers)
    assert resp.status_code == 200, resp.text
    assert status_of(client, world, alert_id) == "acknowledged"


def test_bearer_clients_need_neither_token_nor_origin(
    client: TestClient, world: World, alert_id: int, operator_cookie: str
) -> None:
    # Even with a page cookie in the same jar, a bearer token is what authenticates.
    headers = bearer(client, world.operator_a.email)
    resp = client.post(f"/api/sos/alerts/{alert_id}/acknowledge", headers=headers)
    assert resp.status_code == 200, resp.text
    assert status_of(client, world, alert_id) == "acknowledged"


def test_every_cookie_authenticated_write_is_guarded(
    client: TestClient, world: World, alert_id: int, operator_cookie: str
) -> None:
    """PUT, PATCH and DELETE too, not only POST; a dead cookie stays a 401."""
    elder = world.elder_a.id
    attempts = [
        ("PATCH", f"/api/elders/{elder}", {"address": "1 Forged Road"}),
        ("PUT", f"/api/sos/check-in/{elder}", {"time_local": "09:00"}),
        ("DELETE", "/api/devices/1", None),
        ("POST", f"/api/sos/alerts/{alert_id}/call", None),
    ]
    for method, path, body in attempts:
        resp = client.request(method, path, json=body)
        assert resp.status_code == 403, (method, path, resp.text)
        assert resp.json()["code"] == "csrf_failed"
    client.cookies.set("anxin_session", "not-a-session")
    resp = client.post(f"/api/sos/alerts/{alert_id}/acknowledge")
    assert resp.status_code == 401 and resp.json()["code"] == "unauthorized"


def test_another_site_cannot_log_a_person_out_of_the_pages(
    client: TestClient, world: World, operator_cookie: str
) -> None:
    resp = client.post("/logout", headers={"Origin": "http://evil.example"}, follow_redirects=False)
    assert resp.status_code == 403
    assert client.get("/operator", follow_redirects=False).status_code == 200, "still logged in"
    own = client.post("/logout", headers={"Origin": "http://testserver"}, follow_redirects=False)
    assert own.status_code == 303
    assert client.get("/operator", follow_redirects=False).status_code != 200, "logged out"
