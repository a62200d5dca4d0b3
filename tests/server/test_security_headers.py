"""Every HTTP response carries the security headers: pages, API, static files, errors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from server.app import create_app
from server.runtime import Runtime
from server.security_headers import API_CSP, DOCS_CSP, PAGE_CSP
from tests.conftest import bearer
from tests.support.world import PASSWORD, World

COMMON = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}


def assert_hardened(resp, csp: str) -> None:  # type: ignore[no-untyped-def]
    where = f"{resp.request.method} {resp.request.url.path} -> {resp.status_code}"
    for name, value in COMMON.items():
        assert resp.headers.get(name) == value, (where, name, resp.headers.get(name))
    policy = resp.headers.get("permissions-policy", "")
    assert "camera=(self)" in policy and "microphone=(self)" in policy, where
    assert "geolocation=()" in policy, where
    assert resp.headers.get("content-security-policy") == csp, where
    assert "frame-ancestors 'none'" in csp


def test_page_policy_is_strict() -> None:
    directives = dict(d.strip().split(" ", 1) for d in PAGE_CSP.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert "unsafe" not in PAGE_CSP and "data:" not in PAGE_CSP and "*" not in PAGE_CSP
    assert directives["object-src"] == "'none'" and directives["base-uri"] == "'none'"
    assert directives["frame-ancestors"] == "'none'" and directives["form-action"] == "'self'"


def test_pages_and_their_errors(client: TestClient, world: World) -> None:
    html = {"accept": "text/html"}
    assert_hardened(client.get("/login", headers=html), PAGE_CSP)
    redirect = client.get("/family", headers=html, follow_redirects=False)
    assert redirect.status_code == 303
    assert_hardened(redirect, API_CSP)  # no body a browser would render
    form = {"email": world.family_a.email, "password": "wrong"}
    failed = client.post("/login", data=form, headers=html)
    assert failed.status_code == 401
    assert_hardened(failed, PAGE_CSP)
    form["password"] = PASSWORD
    assert_hardened(client.post("/login", data=form, follow_redirects=False), API_CSP)
    assert_hardened(client.get("/family", headers=html), PAGE_CSP)
    not_yours = client.get(f"/family/call/{world.elder_b.id}", headers=html)
    assert not_yours.status_code in (403, 404) and "text/html" in not_yours.headers["content-type"]
    assert_hardened(not_yours, PAGE_CSP)
    forged = client.post("/family/pair", data={"code": "123456", "csrf": "x"}, headers=html)
    assert forged.status_code == 403
    assert_hardened(forged, PAGE_CSP)


def test_api_static_and_errors(client: TestClient, world: World) -> None:
    auth = bearer(client, world.family_a.email)
    checks = [
        client.get("/healthz"),
        client.get("/api/elders", headers=auth),
        client.get("/api/elders"),  # 401
        client.get(f"/api/elders/{world.elder_b.id}", headers=auth),  # not theirs
        client.get("/api/elders/not-a-number", headers=auth),  # 422
        client.post("/api/auth/login", json={"email": 1}),  # 422
        client.get("/no/such/path"),  # 404
        client.options("/api/elders"),  # 405
        client.get("/openapi.json"),
        client.get("/static/live.js"),
        client.get("/static/app.css"),
        client.get("/static/favicon.svg"),
        client.get("/static/missing.js"),
    ]
    for resp in checks:
        assert_hardened(resp, API_CSP)
    assert {r.status_code for r in checks} >= {200, 401, 404, 405, 422}
    assert_hardened(client.get("/docs"), DOCS_CSP)


@pytest.fixture
def failing_client(rt: Runtime) -> Iterator[TestClient]:
    """The app with one route that fails unexpectedly."""
    app = create_app(runtime=rt)

    @app.get("/api/test-only/boom")
    def boom() -> None:
        raise RuntimeError("a bug")

    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.mark.expect_error_log("^unhandled error on GET /api/test-only/boom$")
def test_an_unexpected_500_carries_them_too(failing_client: TestClient) -> None:
    resp = failing_client.get("/api/test-only/boom")
    assert resp.status_code == 500
    assert_hardened(resp, API_CSP)


def test_sockets_are_left_alone(client: TestClient) -> None:
    # A WebSocket handshake is not an HTTP response the middleware may touch.
    with client.websocket_connect("/ws/web") as ws:
        ws.send_text('{"type": "hello", "client": "web"}')
        assert "error" in ws.receive_text()
