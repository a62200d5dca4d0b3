"""Your account: password change, the list of your sessions, ending them (pages and API)."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from server.accounts import end_all_sessions
from server.models import User, UserSession, utcnow
from server.runtime import Runtime
from tests.conftest import bearer
from tests.support.world import PASSWORD, World

PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)
HTML = {"accept": "text/html"}
NEW = "paper kite morning 77"


def page_login(client: TestClient, email: str, user_agent: str = PHONE) -> str:
    """Log in with the page form; returns the CSRF token of the account page."""
    form = {"email": email, "password": PASSWORD}
    resp = client.post(
        "/login", data=form, headers={"user-agent": user_agent}, follow_redirects=False
    )
    assert resp.status_code == 303, resp.text
    return csrf_of(client.get("/account?lang=en", headers=HTML).text)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def second_client(client: TestClient) -> TestClient:
    return TestClient(client.app)


def test_account_page_shows_who_you_are_and_your_sessions(client: TestClient, world: World) -> None:
    page_login(client, world.family_a.email)
    other = second_client(client)
    page_login(other, world.family_a.email, user_agent="curl/8.5")
    page = client.get("/account?lang=en", headers=HTML)
    assert page.status_code == 200
    assert world.family_a.email in page.text and world.family_a.name in page.text
    assert "Chrome on Android" in page.text and "This device" in page.text
    assert "curl" in page.text
    assert 'href="/account"' in page.text  # the header's link
    sessions = client.get("/api/auth/sessions").json()
    assert len(sessions) == 2
    assert sessions[0]["current"] and sessions[0]["browser"] == "Chrome"
    assert sessions[0]["system"] == "Android" and sessions[0]["ip"]


def test_ending_one_session_logs_that_browser_out(client: TestClient, world: World) -> None:
    csrf = page_login(client, world.operator_a.email)
    other = second_client(client)
    page_login(other, world.operator_a.email, user_agent="curl/8.5")
    assert other.get("/api/auth/me").status_code == 200
    theirs = [s for s in client.get("/api/auth/sessions").json() if not s["current"]]
    resp = client.post(
        f"/account/sessions/{theirs[0]['id']}/end", data={"csrf": csrf}, follow_redirects=False
    )
    assert resp.status_code == 303
    assert "That session was ended" in client.get(resp.headers["location"], headers=HTML).text
    assert other.get("/api/auth/me").status_code == 401
    assert client.get("/api/auth/me").status_code == 200


def test_end_all_other_sessions(client: TestClient, world: World) -> None:
    csrf = page_login(client, world.doctor_a.email)
    tokens = [bearer(client, world.doctor_a.email) for _ in range(2)]
    resp = client.post("/account/sessions/end-others", data={"csrf": csrf}, headers=HTML)
    assert resp.status_code == 200 and "All other sessions were ended (2)" in resp.text
    for headers in tokens:
        assert client.get("/api/auth/me", headers=headers).status_code == 401
    assert client.get("/api/auth/me").status_code == 200
    # without the form's CSRF token nothing ends
    refused = client.post("/account/sessions/end-others", data={"csrf": "x"}, headers=HTML)
    assert refused.status_code == 403


def test_password_change_mistakes_are_shown_and_nothing_changes(
    client: TestClient, world: World, rt: Runtime
) -> None:
    csrf = page_login(client, world.family_a.email)
    cases = [
        ({"current": "wrong one", "new": NEW, "repeat": NEW}, "current password is not right"),
        ({"current": PASSWORD, "new": "qwerty123", "repeat": "qwerty123"}, "too easy to guess"),
        ({"current": PASSWORD, "new": NEW, "repeat": NEW + "x"}, "not the same"),
    ]
    for form, message in cases:
        resp = client.post("/account/password?lang=en", data={**form, "csrf": csrf}, headers=HTML)
        assert resp.status_code == 400
        assert message in resp.text
    with rt.db.session() as db:
        user = db.get(User, world.family_a.id)
        assert user is not None and user.password_changed_at is None
    assert (
        client.post(
            "/api/auth/login", json={"email": world.family_a.email, "password": PASSWORD}
        ).status_code
        == 200
    )


def test_password_change_ends_the_other_sessions_and_keeps_this_one(
    client: TestClient, world: World
) -> None:
    csrf = page_login(client, world.family_a.email)
    elsewhere = bearer(client, world.family_a.email)
    form = {"current": PASSWORD, "new": NEW, "repeat": NEW, "csrf": csrf}
    resp = client.post("/account/password?lang=en", data=form, headers=HTML)
    assert resp.status_code == 200
    assert "Your password was changed" in resp.text and "1 other sessions ended" in resp.text
    assert client.get("/api/auth/me").status_code == 200
    assert client.get("/api/auth/me", headers=elsewhere).status_code == 401
    old = client.post("/api/auth/login", json={"email": world.family_a.email, "password": PASSWORD})
    assert old.status_code == 401
    assert (
        client.post(
            "/api/auth/login", json={"email": world.family_a.email, "password": NEW}
        ).status_code
        == 200
    )


def test_api_password_change_and_sessions(client: TestClient, world: World) -> None:
    mine = bearer(client, world.doctor_b.email)
    other = bearer(client, world.doctor_b.email)
    wrong = client.post(
        "/api/auth/password", headers=mine, json={"current_password": "nope", "new_password": NEW}
    )
    assert wrong.status_code == 422 and "current password" in wrong.json()["detail"]
    done = client.post(
        "/api/auth/password", headers=mine, json={"current_password": PASSWORD, "new_password": NEW}
    )
    assert done.status_code == 200 and done.json() == {"other_sessions_ended": 1}
    assert client.get("/api/auth/me", headers=other).status_code == 401
    assert client.get("/api/auth/me", headers=mine).status_code == 200


def test_api_session_delete_is_own_only(client: TestClient, world: World) -> None:
    mine = bearer(client, world.family_a.email)
    theirs = bearer(client, world.family_b.email)
    their_id = client.get("/api/auth/sessions", headers=theirs).json()[0]["id"]
    assert client.delete(f"/api/auth/sessions/{their_id}", headers=mine).status_code == 404
    assert client.get("/api/auth/me", headers=theirs).status_code == 200
    assert client.delete(f"/api/auth/sessions/{their_id}", headers=theirs).status_code == 204
    assert client.get("/api/auth/me", headers=theirs).status_code == 401


def test_last_seen_is_written_at_most_once_a_minute(
    client: TestClient, world: World, rt: Runtime
) -> None:
    headers = bearer(client, world.family_a.email)
    with rt.db.session() as db:
        row = db.scalars(select(UserSession).where(UserSession.user_id == world.family_a.id)).one()
        first = row.last_seen_at
        assert first is not None
    client.get("/api/auth/me", headers=headers)
    with rt.db.session() as db:
        row = db.scalars(select(UserSession).where(UserSession.user_id == world.family_a.id)).one()
        assert row.last_seen_at == first  # within the minute: no write
        row.last_seen_at = utcnow() - timedelta(minutes=5)
    client.get("/api/auth/me", headers=headers)
    with rt.db.session() as db:
        row = db.scalars(select(UserSession).where(UserSession.user_id == world.family_a.id)).one()
        assert row.last_seen_at is not None
        assert utcnow() - row.last_seen_at < timedelta(minutes=1)


def test_a_deactivated_user_is_logged_out_at_once(
    client: TestClient, world: World, rt: Runtime
) -> None:
    page_login(client, world.family_a.email)
    headers = bearer(client, world.family_a.email)
    with rt.db.session() as db:
        user = db.get(User, world.family_a.id)
        assert user is not None
        user.is_active = False
        user.deactivated_at = utcnow()
        end_all_sessions(db, user.id)
    assert client.get("/api/auth/me", headers=headers).status_code == 401
    resp = client.get("/account", headers=HTML, follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"].startswith("/login")


def test_a_reset_asked_for_an_address_with_control_characters_is_answered_like_any(
    client: TestClient,
) -> None:
    # PostgreSQL refuses NUL in text: the fuzzer's "\x00" once made this a 500.
    for email in ("a\x00@example.org", "x\n@example.org"):
        resp = client.post("/api/auth/password-reset", json={"email": email})
        assert resp.status_code == 202, resp.text
        page = client.post("/forgot-password", data={"email": email})
        assert page.status_code < 500
