"""Health, OpenAPI, log-in, settings and the JSON shape of every error."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from server.core.config import Environment, Settings
from server.runtime import Runtime
from tests.conftest import bearer
from tests.support.world import PASSWORD, World


def test_healthz_reports_the_database(client: TestClient, rt: Runtime) -> None:
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.json()["status"] == "ok"
    assert resp.json()["database"] == rt.db.engine.dialect.name


def test_healthz_is_503_when_the_database_is_gone(tmp_path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/missing/dir/x.sqlite3")
    from server.app import create_app

    with TestClient(create_app(settings)) as client:
        resp = client.get("/healthz")
    assert resp.status_code == 503
    assert resp.json()["database"] == "down"


def test_openapi_lists_the_api(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    for path in ("/api/auth/login", "/api/elders", "/api/pairing/requests", "/api/pairing/claim"):
        assert path in doc["paths"]


def test_login_gives_a_working_bearer_token(client: TestClient, world: World) -> None:
    headers = bearer(client, world.family_a.email)
    me = client.get("/api/auth/me", headers=headers)
    assert me.status_code == 200
    assert me.json()["email"] == world.family_a.email
    assert me.json()["role"] == "family"


def test_login_is_case_insensitive_on_email(client: TestClient, world: World) -> None:
    resp = client.post(
        "/api/auth/login", json={"email": world.family_a.email.upper(), "password": PASSWORD}
    )
    assert resp.status_code == 200


def test_wrong_password_is_401_with_a_message(client: TestClient, world: World) -> None:
    resp = client.post("/api/auth/login", json={"email": world.family_a.email, "password": "nope"})
    assert resp.status_code == 401
    assert resp.json() == {"detail": "wrong e-mail or password", "code": "unauthorized"}


def test_logout_ends_the_token(client: TestClient, world: World) -> None:
    headers = bearer(client, world.family_a.email)
    assert client.post("/api/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/auth/me", headers=headers).status_code == 401


def test_login_guessing_is_rate_limited(client: TestClient, world: World, rt: Runtime) -> None:
    body = {"email": world.family_a.email, "password": "guess"}
    codes = [client.post("/api/auth/login", json=body).status_code for _ in range(12)]
    assert (
        codes[: rt.settings.login_attempts_per_minute]
        == [401] * rt.settings.login_attempts_per_minute
    )
    assert codes[-1] == 429
    limited = client.post("/api/auth/login", json={**body, "password": PASSWORD})
    assert limited.status_code == 429, "even the right password waits out the lock"
    assert "try again" in limited.json()["detail"]
    assert int(limited.headers["retry-after"]) >= 1
    other = client.post(
        "/api/auth/login", json={"email": world.family_b.email, "password": PASSWORD}
    )
    assert other.status_code == 200, "other accounts are not locked"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({}, "email"),
        ({"email": "a@b.c"}, "password"),
        ({"email": "a@b.c", "password": "x", "extra": 1}, "extra"),
        ({"email": 5, "password": "x"}, "email"),
        ([1, 2], "body"),
    ],
)
def test_bad_login_bodies_are_422_with_a_reason(client: TestClient, body, fragment: str) -> None:
    resp = client.post("/api/auth/login", json=body)
    assert resp.status_code == 422
    assert fragment in resp.json()["detail"]


def test_non_json_body_is_a_4xx_not_a_500(client: TestClient) -> None:
    resp = client.post(
        "/api/auth/login",
        content=b"\xff\xfe not json",
        headers={"content-type": "application/json"},
    )
    assert resp.status_code == 400
    assert resp.json()["detail"]


def test_unknown_route_is_a_json_404(client: TestClient) -> None:
    resp = client.get("/api/nothing-here")
    assert resp.status_code == 404
    assert resp.json()["detail"]


def test_no_token_is_401_with_a_hint(client: TestClient) -> None:
    resp = client.get("/api/elders")
    assert resp.status_code == 401
    assert "log in" in resp.json()["detail"]
    bad = client.get("/api/elders", headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401


def test_default_secret_is_refused_outside_development() -> None:
    with pytest.raises(ValidationError, match="ANXIN_SECRET_KEY"):
        Settings(env=Environment.PRODUCTION)
    with pytest.raises(ValidationError, match="32 characters"):
        Settings(env=Environment.PRODUCTION, secret_key="short")
    ok = Settings(env=Environment.PRODUCTION, secret_key="x" * 40)
    assert ok.secret_key == "x" * 40


def test_settings_come_from_anxin_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("ANXIN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ANXIN_SESSION_HOURS", "2")
    settings = Settings()
    assert settings.session_hours == 2
    assert settings.sqlalchemy_url == f"sqlite:///{tmp_path.resolve()}/anxin.sqlite3"
